// `streamforge exchange-sim`: a local Binance-compatible exchange on one HTTP listener. REST under
// /api/v3/, the public data dumps' file tree under /data/ (bulk_files.h), Binance's WebSocket market
// streams under /ws/ and /stream (ws/stream_server.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "exchange/sim/bulk_files.h"
#include "exchange/sim/faults.h"
#include "exchange/sim/market_data.h"
#include "exchange/sim/rate_limiter.h"
#include "exchange/sim/symbols.h"
#include "exchange/sim/ws/stream_server.h"
#include "net/http_server.h"

namespace sf::exchange::sim {

struct ExchangeSimOptions {
  std::string listen = "127.0.0.1:9900";   // port 0 picks a free port
  int threads = 2;                         // HTTP server threads
  RateLimitOptions rate_limit;             // weight_limit 6000 per IP per minute
  FaultOptions faults;                     // none by default
  std::vector<std::string> extra_symbols;  // served besides the built-in list (quote asset from the suffix)
  double activity = 1;  // x every symbol's trades and volume per day: a busier market on the same clock
  int64_t agg_trades_max_window_ms = 0;  // 0: Binance's current rule (no limit); 3'600'000: the old 1 h rule
  std::function<int64_t()> clock;        // ms since the epoch; default: the system clock
  BulkFileOptions bulk;                  // the /data/ file tree: cache directory (default: a temporary one)
  StreamServerOptions streams;           // the WebSocket market streams under /ws/ and /stream
};

// Thread-safe: the setters may be called while serving.
class ExchangeSim {
 public:
  explicit ExchangeSim(ExchangeSimOptions options);
  ~ExchangeSim();
  ExchangeSim(const ExchangeSim&) = delete;
  ExchangeSim& operator=(const ExchangeSim&) = delete;

  // Binds and starts serving; returns the bound "host:port".
  Result<std::string> start();
  void stop();

  const std::string& address() const;  // "127.0.0.1:40123"
  std::string base_url() const;        // "http://127.0.0.1:40123"

  void set_faults(const FaultOptions& faults);
  void set_weight_limit(int limit);
  void set_bulk_faults(const BulkFaults& faults);
  int64_t now_ms() const;

  const SymbolTable& symbols() const;
  const SimMarket& market() const;
  // The listener, for the WebSocket and bulk-file sides to add their routes before start().
  net::HttpServer& server();
  // The WebSocket market streams (ws/stream_server.h), served on the same listener from start() on.
  StreamServer& streams();
  std::string ws_url() const;  // "ws://127.0.0.1:40123"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the simulator until SIGINT or SIGTERM: prints "listening on HOST:PORT" as the first line of `out`
// (flushed), serves, stops cleanly. Returns the process exit code.
int run_exchange_sim(ExchangeSimOptions options, std::FILE* out = stdout);

}  // namespace sf::exchange::sim
