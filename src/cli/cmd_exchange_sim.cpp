// `streamforge exchange-sim`: a local Binance-compatible exchange for demos, tests and benchmarks.
// Parses flags only; the simulator lives in exchange/sim/.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "exchange/sim/exchange_sim.h"

namespace sf::cli {
namespace {

struct ExchangeSimCommandOptions {
  exchange::sim::ExchangeSimOptions sim;  // listen 127.0.0.1:9900, weight limit 6000, no faults
  std::string symbols;                    // extra symbols, comma-separated
  std::string bulk_cache_dir;             // empty: a temporary directory
  double clock_rate = 1.0;                // exchange ms per real ms
  int64_t ws_ping_interval_ms = 20'000;
  int64_t ws_pong_timeout_ms = 60'000;
  int64_t ws_lifetime_ms = 24LL * 3'600'000;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace

CommandRunner setup_exchange_sim(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<ExchangeSimCommandOptions>();
  auto& sim = o->sim;
  bind_option(app, "--listen", sim.listen, "HOST:PORT to serve on; port 0 picks a free one (printed first)");
  bind_option(app, "--weight-limit", sim.rate_limit.weight_limit,
              "request weight per IP per minute (429 beyond)")
      ->check(CLI::Range(1, 1 << 30));
  bind_option(app, "--ban-after", sim.rate_limit.rejections_before_ban,
              "429s per minute a client may ignore before it is banned with 418")
      ->check(CLI::Range(0, 1 << 20));
  bind_option(app, "--latency-ms", sim.faults.latency_ms, "fault: delay every answer by this many ms")
      ->check(CLI::Range(0, 600'000));
  bind_option(app, "--error-rate", sim.faults.error_rate, "fault: share of requests answered 500/503/504")
      ->check(CLI::Range(0.0, 1.0));
  bind_option(app, "--malformed-rate", sim.faults.malformed_rate,
              "fault: share of 200 answers with truncated JSON")
      ->check(CLI::Range(0.0, 1.0));
  bind_option(app, "--drop-rate", sim.faults.drop_rate,
              "fault: share of requests whose connection is closed unanswered")
      ->check(CLI::Range(0.0, 1.0));
  bind_option(app, "--fault-seed", sim.faults.seed, "seed of the fault generator");
  bind_option(app, "--symbols", o->symbols, "extra symbols to serve, comma-separated (e.g. FOOUSDT,BARBTC)");
  bind_option(app, "--agg-trades-max-window-ms", sim.agg_trades_max_window_ms,
              "aggTrades: refuse startTime..endTime windows longer than this (0: no limit, as Binance today)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  bind_option(app, "--threads", sim.threads, "HTTP server threads")->check(CLI::Range(1, 64));
  bind_option(app, "--bulk-cache-dir", o->bulk_cache_dir,
              "dump files (/data/): where built zips are kept (default: a temporary directory, removed on exit)");
  bind_option(app, "--bulk-compression-level", sim.bulk.compression_level, "dump zips: deflate level")
      ->check(CLI::Range(1, 9));
  bind_switch(app, "--bulk-corrupt-zip", sim.bulk.faults.corrupt_zip,
              "fault: serve dump zips with bytes flipped (their CHECKSUM stays the good one)");
  bind_switch(app, "--bulk-wrong-checksum", sim.bulk.faults.wrong_checksum, "fault: CHECKSUM files name a wrong hash");
  bind_option(app, "--activity", sim.activity,
              "x every symbol's trades and volume per day: a busier market on the same clock (high message "
              "rates with real-time event times)")
      ->check(CLI::Range(0.001, 1e6));
  bind_option(app, "--clock-rate", o->clock_rate,
              "exchange milliseconds per real millisecond from the start (> 1: a faster market for tests)")
      ->check(CLI::Range(0.001, 1e6));
  auto& ws = sim.streams;
  bind_option(app, "--ws-ping-interval-ms", o->ws_ping_interval_ms, "WebSocket: ping every N ms (Binance: 20000)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  bind_option(app, "--ws-pong-timeout-ms", o->ws_pong_timeout_ms,
              "WebSocket: disconnect a client without pong for N ms (Binance: 60000)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  bind_option(app, "--ws-lifetime-ms", o->ws_lifetime_ms, "WebSocket: close connections after N ms (Binance: 24 h)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  bind_option(app, "--ws-max-streams", ws.max_streams, "WebSocket: streams per connection (Binance: 1024)")
      ->check(CLI::Range(1, 1 << 20));
  bind_option(app, "--ws-drop-rate", ws.faults.drop_rate,
              "fault: per connection and second, chance of an abrupt WebSocket drop")
      ->check(CLI::Range(0.0, 1000.0));
  bind_option(app, "--ws-stall-rate", ws.faults.stall_rate,
              "fault: per connection and second, chance of a stall (nothing sent for --ws-stall-ms)")
      ->check(CLI::Range(0.0, 1000.0));
  bind_option(app, "--ws-stall-ms", ws.faults.stall_ms, "fault: length of a stall")->check(CLI::Range(0, 3'600'000));
  bind_option(app, "--ws-malformed-rate", ws.faults.malformed_rate,
              "fault: share of WebSocket messages sent as truncated JSON")
      ->check(CLI::Range(0.0, 1.0));
  bind_option(app, "--ws-burst-ms", ws.faults.burst_ms, "fault: hold WebSocket events and send them in bursts N ms apart")
      ->check(CLI::Range(0, 3'600'000));
  bind_option(app, "--ws-depth-gap-rate", ws.faults.depth_gap_rate,
              "fault: share of depthUpdate events lost for every subscriber (a gap in the update ids)")
      ->check(CLI::Range(0.0, 1.0));
  return [o] {
    o->sim.extra_symbols = split_list(o->symbols);
    if (!o->bulk_cache_dir.empty()) o->sim.bulk.cache_dir = o->bulk_cache_dir;
    auto& streams = o->sim.streams;
    streams.ping_interval = std::chrono::milliseconds(o->ws_ping_interval_ms);
    streams.pong_timeout = std::chrono::milliseconds(o->ws_pong_timeout_ms);
    streams.lifetime = std::chrono::milliseconds(o->ws_lifetime_ms);
    if (o->clock_rate != 1.0) {
      // An accelerated exchange: REST and streams both see time run `rate` times faster from the start.
      const auto origin = std::chrono::system_clock::now();
      const double rate = o->clock_rate;
      o->sim.clock = [origin, rate] {
        const auto now = std::chrono::system_clock::now();
        const auto origin_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(origin.time_since_epoch()).count();
        const double elapsed = std::chrono::duration<double, std::milli>(now - origin).count();
        return origin_ms + static_cast<int64_t>(elapsed * rate);
      };
    }
    return exchange::sim::run_exchange_sim(o->sim);
  };
}

}  // namespace sf::cli
