// The queue-manager end to end on the embedded bus and RocksDB: real launcher, real connector job, a fake
// loader. Workflows complete with exactly the records published, survive a manager restart, follow old-style
// status words, stop on request, fail visibly, and never mix.
#include "services/manager/queue_manager.h"

#include <gtest/gtest.h>

#include <atomic>

#include "services/connector/arango_connector_job.h"
#include "services/job/tests/job_test_util.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
using testing::TestEnv;

// Accepts launches and runs nothing: the jobs are played by hand (old-style workers).
class RecordingLauncher final : public JobLauncher {
 public:
  Status launch(const JobSpec& spec) override {
    std::lock_guard lock(mu_);
    if (fail) return Status::unavailable("no capacity (test)");
    specs.push_back(spec);
    return Status::ok();
  }
  Status stop(std::string_view) override { return Status::ok(); }
  bool wait_idle(std::chrono::milliseconds) override { return true; }
  void shutdown() override {}
  std::vector<JobSpec> running() const override { return {}; }

  std::vector<JobSpec> specs;
  bool fail = false;

 private:
  std::mutex mu_;
};

class QueueManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.add(protocol::Worker::kRestLoader, [] { return std::make_unique<testing::FakeLoaderJob>(); });
    registry_.add(protocol::Worker::kConnector, make_arango_connector_job);
  }
  void TearDown() override { close(); }

  std::unique_ptr<InProcessLauncher> make_launcher() {
    JobEnvironment e{env_.bus(), env_.store(), registry_};
    e.metrics = metrics_;
    e.settings.poll_interval = 20ms;
    e.telemetry.loading_interval = 20ms;
    e.start_timeout = 5s;
    return std::make_unique<InProcessLauncher>(e);
  }

  QueueManagerOptions options() {
    QueueManagerOptions o;
    o.poll_timeout = 20ms;
    o.data_partitions = 2;
    o.topics = {.control_partitions = 2, .events_partitions = 2};
    o.make_suffix = [this] { return fmt::format("{:06x}", next_suffix_++); };
    o.metrics = metrics_;
    return o;
  }

  void open(JobLauncher* launcher = nullptr) {
    if (!launcher) {
      launcher_ = make_launcher();
      launcher = launcher_.get();
    }
    auto manager = QueueManager::open(env_.bus(), env_.store(), *launcher, options());
    ASSERT_TRUE(manager) << manager.status().to_string();
    manager_ = std::move(manager).value();
  }
  void close() {
    manager_.reset();
    launcher_.reset();
  }

  StartRequest short_form(std::string symbol, int64_t records,
                          protocol::Json extra = protocol::Json::object()) {
    StartRequest r;
    r.symbol = std::move(symbol);
    r.type = "api_candles_5m";
    r.time_range = "2024-08-01:2024-08-02";
    r.extra = std::move(extra);
    r.extra["fake_records"] = records;
    return r;
  }

  WorkflowState start(const StartRequest& request) {
    auto started = manager_->start(request);
    EXPECT_TRUE(started) << started.status().to_string();
    return started ? *started : WorkflowState{};
  }

  WorkflowState finish(const std::string& queue_id) {
    auto done = manager_->wait_finished(queue_id, 60s);
    EXPECT_TRUE(done) << done.status().to_string();
    return done ? *done : WorkflowState{};
  }

  uint64_t docs(const std::string& collection) {
    auto n = env_.store().count(collection);
    return n ? *n : 0;
  }

  std::string raw_event(const std::string& queue_id, const std::string& producer, const std::string& status,
                        int64_t records) {
    return fmt::format(
        R"({{"queue_id":"{}","producer":"{}","status":"{}","records_written":{},"timestamp":{}}})", queue_id,
        producer, status, records, epoch_seconds_now());
  }

  TestEnv env_;
  JobRegistry registry_;
  int next_suffix_ = 0xa1b2c3;
  std::shared_ptr<MetricsRegistry> metrics_ = make_metrics_registry();
  std::unique_ptr<InProcessLauncher> launcher_;
  std::unique_ptr<QueueManager> manager_;
};

