// Fault injection for the simulated exchange: latency, 5xx answers, malformed 200 bodies, dropped
// connections. Decisions come from one seeded generator, so a run with the same seed and the same request
// order misbehaves the same way.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "exchange/sim/api_errors.h"

namespace sf::exchange::sim {

struct FaultOptions {
  int latency_ms = 0;         // added before every answer (and before a drop)
  double error_rate = 0;      // share of requests answered 500/503/504 with a Binance {code,msg} body
  double malformed_rate = 0;  // share of successful answers whose JSON body is truncated (still 200)
  double drop_rate = 0;       // share of requests whose connection is closed without an answer
  uint64_t seed = 1;          // of the fault generator
};

class FaultInjector {
 public:
  enum class Kind { kNone, kDrop, kError, kMalformed };
  struct Plan {
    Kind kind = Kind::kNone;
    int latency_ms = 0;
    ApiError error;  // for kError
    double cut = 0;  // for kMalformed: keep this fraction of the body (< 1)
  };

  explicit FaultInjector(FaultOptions options = {}) { set(options); }

  // The fault for the next request. Thread-safe.
  Plan next();
  // Replaces the options and reseeds the generator.
  void set(const FaultOptions& options);
  FaultOptions options() const;

  // Truncates a JSON body so that it no longer parses (an empty body for a cut at 0).
  static std::string malform(const std::string& body, double cut);

 private:
  mutable std::mutex mu_;
  FaultOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace sf::exchange::sim
