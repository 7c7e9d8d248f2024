#include "services/dummy/dummy_pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "protocol/records.h"

namespace sf::services {
namespace {

namespace fs = std::filesystem;

struct Env {
  fs::path dir;
  std::unique_ptr<bus::Bus> bus;
  std::unique_ptr<store::Store> store;

  Env() {
    dir = fs::temp_directory_path() / ("sf-dummy-" + std::to_string(std::random_device{}()));
    open();
  }
  ~Env() {
    bus.reset();
    store.reset();
    fs::remove_all(dir);
  }
  void open() {
    bus::EmbeddedBusOptions b;
    b.dir = dir / "bus";
    bus = value_or_throw(bus::open_embedded_bus(b));
    store::RocksDbStoreOptions s;
    s.path = (dir / "store").string();
    store = value_or_throw(store::open_rocksdb_store(s));
  }
};

TEST(DummyPipeline, PublishesStoresAndVerifiesEveryCandle) {
  Env env;
  DummyOptions options;
  options.records = 25'000;
  DummyProgress progress;
  auto report = run_dummy_pipeline(*env.bus, *env.store, options, progress);
  ASSERT_TRUE(report) << report.status().to_string();
  EXPECT_TRUE(report->verified) << report->verification;
  EXPECT_EQ(report->produced, 25'000);
  EXPECT_EQ(report->inserted, 25'000u);
  EXPECT_EQ(report->documents_in_range, 25'000u);
  EXPECT_EQ(progress.written.load(), 25'000);

  // Candles are valid records with exact decimals and OHLC invariants.
  auto doc = value_or_throw(env.store->get(options.collection, std::to_string(options.start_ms + 60'000)));
  ASSERT_TRUE(doc.has_value());
  protocol::RecordParser parser;
  protocol::Kline k;
  ASSERT_TRUE(parser.parse_document(*doc, k));
  EXPECT_EQ(k.interval, "1m");
  EXPECT_EQ(k.close_time, k.open_time + 59'999);
  EXPECT_GE(k.high.to_double(), std::max(k.open.to_double(), k.close.to_double()));
  EXPECT_LE(k.low.to_double(), std::min(k.open.to_double(), k.close.to_double()));
}

TEST(DummyPipeline, SecondRunIsIdempotent) {
  Env env;
  DummyOptions options;
  options.records = 5'000;
  DummyProgress first;
  ASSERT_TRUE(run_dummy_pipeline(*env.bus, *env.store, options, first));
  env.bus.reset();
  env.store.reset();
  env.open();
  DummyProgress second;
  auto report = run_dummy_pipeline(*env.bus, *env.store, options, second);
  ASSERT_TRUE(report) << report.status().to_string();
  EXPECT_TRUE(report->verified) << report->verification;
  EXPECT_EQ(report->inserted, 0u);
  EXPECT_EQ(report->unchanged, 5'000u);
  EXPECT_EQ(value_or_throw(env.store->count(options.collection)), 5'000u);
}

TEST(DummyPipeline, RejectsNonsenseOptions) {
  Env env;
  DummyOptions options;
  options.records = 0;
  DummyProgress progress;
  auto report = run_dummy_pipeline(*env.bus, *env.store, options, progress);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sf::services
