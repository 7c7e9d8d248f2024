// `streamforge exchange-sim`: a local Binance-compatible exchange for demos, tests and benchmarks.
// Parses flags only; the simulator lives in exchange/sim/.
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
  return [o] {
    o->sim.extra_symbols = split_list(o->symbols);
    return exchange::sim::run_exchange_sim(o->sim);
  };
}

}  // namespace sf::cli
