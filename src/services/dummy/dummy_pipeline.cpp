// Synthetic candle generation, the producer loop, and the post-run verification.
#include "services/dummy/dummy_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "core/splitmix64.h"
#include "protocol/records.h"
#include "services/connector/topic_sink.h"

namespace sf::services {
namespace {

constexpr int64_t kMinuteMs = 60'000;

// A random-walk candle series with exact decimal fields (prices in cents, volumes in 1e-8 units).
class CandleGenerator {
 public:
  CandleGenerator(const DummyOptions& options) : options_(options), price_cents_(4'200'000) {}

  void next(int64_t index, protocol::Kline& k) {
    uint64_t h = splitmix64(options_.seed ^ static_cast<uint64_t>(index) * 0x2545F4914F6CDD1Dull);
    int64_t open = price_cents_;
    double step = (unit_interval(h) - 0.5) * 0.002;  // ±0.1% per minute
    int64_t close = std::max<int64_t>(100, open + static_cast<int64_t>(std::llround(open * step)));
    int64_t high = std::max(open, close) + static_cast<int64_t>(open * 0.0005 * unit_interval(splitmix64(h)));
    int64_t low =
        std::min(open, close) - static_cast<int64_t>(open * 0.0005 * unit_interval(splitmix64(h + 1)));
    price_cents_ = close;
    int64_t volume_units =
        100'000'000 + static_cast<int64_t>(unit_interval(splitmix64(h + 2)) * 5'000'000'000);
    int64_t taker_units =
        volume_units / 2 + static_cast<int64_t>(unit_interval(splitmix64(h + 3)) * (volume_units / 4));

    k.open_time = options_.start_ms + index * kMinuteMs;
    k.close_time = k.open_time + kMinuteMs - 1;
    k.symbol = options_.symbol;
    k.interval = "1m";
    assign_cents(k.open, open);
    assign_cents(k.high, high);
    assign_cents(k.low, low);
    assign_cents(k.close, close);
    assign_units(k.volume, volume_units);
    assign_units(k.taker_buy_base_asset_volume, taker_units);
    // quote volume ≈ volume × close, kept exact to the cent
    assign_cents(k.quote_asset_volume,
                 static_cast<int64_t>(static_cast<double>(volume_units) * 1e-8 * close));
    assign_cents(k.taker_buy_quote_asset_volume,
                 static_cast<int64_t>(static_cast<double>(taker_units) * 1e-8 * close));
    k.number_of_trades = 500 + static_cast<int64_t>(unit_interval(splitmix64(h + 4)) * 3000);
  }

 private:
  void assign_cents(protocol::Decimal& d, int64_t cents) {
    auto end = fmt::format_to(buffer_, "{}.{:02}000000", cents / 100, cents % 100);
    d.assign(std::string_view(buffer_, static_cast<size_t>(end - buffer_)));
  }
  void assign_units(protocol::Decimal& d, int64_t units) {
    auto end = fmt::format_to(buffer_, "{}.{:08}", units / 100'000'000, units % 100'000'000);
    d.assign(std::string_view(buffer_, static_cast<size_t>(end - buffer_)));
  }

  const DummyOptions& options_;
  int64_t price_cents_;
  char buffer_[64];
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<DummyReport> run_dummy_pipeline(bus::Bus& bus, store::Store& store, const DummyOptions& options,
                                       DummyProgress& progress) {
  if (options.records <= 0 || options.batch <= 0 || options.partitions <= 0) {
    return Status::invalid_argument("dummy: --records, --batch and --partitions must be positive");
  }
  SF_RETURN_IF_ERROR(bus.ensure_topic(options.topic, bus::TopicConfig{.partitions = options.partitions}));

  TopicSink sink(
      bus, store,
      TopicSinkOptions{.topic = options.topic, .group = options.group, .collection = options.collection});
  Status sink_status;
  auto start = std::chrono::steady_clock::now();
  std::thread sink_thread([&] { sink_status = sink.run(); });
  std::atomic<bool> sink_done{false};
  std::thread progress_thread([&] {
    while (!sink_done) {
      progress.consumed = static_cast<int64_t>(sink.stats().consumed.load());
      progress.written = static_cast<int64_t>(sink.stats().written() + sink.stats().rejected);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  // Producer: documents are built into one reused arena per batch; records point into it.
  Status produce_status;
  {
    CandleGenerator generator(options);
    protocol::Kline kline;
    std::string arena;
    std::vector<size_t> ends;
    std::vector<bus::OutgoingRecord> records(static_cast<size_t>(options.batch));
    for (int64_t first = 0; first < options.records; first += options.batch) {
      int64_t n = std::min<int64_t>(options.batch, options.records - first);
      arena.clear();
      ends.clear();
      for (int64_t i = 0; i < n; ++i) {
        generator.next(first + i, kline);
        protocol::append_key(kline, arena);
        ends.push_back(arena.size());
        protocol::append_document(kline, arena);
        ends.push_back(arena.size());
      }
      size_t pos = 0;
      for (int64_t i = 0; i < n; ++i) {
        records[i].key = std::string_view(arena).substr(pos, ends[2 * i] - pos);
        records[i].value = std::string_view(arena).substr(ends[2 * i], ends[2 * i + 1] - ends[2 * i]);
        pos = ends[2 * i + 1];
      }
      auto produced = bus.produce(options.topic, std::span(records.data(), static_cast<size_t>(n)));
      if (!produced) {
        produce_status = produced.status();
        break;
      }
      progress.produced += n;
    }
  }
  progress.producing_done = true;
  double produce_seconds = seconds_since(start);

  // Drain: the sink stops once the group committed up to the log end offsets seen now.
  std::map<int32_t, int64_t> ends;
  if (auto info = bus.describe_topic(options.topic)) {
    for (const auto& p : info->partitions) ends[p.partition] = p.log_end_offset;
  }
  if (produce_status) {
    sink.drain_to(std::move(ends));
  } else {
    sink.stop();
  }
  sink_thread.join();
  sink_done = true;
  progress.consumed = static_cast<int64_t>(sink.stats().consumed.load());
  progress.written = static_cast<int64_t>(sink.stats().written() + sink.stats().rejected);
  progress_thread.join();
  SF_RETURN_IF_ERROR(produce_status);
  SF_RETURN_IF_ERROR(sink_status);

  DummyReport report;
  report.produced = progress.produced;
  report.inserted = sink.stats().inserted;
  report.updated = sink.stats().updated;
  report.unchanged = sink.stats().unchanged;
  report.rejected = sink.stats().rejected;
  report.produce_seconds = produce_seconds;
  report.total_seconds = seconds_since(start);

  // Verification: every candle's key present once, contiguous, in time order.
  store::ScanOptions range;
  range.from_key = std::to_string(options.start_ms);
  range.to_key = std::to_string(options.start_ms + options.records * kMinuteMs);
  int64_t expected = options.start_ms;
  std::string problem;
  SF_RETURN_IF_ERROR(store.scan(options.collection, range, [&](std::string_view key, std::string_view) {
    if (key != std::to_string(expected)) {
      problem = fmt::format("expected the candle opening at {} but found key {}", expected, key);
      return false;
    }
    expected += kMinuteMs;
    ++report.documents_in_range;
    return true;
  }));
  if (problem.empty() && report.documents_in_range != static_cast<uint64_t>(options.records)) {
    problem = fmt::format("{} candles in the store's range, expected {}", report.documents_in_range,
                          options.records);
  }
  report.verified = problem.empty();
  report.verification =
      report.verified ? fmt::format("all {} candles present once, in time order", report.documents_in_range)
                      : problem;
  return report;
}

}  // namespace sf::services
