// The depth loaders' hot path on the simulator's own diff depth events (BTCUSDT, @depth@100ms, 1000 levels
// per side): parsing a depthUpdate frame, applying it to the local order book, and the whole ws_orderbook
// path (parse + sequence checks + apply + a top-20 book document every second of exchange time).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "exchange/sim/market_data.h"
#include "exchange/sim/order_book.h"
#include "exchange/sim/symbols.h"
#include "exchange/sim/ws/depth_stream.h"
#include "services/loaders/ws/depth_follower.h"

namespace {

namespace sim = sf::exchange::sim;
namespace loaders = sf::services::loaders;

constexpr int64_t kStart = 1722556800000;  // 2024-08-02T00:00:00Z
constexpr int kEvents = 3000;              // five minutes of @depth@100ms

struct Fixture {
  sim::SymbolTable table;
  sim::SimMarket market{table};
  std::string snapshot;             // /api/v3/depth body at kStart
  std::vector<std::string> frames;  // the stream's events after it, in order
  std::vector<loaders::DepthUpdate> parsed;

  Fixture() {
    const sim::SymbolMarket& m = *market.find("BTCUSDT");
    sim::OrderBook book;
    sim::order_book_at(m, sim::last_depth_slot(m.spec(), kStart), book);
    snapshot = "{\"lastUpdateId\":" + std::to_string(book.last_update_id) + ",\"bids\":";
    sim::append_levels_json(snapshot, m, book.bids);
    snapshot += ",\"asks\":";
    sim::append_levels_json(snapshot, m, book.asks);
    snapshot += '}';
    sim::ws::DepthStream stream(m, 100, kStart);
    for (int64_t t = kStart + 100; frames.size() < kEvents; t += 100) stream.produce(t, frames, {});
    loaders::DepthParser parser;
    parsed.resize(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) (void)parser.parse_update(frames[i], parsed[i]);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_ParseDepthUpdate(benchmark::State& state) {
  const Fixture& f = fixture();
  loaders::DepthParser parser;
  loaders::DepthUpdate u;
  size_t i = 0, levels = 0;
  for (auto _ : state) {
    if (!parser.parse_update(f.frames[i], u)) state.SkipWithError("parse");
    levels += u.bids.size() + u.asks.size();
    i = (i + 1) % f.frames.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["levels/event"] = static_cast<double>(levels) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ParseDepthUpdate);

// Pre-parsed events applied in order to a book loaded from the snapshot (reloaded every pass, untimed).
void BM_ApplyToLocalBook(benchmark::State& state) {
  const Fixture& f = fixture();
  loaders::DepthParser parser;
  loaders::DepthSnapshot snapshot;
  (void)parser.parse_snapshot(f.snapshot, snapshot);
  loaders::LocalOrderBook book;
  size_t i = f.parsed.size();
  for (auto _ : state) {
    if (i == f.parsed.size()) {
      state.PauseTiming();
      book.reset(snapshot);
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(book.apply(f.parsed[i++]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ApplyToLocalBook);

// ws_orderbook end to end inside the loader: frame -> parse -> sync -> apply -> book documents.
void BM_OrderBookFollower(benchmark::State& state) {
  const Fixture& f = fixture();
  loaders::DepthFollowerOptions o;
  o.keep_book = true;
  size_t documents = 0;
  for (auto _ : state) {
    state.PauseTiming();
    loaders::DepthFollower follower("BTCUSDT", o, [&](int64_t, std::string_view) { ++documents; });
    int64_t e = 0;
    (void)follower.on_frame(f.frames[0], e);
    (void)follower.on_snapshot(f.snapshot);
    state.ResumeTiming();
    for (size_t i = 1; i < f.frames.size(); ++i) (void)follower.on_frame(f.frames[i], e);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (f.frames.size() - 1)));
  state.counters["books/pass"] = static_cast<double>(documents) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_OrderBookFollower)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
