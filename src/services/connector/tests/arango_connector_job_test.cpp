// The arango-connector job: drains the data topic once the loader finished, follows the loader's ending,
// dead-letters bad records, honours stop, and resumes after being abandoned with nothing lost or doubled.
#include "services/connector/arango_connector_job.h"

#include <gtest/gtest.h>

#include "services/job/tests/job_test_util.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
using testing::kQueueId;
using testing::TestEnv;

class ConnectorJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_service_topics(env_.bus()));
    registry_.add(protocol::Worker::kConnector, make_arango_connector_job);
    start_ = testing::make_start(kQueueId, "arango-connector");
    ASSERT_TRUE(env_.bus().create_topic(start_.kafka_topic, {.partitions = 3}));
  }

  JobEnvironment job_env() {
    JobEnvironment e{env_.bus(), env_.store(), registry_};
    e.settings.poll_interval = 20ms;
    e.telemetry.loading_interval = 10ms;
    e.start_timeout = 2s;
    return e;
  }

  // Publishes candles [first, first + n); every `bad_every`-th one (i % bad_every == 0) is malformed.
  void produce(int64_t first, int64_t n, int64_t bad_every = 0) {
    std::vector<std::pair<std::string, std::string>> docs;
    for (int64_t i = first; i < first + n; ++i) {
      docs.push_back(testing::candle(i));
      if (bad_every && i % bad_every == 0) docs.back().second = R"({"_key": 12, "open": "1"})";
    }
    std::vector<bus::OutgoingRecord> records(docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      records[i].key = docs[i].first;
      records[i].value = docs[i].second;
    }
    ASSERT_TRUE(env_.bus().produce(start_.kafka_topic, records));
  }

  void loader_says(WorkflowStatus status, std::string message = {},
                   std::string producer = "loader-producer__a1b2c3") {
    TelemetryPublisher loader(env_.bus(), {kQueueId, std::move(producer), "BTCUSDT", "api_candles_5m"});
    ASSERT_TRUE(loader.publish(status, std::move(message)));
  }

  // Runs the connector job on a thread.
  void launch(JobHostSignals signals = {}) {
    runner_ = std::thread(
        [this, signals] { result_ = run_job(job_env(), testing::spec_for(start_, offset_), signals); });
  }
  Status join() {
    runner_.join();
    return result_;
  }
  void publish_start() { offset_ = testing::publish_command(env_.bus(), start_); }

  std::vector<testing::SeenEvent> connector_events() {
    return testing::read_events(env_.bus(), kQueueId, start_.telemetry_id);
  }
  uint64_t docs() {
    auto n = env_.store().count(start_.collection_name);
    return n ? *n : 0;  // NotFound until the sink created the collection
  }

  TestEnv env_;
  JobRegistry registry_;
  protocol::ControlMessage start_;
  int64_t offset_ = 0;
  std::thread runner_;
  Status result_;
};

TEST_F(ConnectorJobTest, CompletesOnceTheLoaderCompletedAndTheTopicIsDrained) {
  start_.extra["events_offset"] = 0;
  publish_start();
  launch();
  produce(0, 400);
  ASSERT_TRUE(testing::wait_until([&] { return docs() == 400; }));
  produce(400, 600);  // more data arrives before the loader reports completion
  loader_says(WorkflowStatus::kStarted);
  loader_says(WorkflowStatus::kCompleted, "Published 1000 records");
  ASSERT_TRUE(join()) << result_.to_string();
  EXPECT_EQ(docs(), 1000u);
  auto events = connector_events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front().event.status, WorkflowStatus::kStarted);
  bool saw_loading = false;
  for (const auto& e : events)
    saw_loading |= e.event.status == WorkflowStatus::kLoading && e.event.records_written > 0;
  EXPECT_TRUE(saw_loading);
  const auto& last = events.back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(last.records_written, 1000);
  EXPECT_EQ(last.message, "Saved 1000 records");
  EXPECT_EQ(last.finished, true);
  // Offsets are committed in the connector's group.
  int64_t committed = 0;
  for (int32_t p = 0; p < 3; ++p) {
    committed += value_or_throw(env_.bus().committed_offset(connector_group(start_), start_.kafka_topic, p))
                     .value_or(0);
  }
  EXPECT_EQ(committed, 1000);
  EXPECT_EQ(connector_group(start_), "arango-connector__a1b2c3-connector");
}

