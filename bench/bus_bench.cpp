// Embedded bus throughput: append and read of 150-byte records (16-byte key + 134-byte value) in batches of
// 1000, under each fsync policy. Build Release; run e.g.
//   build-bus-rel/bench/bus_bench --benchmark_min_time=2
// The data directory is created under $SF_BENCH_DIR (default: the system temp directory) and removed after.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bus/bus.h"

namespace {

using sf::bus::Bus;
using sf::bus::FetchBatch;
using sf::bus::FetchOptions;
using sf::bus::FsyncPolicy;
using sf::bus::OutgoingRecord;

constexpr int kBatch = 1000;
constexpr std::size_t kKeyBytes = 16;
constexpr std::size_t kValueBytes = 134;  // key + value = 150 bytes per record

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("SF_BENCH_DIR");
    std::string pattern =
        ((base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) /
         "sf-bus-bench-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// 1000 records with distinct keys ("BTCUSDT-00000042") and 134-byte JSON-ish values.
struct Records {
  std::vector<std::string> keys, values;
  std::vector<OutgoingRecord> records;
  explicit Records(int n) {
    for (int i = 0; i < n; ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "BTCUSDT-%08d", i % 100000000);
      keys.emplace_back(key, kKeyBytes);
      std::string value = R"({"p":"64000.10","q":"0.00100000","t":1722470400000,"i":)" + std::to_string(i);
      value.resize(kValueBytes, ' ');
      values.push_back(std::move(value));
    }
    for (int i = 0; i < n; ++i) {
      OutgoingRecord r;
      r.key = keys[i];
      r.value = values[i];
      records.push_back(r);
    }
  }
};

// Opens the bus; creates topic "bench" when partitions > 0.
std::unique_ptr<Bus> open_bus(const std::filesystem::path& dir, FsyncPolicy policy, int32_t partitions) {
  sf::bus::EmbeddedBusOptions options;
  options.dir = dir;
  options.fsync_policy = policy;
  auto bus = sf::bus::open_embedded_bus(options);
  if (!bus) {
    std::fprintf(stderr, "open: %s\n", bus.status().to_string().c_str());
    std::abort();
  }
  if (partitions > 0) {
    sf::bus::TopicConfig config;
    config.partitions = partitions;
    if (!(*bus)->create_topic("bench", config)) std::abort();
  }
  return std::move(*bus);
}

// range(0): fsync policy; range(1): partitions (records spread by key).
void BM_Append(benchmark::State& state) {
  const auto policy = static_cast<FsyncPolicy>(state.range(0));
  BenchDir dir;
  auto bus = open_bus(dir.path(), policy, static_cast<int32_t>(state.range(1)));
  Records batch(kBatch);
  for (auto _ : state) {
    auto result = bus->produce("bench", batch.records);
    if (!result) {
      state.SkipWithError(result.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(result->records.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch * static_cast<int64_t>(kKeyBytes + kValueBytes));
  state.SetLabel(std::string(sf::bus::fsync_policy_name(policy)));
  bus.reset();  // close (final fsync): after the timed loop, not measured
}
BENCHMARK(BM_Append)
    ->ArgNames({"policy", "partitions"})
    ->Args({static_cast<int>(FsyncPolicy::kEveryBatch), 1})
    ->Args({static_cast<int>(FsyncPolicy::kInterval), 1})
    ->Args({static_cast<int>(FsyncPolicy::kNone), 1})
    ->Args({static_cast<int>(FsyncPolicy::kInterval), 8})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Two producer threads on one bus (the machine has two cores).
void BM_AppendTwoThreads(benchmark::State& state) {
  static std::unique_ptr<BenchDir> dir;
  static std::unique_ptr<Bus> bus;
  if (state.thread_index() == 0) {
    dir = std::make_unique<BenchDir>();
    bus = open_bus(dir->path(), FsyncPolicy::kInterval, 2);
  }
  Records batch(kBatch);
  for (auto _ : state) {
    auto result =
        bus->produce_to_partition("bench", static_cast<int32_t>(state.thread_index()), batch.records);
    if (!result) state.SkipWithError(result.status().to_string().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch * static_cast<int64_t>(kKeyBytes + kValueBytes));
  if (state.thread_index() == 0) {
    bus.reset();
    dir.reset();
  }
}
BENCHMARK(BM_AppendTwoThreads)->Threads(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Reads a pre-filled partition from the start, again and again: fetch + iterate every view. range(0): the
// fsync policy of the bus while reading (the prefill itself is written unsynced, then the bus is reopened).
void BM_Read(benchmark::State& state) {
  constexpr int kPrefillBatches = 2000;  // 2 M records, ~330 MB on disk (page cache)
  const auto policy = static_cast<FsyncPolicy>(state.range(0));
  BenchDir dir;
  {
    auto writer = open_bus(dir.path(), FsyncPolicy::kNone, 1);
    Records batch(kBatch);
    for (int i = 0; i < kPrefillBatches; ++i) {
      if (!writer->produce("bench", batch.records)) std::abort();
    }
  }
  auto bus = open_bus(dir.path(), policy, 0);
  FetchBatch out;
  FetchOptions options;
  options.max_records = 10000;
  options.max_bytes = 2 << 20;
  int64_t offset = 0;
  int64_t records = 0, bytes = 0;
  for (auto _ : state) {
    if (!bus->fetch("bench", 0, offset, options, out)) {
      state.SkipWithError("fetch failed");
      break;
    }
    for (const auto& r : out) {
      bytes += static_cast<int64_t>(r.key.size() + r.value.size());
      benchmark::DoNotOptimize(r.value.data());
    }
    records += static_cast<int64_t>(out.size());
    offset = out.empty() ? 0 : out.records().back().offset + 1;
    if (offset >= int64_t{kPrefillBatches} * kBatch) offset = 0;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
  state.SetLabel(std::string(sf::bus::fsync_policy_name(policy)));
}
BENCHMARK(BM_Read)
    ->ArgNames({"policy"})
    ->Arg(static_cast<int>(FsyncPolicy::kEveryBatch))
    ->Arg(static_cast<int>(FsyncPolicy::kInterval))
    ->Arg(static_cast<int>(FsyncPolicy::kNone))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