TEST_F(QueueManagerTest, ShortFormWorkflowCompletesWithEveryRecordOnce) {
  open();
  std::vector<WorkflowStatus> seen;
  std::mutex seen_mu;
  manager_->subscribe([&](const WorkflowState& w) {
    std::lock_guard lock(seen_mu);
    if (seen.empty() || seen.back() != w.status) seen.push_back(w.status);
  });

  WorkflowState w = start(short_form("btcusdt", 300));
  EXPECT_EQ(w.queue_id, "wf-btcusdt-api_candles_5m-20240801-a1b2c3");
  EXPECT_EQ(w.kafka_topic, "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data");
  EXPECT_EQ(w.collection_name, "btcusdt_api_candles_5m_2024_08_01");
  EXPECT_EQ(w.symbol, "BTCUSDT");
  ASSERT_EQ(w.services.size(), 2u);
  EXPECT_EQ(w.services[0].telemetry_id, "loader-producer__a1b2c3");
  EXPECT_EQ(w.services[1].telemetry_id, "arango-connector__a1b2c3");
  EXPECT_EQ(value_or_throw(env_.bus().describe_topic(w.kafka_topic)).partitions.size(), 2u);

  // The start commands are the seed's message, one per service, keyed by queue_id.
  std::vector<protocol::ControlMessage> commands;
  for (const auto& raw : testing::read_topic(env_.bus(), kControlTopic)) {
    commands.push_back(value_or_throw(protocol::parse_control_message(raw)));
  }
  ASSERT_EQ(commands.size(), 2u);
  for (const auto& c : commands) {
    EXPECT_EQ(c.command, protocol::Command::kStart);
    EXPECT_EQ(c.queue_id, w.queue_id);
    EXPECT_EQ(c.symbol, "BTCUSDT");
    EXPECT_EQ(c.type, "api_candles_5m");
    EXPECT_EQ(c.time_range, "2024-08-01:2024-08-02");
    EXPECT_EQ(c.kafka_topic, w.kafka_topic);
    EXPECT_EQ(c.collection_name, w.collection_name);
    EXPECT_EQ(c.image, manager_->default_image());
    EXPECT_GT(c.timestamp.value_or(0), 1.7e9);
    EXPECT_TRUE(protocol::validate(c)) << protocol::validate(c).to_string();
  }
  EXPECT_EQ(manager_->default_image().rfind("streamforge:", 0), 0u);
  EXPECT_EQ(commands[0].telemetry_id, "loader-producer__a1b2c3");
  EXPECT_EQ(commands[1].extra["upstream"], protocol::Json::array({"loader-producer__a1b2c3"}));

  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(docs(w.collection_name), 300u);
  EXPECT_EQ(done.records_written, 300);
  for (const auto& s : done.services) {
    EXPECT_EQ(s.status, WorkflowStatus::kCompleted) << s.telemetry_id;
    EXPECT_EQ(s.records_written, 300) << s.telemetry_id;
    EXPECT_TRUE(s.finished);
    EXPECT_TRUE(s.started_at && s.finished_at && *s.finished_at >= *s.started_at);
  }
  EXPECT_EQ(done.services[1].message, "Saved 300 records");
  EXPECT_TRUE(done.finished_at);
  EXPECT_TRUE(done.error.empty());

  // Persisted in queue_state.
  auto doc = value_or_throw(env_.store().get(kStateCollection, w.queue_id));
  ASSERT_TRUE(doc);
  auto json = protocol::Json::parse(*doc);
  EXPECT_EQ(json["status"], "completed");
  EXPECT_EQ(json["services"][1]["records_written"], 300);

  // The event log: both services' lifecycles in order.
  auto events = value_or_throw(manager_->events(w.queue_id));
  ASSERT_GE(events.size(), 4u);
  for (size_t i = 1; i < events.size(); ++i) EXPECT_LT(events[i - 1].offset, events[i].offset);
  std::map<std::string, std::vector<WorkflowStatus>> by_producer;
  for (const auto& e : events) by_producer[e.event.producer].push_back(e.event.status);
  for (const auto& [producer, statuses] : by_producer) {
    EXPECT_EQ(statuses.front(), WorkflowStatus::kStarted) << producer;
    EXPECT_EQ(statuses.back(), WorkflowStatus::kCompleted) << producer;
  }

  // Listeners saw the workflow move forward to completed (they run just after the state changed).
  EXPECT_TRUE(testing::wait_until([&] {
    std::lock_guard lock(seen_mu);
    return !seen.empty() && seen.back() == WorkflowStatus::kCompleted;
  }));
  std::lock_guard lock(seen_mu);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), WorkflowStatus::kPending);
  EXPECT_EQ(seen.back(), WorkflowStatus::kCompleted);

  const std::string exposition = render_metrics(*metrics_);
  EXPECT_NE(exposition.find("streamforge_manager_workflows_started_total 1"), std::string::npos)
      << exposition;
  EXPECT_NE(exposition.find("streamforge_manager_workflows_in_flight 0"), std::string::npos) << exposition;

  auto all = value_or_throw(manager_->list());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, WorkflowStatus::kCompleted);
  EXPECT_EQ(manager_->get("wf-nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(manager_->events("wf-nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(manager_->stop(w.queue_id).status().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(QueueManagerTest, ManagerRestartMidWorkflowStillCompletesExactly) {
  open();
  WorkflowState w = start(short_form("BTCUSDT", 400, {{"fake_batch", 10}, {"fake_delay_ms", 15}}));
  // Let both jobs get going, then take the whole process down (manager, jobs, bus and store).
  ASSERT_TRUE(testing::wait_until([&] { return docs(w.collection_name) >= 60; }));
  close();
  EXPECT_LT(docs(w.collection_name), 400u);
  env_.close();
  env_.open();

  open();
  WorkflowState mid = value_or_throw(manager_->get(w.queue_id));
  EXPECT_FALSE(mid.finished());
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  EXPECT_EQ(docs(w.collection_name), 400u);
  EXPECT_EQ(done.records_written, 400);
  for (const auto& s : done.services) {
    EXPECT_EQ(s.status, WorkflowStatus::kCompleted) << s.telemetry_id;
    EXPECT_EQ(s.records_written, 400) << s.telemetry_id;
  }
  // The loader resumed instead of publishing again: the data topic holds each record once.
  EXPECT_EQ(testing::read_topic(env_.bus(), w.kafka_topic).size(), 400u);
}

TEST_F(QueueManagerTest, ManagerRestartWhileJobsKeepRunningCatchesUp) {
  launcher_ = make_launcher();
  open(launcher_.get());
  WorkflowState w = start(short_form("BTCUSDT", 200, {{"fake_batch", 10}, {"fake_delay_ms", 10}}));
  ASSERT_TRUE(testing::wait_until([&] { return docs(w.collection_name) >= 20; }));
  manager_.reset();  // the manager goes away; its jobs do not
  ASSERT_TRUE(launcher_->wait_idle(60s));
  open(launcher_.get());  // folds in what happened meanwhile; relaunches nothing that ended
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(docs(w.collection_name), 200u);
  EXPECT_EQ(done.records_written, 200);
  EXPECT_TRUE(launcher_->running().empty());
}

TEST_F(QueueManagerTest, OldStyleStatusWordsAreUnderstood) {
  RecordingLauncher launcher;
  open(&launcher);
  WorkflowState a = start(short_form("BTCUSDT", 0));
  WorkflowState b = start(short_form("ETHUSDT", 0));
  ASSERT_EQ(launcher.specs.size(), 4u);
  EXPECT_EQ(launcher.specs[0].queue_id, a.queue_id);
  EXPECT_EQ(launcher.specs[0].telemetry_id, "loader-producer__a1b2c3");
  EXPECT_EQ(launcher.specs[0].control_offset, a.services[0].control_offset);

  auto& bus = env_.bus();
  testing::publish_raw_event(bus, a.queue_id, raw_event(a.queue_id, "loader-producer__a1b2c3", "started", 0));
  testing::publish_raw_event(bus, a.queue_id,
                             raw_event(a.queue_id, "loader-producer__a1b2c3", "loading", 120));
  testing::publish_raw_event(bus, a.queue_id,
                             raw_event(a.queue_id, "loader-producer__a1b2c3", "finished", 288));
  testing::publish_raw_event(bus, a.queue_id,
                             raw_event(a.queue_id, "arango-connector__a1b2c3", "finished", 288));
  testing::publish_raw_event(bus, b.queue_id,
                             raw_event(b.queue_id, "loader-producer__a1b2c4", "interrupted", 5));
  testing::publish_raw_event(bus, b.queue_id,
                             raw_event(b.queue_id, "arango-connector__a1b2c4", "interrupted", 5));
  testing::publish_raw_event(bus, b.queue_id, "not json at all");

  WorkflowState done_a = finish(a.queue_id);
  EXPECT_EQ(done_a.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(done_a.services[0].records_written, 288);
  WorkflowState done_b = finish(b.queue_id);
  EXPECT_EQ(done_b.status, WorkflowStatus::kStopped);
  EXPECT_EQ(done_b.services[0].status, WorkflowStatus::kStopped);
  auto events = value_or_throw(manager_->events(a.queue_id));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].event.status, WorkflowStatus::kCompleted);  // stored in canonical words
}

TEST_F(QueueManagerTest, InvalidRequestsAreRejectedNamingTheFieldAndRegisterNothing) {
  open();
  StartRequest bad = short_form("BTC/USDT", 10);
  auto rejected = manager_->start(bad);
  EXPECT_EQ(rejected.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(rejected.status().message().find("field 'symbol'"), std::string::npos);

  bad = short_form("BTCUSDT", 10);
  bad.time_range = "yesterday";
  EXPECT_NE(manager_->start(bad).status().message().find("field 'time_range'"), std::string::npos);
  bad = short_form("BTCUSDT", 10);
  bad.microservices = {{.target = "loader-producer"}, {.target = "gnn-trainer"}};
  EXPECT_NE(manager_->start(bad).status().message().find("field 'microservices[1]'"), std::string::npos);
  bad = short_form("BTCUSDT", 10);
  bad.type = "api_candles_2m";
  EXPECT_NE(manager_->start(bad).status().message().find("field 'type'"), std::string::npos);

  EXPECT_TRUE(value_or_throw(manager_->list()).empty());
  EXPECT_TRUE(testing::read_topic(env_.bus(), kControlTopic).empty());
}

TEST_F(QueueManagerTest, TwoWorkflowsInParallelDoNotMix) {
  open();
  WorkflowState btc = start(short_form("BTCUSDT", 300, {{"fake_delay_ms", 5}}));
  WorkflowState eth = start(short_form("ETHUSDT", 500, {{"fake_delay_ms", 5}}));
  EXPECT_NE(btc.collection_name, eth.collection_name);
  EXPECT_NE(btc.kafka_topic, eth.kafka_topic);
  WorkflowState done_btc = finish(btc.queue_id);
  WorkflowState done_eth = finish(eth.queue_id);
  EXPECT_EQ(done_btc.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(done_eth.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(docs(btc.collection_name), 300u);
  EXPECT_EQ(docs(eth.collection_name), 500u);
  EXPECT_EQ(done_btc.records_written, 300);
  EXPECT_EQ(done_eth.records_written, 500);
  for (const auto& [w, n] : {std::pair{btc, 300}, std::pair{eth, 500}}) {
    auto events = value_or_throw(manager_->events(w.queue_id));
    for (const auto& e : events) {
      EXPECT_EQ(e.event.queue_id, w.queue_id);
      EXPECT_NE(e.event.producer.find(w.queue_id.substr(w.queue_id.size() - 6)), std::string::npos);
    }
    EXPECT_EQ(events.back().event.records_written, n);
  }
  auto all = value_or_throw(manager_->list());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].queue_id, eth.queue_id);  // newest first
}

TEST_F(QueueManagerTest, StopEndsTheWorkflowStopped) {
  open();
  WorkflowState w = start(short_form("BTCUSDT", 100000, {{"fake_batch", 10}, {"fake_delay_ms", 10}}));
  ASSERT_TRUE(testing::wait_until([&] { return docs(w.collection_name) >= 20; }));
  auto stopping = manager_->stop(w.queue_id);
  ASSERT_TRUE(stopping) << stopping.status().to_string();
  EXPECT_TRUE(stopping->stop_requested);
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kStopped);
  for (const auto& s : done.services) EXPECT_EQ(s.status, WorkflowStatus::kStopped) << s.telemetry_id;
  EXPECT_LT(docs(w.collection_name), 100000u);
  EXPECT_EQ(manager_->stop("wf-btcusdt-api_candles_5m-20240801-ffffff").status().code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(launcher_->wait_idle(10s));
}

TEST_F(QueueManagerTest, LoaderErrorFailsTheWorkflowAndTheConnectorSavesWhatCame) {
  open();
  WorkflowState w = start(short_form("BTCUSDT", 500, {{"fake_error_at", 100}}));
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kError);
  EXPECT_EQ(done.error, "loader-producer__a1b2c3: exchange went away (fake)");
  EXPECT_EQ(done.services[0].status, WorkflowStatus::kError);
  EXPECT_EQ(done.services[1].status, WorkflowStatus::kError);
  EXPECT_NE(done.services[1].message.find("Saved 100 records"), std::string::npos);
  EXPECT_EQ(docs(w.collection_name), 100u);
}

TEST_F(QueueManagerTest, AJobKindNobodyRegisteredFailsTheWorkflowVisibly) {
  open();
  StartRequest r = short_form("BTCUSDT", 10);
  r.type = "ws_trades";  // no WebSocket loader registered in this test
  r.time_range = "2024-08-01:2024-08-02";
  WorkflowState w = start(r);
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kError);
  EXPECT_NE(done.error.find("no job registered for worker 'ws-loader'"), std::string::npos) << done.error;
  EXPECT_TRUE(done.services[1].terminal());
}

TEST_F(QueueManagerTest, LaunchFailureMarksTheWorkflowError) {
  RecordingLauncher launcher;
  launcher.fail = true;
  open(&launcher);
  auto started = manager_->start(short_form("BTCUSDT", 10));
  ASSERT_TRUE(started) << started.status().to_string();
  EXPECT_EQ(started->status, WorkflowStatus::kError);
  EXPECT_TRUE(started->finished());
  EXPECT_NE(started->services[0].message.find("launch failed: no capacity"), std::string::npos);
  EXPECT_EQ(value_or_throw(manager_->get(started->queue_id)).status, WorkflowStatus::kError);
}

}  // namespace
}  // namespace sf::services
