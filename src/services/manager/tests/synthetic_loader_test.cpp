// Candle-grid arithmetic and the synthetic loader: a whole workflow through the manager stores exactly the
// candles of the range, each a valid candle document keyed by its open time.
#include "services/manager/synthetic_loader.h"

#include <gtest/gtest.h>

#include "protocol/records.h"
#include "services/connector/arango_connector_job.h"
#include "services/job/tests/job_test_util.h"
#include "services/manager/queue_manager.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::Interval;

TimestampMs at(const char* text) {
  return value_or_throw(parse_utc_time(text));
}

TEST(CandleGrid, FirstOpenTimesAndCounts) {
  EXPECT_EQ(first_open_time(Interval::k5m, at("2024-08-01")), at("2024-08-01"));
  EXPECT_EQ(first_open_time(Interval::k5m, at("2024-08-01T00:00:01Z")), at("2024-08-01T00:05:00Z"));
  EXPECT_EQ(first_open_time(Interval::k1w, at("2024-08-01")), at("2024-08-05"));  // a Monday
  EXPECT_EQ(first_open_time(Interval::k1w, at("2024-08-05")), at("2024-08-05"));
  EXPECT_EQ(first_open_time(Interval::k1M, at("2024-08-01")), at("2024-08-01"));
  EXPECT_EQ(first_open_time(Interval::k1M, at("2024-08-02")), at("2024-09-01"));

  EXPECT_EQ(candle_count(Interval::k5m, value_or_throw(parse_time_range("2024-08-01:2024-08-02"))), 288);
  EXPECT_EQ(candle_count(Interval::k1m, value_or_throw(parse_time_range("2024-08-01:2024-08-02"))), 1440);
  EXPECT_EQ(candle_count(Interval::k1h,
                         value_or_throw(parse_time_range("2024-08-01T00:30:00Z:2024-08-01T03:00:00Z"))),
            2);
  EXPECT_EQ(candle_count(Interval::k1M, value_or_throw(parse_time_range("2024-01-01:2025-01-01"))), 12);
  EXPECT_FALSE(candle_count(Interval::k1m, value_or_throw(parse_time_range("2024-08-01:"))));

  EXPECT_EQ(expected_records("api_candles_5m", "2024-08-01:2024-08-02"), 288);
  EXPECT_EQ(expected_records("bulk_candles_1d", "2024-08-01:2024-08-31"), 30);
  EXPECT_FALSE(expected_records("api_trades", "2024-08-01:2024-08-02"));
  EXPECT_FALSE(expected_records("ws_candles_1m", "2024-08-01:2024-08-02"));
  EXPECT_FALSE(expected_records("api_candles_5m", "garbage"));
}

TEST(SyntheticLoader, WorkflowStoresEveryCandleOfTheRangeOnce) {
  testing::TestEnv env;
  JobRegistry registry;
  register_synthetic_loaders(registry, {.batch = 100});
  registry.add(protocol::Worker::kConnector, make_arango_connector_job);
  JobEnvironment e{env.bus(), env.store(), registry};
  e.settings.poll_interval = 20ms;
  e.telemetry.loading_interval = 20ms;
  InProcessLauncher launcher(e);
  QueueManagerOptions options;
  options.poll_timeout = 20ms;
  auto manager = value_or_throw(QueueManager::open(env.bus(), env.store(), launcher, options));

  StartRequest request;
  request.symbol = "ethusdt";
  request.type = "api_candles_5m";
  request.time_range = "2024-08-01:2024-08-02";
  auto started = value_or_throw(manager->start(request));
  auto done = value_or_throw(manager->wait_finished(started.queue_id, 60s));
  EXPECT_EQ(done.status, protocol::WorkflowStatus::kCompleted) << done.to_json().dump();
  EXPECT_EQ(done.records_written, 288);
  EXPECT_EQ(value_or_throw(env.store().count(done.collection_name)), 288u);

  protocol::RecordParser parser;
  TimestampMs expected = at("2024-08-01");
  size_t n = 0;
  ASSERT_TRUE(env.store().scan(done.collection_name, {}, [&](std::string_view key, std::string_view doc) {
    protocol::Kline k;
    Status parsed = parser.parse_document(doc, k);
    EXPECT_TRUE(parsed) << parsed.to_string() << " " << doc;
    EXPECT_EQ(k.open_time, expected);
    EXPECT_EQ(key, std::to_string(expected));
    EXPECT_EQ(k.close_time, expected + 299999);
    EXPECT_EQ(k.symbol, "ETHUSDT");
    EXPECT_EQ(k.interval, "5m");
    EXPECT_GE(k.high.to_double(), k.low.to_double());
    expected += 300000;
    ++n;
    return true;
  }));
  EXPECT_EQ(n, 288u);

  // Trades are not something the synthetic loader makes: the workflow fails visibly.
  request.type = "api_trades";
  auto trades = value_or_throw(manager->start(request));
  auto failed = value_or_throw(manager->wait_finished(trades.queue_id, 60s));
  EXPECT_EQ(failed.status, protocol::WorkflowStatus::kError);
  EXPECT_NE(failed.error.find("candles only"), std::string::npos) << failed.error;
}

}  // namespace
}  // namespace sf::services