TEST_F(ConnectorJobTest, BadRecordsAreDeadLetteredAndCounted) {
  publish_start();
  produce(0, 500, /*bad_every=*/100);
  loader_says(WorkflowStatus::kCompleted);
  launch();
  ASSERT_TRUE(join()) << result_.to_string();
  EXPECT_EQ(docs(), 495u);
  auto dlq = testing::read_topic(env_.bus(), protocol::dead_letter_topic(kQueueId));
  EXPECT_EQ(dlq.size(), 5u);
  const auto last = connector_events().back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(last.records_written, 495);
  EXPECT_EQ(last.message, "Saved 495 records; 5 rejected to " + protocol::dead_letter_topic(kQueueId));
}

TEST_F(ConnectorJobTest, LoaderErrorEndsInErrorAfterSavingWhatIsThere) {
  publish_start();
  produce(0, 300);
  loader_says(WorkflowStatus::kError, "HTTP 418 from the exchange");
  launch();
  EXPECT_FALSE(join());
  EXPECT_EQ(docs(), 300u);
  const auto last = connector_events().back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kError);
  EXPECT_NE(last.message.find("loader loader-producer__a1b2c3 failed (HTTP 418 from the exchange)"),
            std::string::npos);
  EXPECT_NE(last.message.find("Saved 300 records"), std::string::npos);
}

TEST_F(ConnectorJobTest, LoaderInterruptedEndsStopped) {
  publish_start();
  produce(0, 100);
  // An old-style worker's status word: interrupted = stopped.
  testing::publish_raw_event(
      env_.bus(), kQueueId,
      R"({"queue_id":")" + std::string(kQueueId) +
          R"(","producer":"loader-producer__a1b2c3","status":"interrupted","timestamp":1.0})");
  launch();
  EXPECT_EQ(join().code(), ErrorCode::kCancelled);
  EXPECT_EQ(docs(), 100u);
  const auto last = connector_events().back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kStopped);
  EXPECT_NE(last.message.find("loader loader-producer__a1b2c3 stopped"), std::string::npos);
}

TEST_F(ConnectorJobTest, WaitsForEveryUpstreamLoaderListed) {
  start_.extra["upstream"] = {"loader-producer__a1b2c3", "loader-ws__a1b2c3"};
  publish_start();
  produce(0, 50);
  loader_says(WorkflowStatus::kCompleted);
  launch();
  ASSERT_TRUE(testing::wait_until([&] { return docs() == 50; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(connector_events().back().event.finished, false);  // still waiting for loader-ws
  produce(50, 50);
  loader_says(WorkflowStatus::kCompleted, {}, "loader-ws__a1b2c3");
  ASSERT_TRUE(join()) << result_.to_string();
  EXPECT_EQ(docs(), 100u);
  EXPECT_EQ(connector_events().back().event.records_written, 100);
}

TEST_F(ConnectorJobTest, NoUpstreamDrainsWhatIsThere) {
  start_.extra["upstream"] = protocol::Json::array();
  publish_start();
  produce(0, 70);
  launch();
  ASSERT_TRUE(join()) << result_.to_string();
  EXPECT_EQ(docs(), 70u);
}

TEST_F(ConnectorJobTest, StopCommandStopsIt) {
  publish_start();
  produce(0, 100);
  launch();
  ASSERT_TRUE(testing::wait_until([&] { return docs() == 100; }));
  testing::publish_command(env_.bus(), testing::make_stop(kQueueId));
  EXPECT_EQ(join().code(), ErrorCode::kCancelled);
  const auto last = connector_events().back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kStopped);
  EXPECT_EQ(last.message, "stopped on request; Saved 100 records");
}

TEST_F(ConnectorJobTest, AbandonedConnectorResumesWithNothingLostOrDoubled) {
  publish_start();
  produce(0, 600);
  std::stop_source abandon;
  launch({.abandon = abandon.get_token()});
  ASSERT_TRUE(testing::wait_until([&] { return docs() >= 600; }));
  abandon.request_stop();
  EXPECT_EQ(join().code(), ErrorCode::kCancelled);
  EXPECT_EQ(connector_events().back().event.finished, false);

  // The process dies and comes back: reopen bus and store, relaunch from the same start command.
  env_.close();
  env_.open();
  produce(600, 400);
  loader_says(WorkflowStatus::kCompleted);
  launch();
  ASSERT_TRUE(join()) << result_.to_string();
  EXPECT_EQ(docs(), 1000u);
  const auto last = connector_events().back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(last.records_written, 1000);
}

}  // namespace
}  // namespace sf::services
