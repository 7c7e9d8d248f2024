// One REST call to the exchange the way every loader makes it: admitted by the weight budget, retried when
// the failure is transient, counted. Internal to src/services/loaders/.
//
// Retry policy, per call (every failed attempt counts against max_attempts):
//   200 whose body does not parse (truncated JSON) -> retried like a 5xx ("malformed")
//   5xx, 504, transport failures (reset, refused, timeout) -> jittered exponential backoff:
//       attempt n waits uniform[d/2, d] with d = min(max_backoff, initial_backoff * 2^(n-1))
//   429 -> the whole budget pauses for Retry-After (the next window when absent), counted as a 429
//   418 -> likewise, counted as a 418; a Retry-After beyond max_retry_after ends the job (a long ban)
//   other 4xx (bad symbol, bad range) -> no retry: the error carries the exchange's message
// After max_attempts the call fails with the last error, naming the request and the attempts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/status.h"
#include "exchange/binance_rest.h"
#include "services/loaders/weight_budget.h"

namespace prometheus {
class Counter;
}

namespace sf::services::loaders {

struct RetryOptions {
  int max_attempts = 10;                           // attempts per call, the first included
  std::chrono::milliseconds initial_backoff{200};  // backoff before the 2nd attempt (then doubling)
  std::chrono::milliseconds max_backoff{30'000};   // cap of one backoff
  std::chrono::seconds max_retry_after{600};       // a longer Retry-After (429/418) ends the job
};

// What a loader's calls did. Plain counters; the requester is single-threaded.
struct RequestStats {
  int64_t requests = 0;          // HTTP requests sent (answered or not)
  int64_t weight = 0;            // request weight of the answered ones (the endpoints' documented weights)
  int64_t rate_limited = 0;      // 429 answers
  int64_t banned = 0;            // 418 answers
  int64_t retries = 0;           // attempts after a failure (any cause)
  int64_t malformed = 0;         // 200 answers whose body did not parse
  int64_t server_errors = 0;     // 5xx answers
  int64_t transport_errors = 0;  // no answer: connection refused/reset/closed, timeout
};

// Binance's documented weights of the endpoints the loaders use (spot, 2024).
inline constexpr int kExchangeInfoWeight = 20;
inline constexpr int kKlinesWeight = 2;
inline constexpr int kAggTradesWeight = 4;
inline constexpr int kHistoricalTradesWeight = 25;

// Not thread-safe: one per loader run.
class RestRequester {
 public:
  // `budget` must outlive the requester. `metrics` may be null (counters streamforge_loader_*_total, labelled
  // loader="api").
  RestRequester(WeightBudget& budget, RetryOptions retry, std::stop_token stop,
                const std::shared_ptr<MetricsRegistry>& metrics);

  // Sends `send` until it succeeds and `parse` accepts the body, per the policy above. `what` names the
  // request in errors ("klines from 2024-08-01T00:00:00.000Z"). Cancelled when stopped while waiting.
  Status call(std::string_view what, int weight, const std::function<exchange::BinanceResponse()>& send,
              const std::function<Status(const exchange::BinanceResponse&)>& parse);

  const RequestStats& stats() const { return stats_; }
  void count_records(int64_t n);

 private:
  bool backoff(int attempt);

  WeightBudget& budget_;
  RetryOptions retry_;
  std::stop_token stop_;
  RequestStats stats_;
  std::mt19937_64 rng_;
  struct Counters {
    prometheus::Counter* requests = nullptr;
    prometheus::Counter* weight = nullptr;
    prometheus::Counter* rate_limited = nullptr;
    prometheus::Counter* banned = nullptr;
    prometheus::Counter* retries = nullptr;
    prometheus::Counter* records = nullptr;
  } counters_;
};

}  // namespace sf::services::loaders
