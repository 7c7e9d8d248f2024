// exchange-sim throughput: how fast the generator produces Binance JSON (candles, aggregate trades), in
// process and over HTTP on 127.0.0.1. Target: >= 1,000,000 candles/s of JSON for a 10 symbols x 1 year
// backfill of 1m candles. Run a Release build:
//   build/release/bench/exchange_bench   (or <build>/src/exchange/exchange_bench)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "exchange/binance_rest.h"
#include "exchange/sim/exchange_sim.h"
#include "exchange/sim/market_data.h"

namespace {

using namespace sf::exchange::sim;

constexpr int64_t kYearStart = 1690848000000;  // 2023-08-01
constexpr int64_t kYearMs = 365LL * 86'400'000;
constexpr int64_t kNow = kYearStart + kYearMs;
const char* kSymbols[] = {"BTCUSDT",  "ETHUSDT", "BNBUSDT", "SOLUSDT",  "XRPUSDT",
                          "DOGEUSDT", "ADAUSDT", "TRXUSDT", "LINKUSDT", "LTCUSDT"};

const SimMarket& market() {
  static const SymbolTable table;
  static const SimMarket m(table);
  return m;
}

// Pages of 1000 candles as the klines endpoint builds them (generation + JSON body).
int64_t page_json(const SymbolMarket& sm, Interval iv, int64_t start, std::string& body, size_t& bytes) {
  KlineQuery q;
  q.interval = iv;
  q.start_time = start;
  q.limit = 1000;
  auto ks = sm.klines(q, kNow);
  body.clear();
  body += '[';
  for (size_t i = 0; i < ks.size(); ++i) {
    if (i > 0) body += ',';
    sm.append_kline_json(body, ks[i]);
  }
  body += ']';
  bytes += body.size();
  return static_cast<int64_t>(ks.size());
}

// The backfill of the target: 10 symbols x one year of 1m candles (5.26 M candles), JSON included.
void BM_Backfill1mTenSymbolsOneYear(benchmark::State& state) {
  std::string body;
  body.reserve(200'000);
  int64_t candles = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const char* s : kSymbols) {
      const SymbolMarket& sm = *market().find(s);
      for (int64_t t = kYearStart; t < kNow; t += 1000 * kMinuteMs)
        candles += page_json(sm, Interval::k1m, t, body, bytes);
    }
  }
  state.counters["candles/s"] = benchmark::Counter(static_cast<double>(candles), benchmark::Counter::kIsRate);
  state.counters["candles"] = static_cast<double>(candles) / static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Backfill1mTenSymbolsOneYear)->Unit(benchmark::kMillisecond)->Iterations(1);

// One interval, pages of 1000 candles from random places of the year.
void BM_KlinesJson(benchmark::State& state) {
  auto iv = static_cast<Interval>(state.range(0));
  const SymbolMarket& sm = *market().find("BTCUSDT");
  std::string body;
  int64_t candles = 0;
  size_t bytes = 0;
  uint64_t x = 7;
  for (auto _ : state) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t start = kYearStart + static_cast<int64_t>((x >> 33) % static_cast<uint64_t>(kYearMs / 2));
    candles += page_json(sm, iv, start, body, bytes);
  }
  state.SetLabel(std::string(interval_name(iv)));
  state.counters["candles/s"] = benchmark::Counter(static_cast<double>(candles), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_KlinesJson)
    ->Arg(static_cast<int>(Interval::k1s))
    ->Arg(static_cast<int>(Interval::k1m))
    ->Arg(static_cast<int>(Interval::k5m))
    ->Arg(static_cast<int>(Interval::k1h))
    ->Arg(static_cast<int>(Interval::k1d))
    ->Unit(benchmark::kMicrosecond);

// Aggregate trades by fromId, 1000 per page, JSON included.
void BM_AggTradesJson(benchmark::State& state) {
  const SymbolMarket& sm = *market().find("BTCUSDT");
  int64_t id = sm.agg_trades_before(kYearStart + kYearMs / 2, kNow);
  std::string body;
  int64_t n = 0;
  for (auto _ : state) {
    auto trades = sm.agg_trades_from_id(id, 1000, kNow);
    body.clear();
    for (const auto& a : trades) sm.append_agg_trade_json(body, a);
    id += static_cast<int64_t>(trades.size());
    n += static_cast<int64_t>(trades.size());
  }
  state.counters["aggTrades/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AggTradesJson)->Unit(benchmark::kMicrosecond);

// Random access: the id of the first trade at a random time, and back.
void BM_TradeIdLookup(benchmark::State& state) {
  const SymbolMarket& sm = *market().find("BTCUSDT");
  uint64_t x = 11;
  for (auto _ : state) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t t = kYearStart + static_cast<int64_t>((x >> 33) % static_cast<uint64_t>(kYearMs));
    benchmark::DoNotOptimize(sm.trades_before(t, kNow));
  }
}
BENCHMARK(BM_TradeIdLookup)->Unit(benchmark::kMicrosecond);

// The same klines pages over HTTP on 127.0.0.1 through BinanceRestClient (one keep-alive connection).
void BM_KlinesOverHttp(benchmark::State& state) {
  ExchangeSimOptions opts;
  opts.listen = "127.0.0.1:0";
  opts.rate_limit.weight_limit = 1 << 30;
  opts.clock = [] { return kNow; };
  ExchangeSim sim(opts);
  if (!sim.start()) {
    state.SkipWithError("cannot start the simulator");
    return;
  }
  sf::exchange::BinanceRestOptions ro;
  ro.base_url = sim.base_url();
  auto client = sf::value_or_throw(sf::exchange::BinanceRestClient::create(ro));
  int64_t candles = 0;
  int64_t t = kYearStart;
  size_t bytes = 0;
  for (auto _ : state) {
    auto res = client->get_klines("BTCUSDT", "1m", t, std::nullopt, 1000);
    if (!res.ok()) {
      state.SkipWithError(res.status.to_string().c_str());
      break;
    }
    bytes += res.body.size();
    candles += 1000;
    t += 1000 * kMinuteMs;
    if (t >= kNow - 1000 * kMinuteMs) t = kYearStart;
  }
  state.counters["candles/s"] = benchmark::Counter(static_cast<double>(candles), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_KlinesOverHttp)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
