// Store benchmarks on the RocksDB backend: batch upsert of kline documents (fresh, replayed, changed),
// point get and range scan. Build Release; run e.g. `store_bench --benchmark_min_time=3`.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "store/store.h"

namespace {

using sf::store::Store;
using sf::store::UpsertMode;

constexpr int kBatchSize = 1000;
constexpr int64_t kFirstOpenTime = 1502942400000;  // 2017-08-17, Binance's first BTCUSDT candle
constexpr int64_t kInterval = 60000;               // 1m candles

// A realistic Binance 1m candle as the arango-connector writes it (~350 bytes).
std::string candle(int64_t index, std::string_view close = "64523.10000000") {
  const int64_t open_time = kFirstOpenTime + index * kInterval;
  return fmt::format(
      R"({{"_key":"{0}","open_time":{0},"open":"64500.00000000","high":"64600.50000000",)"
      R"("low":"64480.20000000","close":"{1}","volume":"123.45678000","close_time":{2},)"
      R"("quote_asset_volume":"7965432.12345678","number_of_trades":4321,)"
      R"("taker_buy_base_asset_volume":"61.72839000","taker_buy_quote_asset_volume":"3982716.06172839",)"
      R"("symbol":"BTCUSDT","interval":"1m"}})",
      open_time, close, open_time + kInterval - 1);
}

std::vector<std::string> batch(int64_t first_index, std::string_view close = "64523.10000000") {
  std::vector<std::string> docs;
  docs.reserve(kBatchSize);
  for (int i = 0; i < kBatchSize; ++i) docs.push_back(candle(first_index + i, close));
  return docs;
}

// A store in a fresh temporary directory, removed afterwards.
class BenchStore {
 public:
  BenchStore() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sf_store_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    sf::store::RocksDbStoreOptions options;
    options.path = dir_;
    store_ = sf::value_or_throw(sf::store::open_rocksdb_store(options));
  }
  ~BenchStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Store& operator*() { return *store_; }
  Store* operator->() { return store_.get(); }

  // Writes `batches` batches of fresh candles starting at index 0.
  void fill(int batches) {
    for (int b = 0; b < batches; ++b)
      sf::value_or_throw(store_->upsert("klines", batch(int64_t{b} * kBatchSize)));
  }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

void check(const sf::Result<sf::store::UpsertResult>& r, benchmark::State& state) {
  if (!r) state.SkipWithError(r.status().to_string().c_str());
}

// New candles, 1000 per batch, keys past the end (the connector's steady state).
void BM_UpsertFresh(benchmark::State& state) {
  BenchStore store;
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto docs = batch(next);
    next += kBatchSize;
    state.ResumeTiming();
    check(store->upsert("klines", docs, UpsertMode::kUpdate), state);
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
BENCHMARK(BM_UpsertFresh)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with Durability::kDeferred (no write-ahead log; the connector's default) and a persist() every
// 500 batches (500k documents, the connector's order of magnitude), included in the time.
void BM_UpsertFreshDeferred(benchmark::State& state) {
  BenchStore store;
  int64_t next = 0;
  int batches = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto docs = batch(next);
    std::vector<std::string_view> views(docs.begin(), docs.end());
    next += kBatchSize;
    state.ResumeTiming();
    check(store->upsert("klines", views,
                        sf::store::UpsertOptions{.durability = sf::store::Durability::kDeferred}),
          state);
    if (++batches % 500 == 0) {
      if (sf::Status s = store->persist("klines"); !s) state.SkipWithError(s.to_string().c_str());
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
BENCHMARK(BM_UpsertFreshDeferred)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same batches again (at-least-once redelivery): every document is unchanged.
void BM_UpsertReplay(benchmark::State& state) {
  constexpr int kBatches = 200;
  BenchStore store;
  store.fill(kBatches);
  std::vector<std::vector<std::string>> batches;
  for (int b = 0; b < kBatches; ++b) batches.push_back(batch(int64_t{b} * kBatchSize));
  size_t i = 0;
  for (auto _ : state) {
    auto r = store->upsert("klines", batches[i++ % kBatches], UpsertMode::kUpdate);
    check(r, state);
    if (r && r->unchanged != kBatchSize) state.SkipWithError("replay was not a no-op");
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
BENCHMARK(BM_UpsertReplay)->Unit(benchmark::kMillisecond)->UseRealTime();

// Existing candles whose close changed (a live candle updated): the merge path.
void BM_UpsertChanged(benchmark::State& state) {
  constexpr int kBatches = 200;
  BenchStore store;
  store.fill(kBatches);
  std::vector<std::vector<std::string>> batches;
  for (int b = 0; b < kBatches; ++b) {
    batches.push_back(batch(int64_t{b} * kBatchSize, "64999.00000000"));
    batches.push_back(batch(int64_t{b} * kBatchSize, "64111.00000000"));
  }
  size_t i = 0;
  for (auto _ : state) {
    check(store->upsert("klines", batches[i++ % batches.size()], UpsertMode::kUpdate), state);
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
BENCHMARK(BM_UpsertChanged)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same, replacing instead of merging.
void BM_UpsertChangedReplace(benchmark::State& state) {
  constexpr int kBatches = 200;
  BenchStore store;
  store.fill(kBatches);
  std::vector<std::vector<std::string>> batches;
  for (int b = 0; b < kBatches; ++b) {
    batches.push_back(batch(int64_t{b} * kBatchSize, "64999.00000000"));
    batches.push_back(batch(int64_t{b} * kBatchSize, "64111.00000000"));
  }
  size_t i = 0;
  for (auto _ : state) {
    check(store->upsert("klines", batches[i++ % batches.size()], UpsertMode::kReplace), state);
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
BENCHMARK(BM_UpsertChangedReplace)->Unit(benchmark::kMillisecond)->UseRealTime();

// Random point reads over 1M candles, flushed to table files.
void BM_Get(benchmark::State& state) {
  constexpr int kBatches = 1000;
  BenchStore store;
  store.fill(kBatches);
  (void)store->flush();
  std::mt19937_64 rng(1);
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) {
    keys.push_back(
        std::to_string(kFirstOpenTime + static_cast<int64_t>(rng() % (kBatches * kBatchSize)) * kInterval));
  }
  size_t i = 0;
  for (auto _ : state) {
    auto doc = store->get("klines", keys[i++ % keys.size()]);
    if (!doc || !doc->has_value()) state.SkipWithError("missing document");
    benchmark::DoNotOptimize(doc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Get)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A day of 1m candles (1440 documents) from a random start, as `query --from --to` reads them.
void BM_ScanRange(benchmark::State& state) {
  constexpr int kBatches = 1000;
  constexpr int64_t kRange = 1440;
  BenchStore store;
  store.fill(kBatches);
  (void)store->flush();
  std::mt19937_64 rng(2);
  int64_t visited = 0;
  for (auto _ : state) {
    const int64_t first = static_cast<int64_t>(rng() % (kBatches * kBatchSize - kRange));
    sf::store::ScanOptions options;
    options.from_key = std::to_string(kFirstOpenTime + first * kInterval);
    options.to_key = std::to_string(kFirstOpenTime + (first + kRange) * kInterval);
    size_t bytes = 0;
    sf::Status s = store->scan("klines", options, [&](std::string_view, std::string_view doc) {
      bytes += doc.size();
      ++visited;
      return true;
    });
    if (!s) state.SkipWithError(s.to_string().c_str());
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(visited);
}
BENCHMARK(BM_ScanRange)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
