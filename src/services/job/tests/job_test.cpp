// The job runtime: telemetry shape and throttling, finding start, stop watching, the run_job lifecycle.
#include "services/job/job.h"

#include <gtest/gtest.h>

#include "services/job/tests/job_test_util.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
using testing::TestEnv;

// A job whose behaviour its start command picks (extra field "behavior"): complete (after reporting
// progress), error, wait_stop (until stopped), throw, ignore_stop_then_fail (returns an error once stopped).
class ScriptedJob final : public Job {
 public:
  Status run(JobContext& ctx) override {
    std::string behavior = ctx.command().extra_field<std::string>("behavior").value().value_or("complete");
    if (behavior == "complete") {
      for (int64_t i = 1; i <= 5; ++i)
        (void)ctx.telemetry.loading(i * 10, fmt::format("Saved {} records", i * 10));
      ctx.telemetry.set_records_written(50);
      ctx.result_message = "all 50 saved";
      return Status::ok();
    }
    if (behavior == "error") return Status::unavailable("the exchange answered 503");
    if (behavior == "throw") throw std::runtime_error("kaboom");
    if (behavior == "wait_stop" || behavior == "ignore_stop_then_fail") {
      while (!ctx.stop_requested()) std::this_thread::sleep_for(5ms);
      if (behavior == "wait_stop") return Status::cancelled("");
      return Status::io_error("interrupted write");
    }
    return Status::internal("unknown behavior " + behavior);
  }
};

class JobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_service_topics(env_.bus(), {.control_partitions = 3, .events_partitions = 3}));
    registry_.add(protocol::Worker::kDummy, [] { return std::make_unique<ScriptedJob>(); });
  }

  JobEnvironment job_env() {
    JobEnvironment e{env_.bus(), env_.store(), registry_};
    e.settings.poll_interval = 20ms;
    e.telemetry.loading_interval = 0ms;
    e.start_timeout = 2s;
    return e;
  }

  protocol::ControlMessage dummy_start(std::string behavior, std::string queue_id = testing::kQueueId) {
    auto m = testing::make_start(std::move(queue_id), "dummy-service");
    m.extra["behavior"] = std::move(behavior);
    return m;
  }

  std::vector<WorkflowStatus> statuses(const std::string& producer,
                                       std::string_view queue_id = testing::kQueueId) {
    std::vector<WorkflowStatus> out;
    for (const auto& e : testing::read_events(env_.bus(), queue_id, producer)) out.push_back(e.event.status);
    return out;
  }

  TestEnv env_;
  JobRegistry registry_;
};

TEST_F(JobTest, TelemetryHasTheSeedShapeAndStaysInTheWorkflowsPartition) {
  TelemetryPublisher telemetry(env_.bus(),
                               {testing::kQueueId, "arango-connector__a1b2c3", "BTCUSDT", "api_candles_5m"});
  ASSERT_TRUE(telemetry.started());
  ASSERT_TRUE(telemetry.loading(15000, "Saved 15000 records"));
  ASSERT_TRUE(telemetry.completed("done"));
  auto events = testing::read_events(env_.bus(), testing::kQueueId);
  ASSERT_EQ(events.size(), 3u);
  auto json = protocol::Json::parse(events[1].raw);
  std::vector<std::string> keys;
  for (auto it = json.begin(); it != json.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"queue_id", "producer", "symbol", "type", "status", "message",
                                            "records_written", "finished", "timestamp"}));
  EXPECT_EQ(json["status"], "loading");
  EXPECT_EQ(json["message"], "Saved 15000 records");
  EXPECT_EQ(json["records_written"], 15000);
  EXPECT_EQ(json["finished"], false);
  EXPECT_GT(json["timestamp"].get<double>(), 1.7e9);
  // The started event has a message and a count too; the terminal one carries the last count, finished=true.
  EXPECT_EQ(events[0].event.message, "started");
  EXPECT_EQ(events[0].event.records_written, 0);
  EXPECT_EQ(events[2].event.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(events[2].event.records_written, 15000);
  EXPECT_EQ(events[2].event.finished, true);
  // Keyed by queue_id: every event sits in the queue_id's partition.
  int32_t partition = value_or_throw(partition_for_key(env_.bus(), kEventsTopic, testing::kQueueId));
  auto info = value_or_throw(env_.bus().describe_topic(kEventsTopic));
  for (const auto& p : info.partitions) EXPECT_EQ(p.log_end_offset, p.partition == partition ? 3 : 0);
}

TEST_F(JobTest, ProgressIsThrottled) {
  TelemetryPublisher telemetry(env_.bus(),
                               {testing::kQueueId, "loader-producer__a1b2c3", "BTCUSDT", "api_candles_5m"},
                               {.loading_interval = 1h});
  for (int i = 1; i <= 100; ++i) ASSERT_TRUE(telemetry.progress(i));
  EXPECT_EQ(telemetry.published(), 1);
  EXPECT_EQ(telemetry.records_written(), 100);
  ASSERT_TRUE(telemetry.completed("ok"));
  auto events = testing::read_events(env_.bus(), testing::kQueueId);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.records_written, 1);
  EXPECT_EQ(events[0].event.message, "1 records");
  EXPECT_EQ(events[1].event.records_written, 100);
}

TEST_F(JobTest, FindsItsOwnStartAmongOthers) {
  auto other_queue = testing::make_start("wf-ethusdt-api_candles_5m-20240801-ffffff", "arango-connector");
  auto loader = testing::make_start(testing::kQueueId, "loader-producer");
  auto connector = testing::make_start(testing::kQueueId, "arango-connector");
  testing::publish_command(env_.bus(), other_queue);
  int64_t loader_offset = testing::publish_command(env_.bus(), loader);
  int64_t connector_offset = testing::publish_command(env_.bus(), connector);

  // From the log start, by telemetry id.
  auto found = find_start_command(env_.bus(), testing::spec_for(connector), 1s);
  ASSERT_TRUE(found) << found.status().to_string();
  EXPECT_EQ(found->message, connector);
  EXPECT_EQ(found->offset, connector_offset);
  EXPECT_EQ(found->partition,
            value_or_throw(partition_for_key(env_.bus(), kControlTopic, testing::kQueueId)));
  // From the given offset, by target only.
  JobSpec by_target{.queue_id = testing::kQueueId, .target = "loader-producer"};
  by_target.control_offset = loader_offset;
  found = find_start_command(env_.bus(), by_target, 1s);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->message.telemetry_id, "loader-producer__a1b2c3");
  // A start published after the offset given is not this job's.
  JobSpec late = testing::spec_for(loader, connector_offset);
  auto missing = find_start_command(env_.bus(), late, 200ms);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no start command"), std::string::npos);
  // A start that arrives while waiting is found.
  auto graph = testing::make_start(testing::kQueueId, "graph-builder", "graph_build");
  std::thread later([&] {
    std::this_thread::sleep_for(100ms);
    testing::publish_command(env_.bus(), graph);
  });
  found = find_start_command(env_.bus(), testing::spec_for(graph), 5s);
  later.join();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->message.target, "graph-builder");
  // Neither target nor telemetry id: a caller bug.
  EXPECT_EQ(find_start_command(env_.bus(), JobSpec{.queue_id = "x"}, 1s).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(JobTest, StopMatching) {
  JobSpec spec{.queue_id = testing::kQueueId,
               .target = "arango-connector",
               .telemetry_id = "arango-connector__a1b2c3"};
  auto stop = testing::make_stop(testing::kQueueId);
  EXPECT_TRUE(is_stop_for(stop, spec));
  stop.target = "loader-producer";
  EXPECT_FALSE(is_stop_for(stop, spec));
  stop.target = "arango-connector";
  EXPECT_TRUE(is_stop_for(stop, spec));
  stop.telemetry_id = "arango-connector__ffffff";
  EXPECT_FALSE(is_stop_for(stop, spec));
  EXPECT_FALSE(is_stop_for(testing::make_stop("wf-other"), spec));
  EXPECT_FALSE(is_stop_for(testing::make_start(testing::kQueueId, "arango-connector"), spec));
}

TEST_F(JobTest, RegistryRoutesByTargetAndTypePrefix) {
  using protocol::Worker;
  auto worker = [](std::string target, std::string type) {
    auto m = testing::make_start(testing::kQueueId, target, type);
    return JobRegistry::worker_for(m);
  };
  EXPECT_EQ(*worker("loader-producer", "api_candles_5m"), Worker::kRestLoader);
  EXPECT_EQ(*worker("loader-api", "ws_trades"), Worker::kWsLoader);
  EXPECT_EQ(*worker("loader-producer", "bulk_candles_1m"), Worker::kBulkLoader);
  EXPECT_EQ(*worker("arango-connector", "api_trades"), Worker::kConnector);
  EXPECT_EQ(worker("arango-connector", "gnn_train").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(worker("loader-x", "api_trades").status().message().find("field 'target'"), std::string::npos);
  auto unregistered = registry_.create(testing::make_start(testing::kQueueId, "loader-producer"));
  EXPECT_EQ(unregistered.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(unregistered.status().message().find("rest-loader"), std::string::npos);
  EXPECT_TRUE(registry_.create(dummy_start("complete")));
}

TEST_F(JobTest, LifecycleStartedLoadingCompleted) {
  auto start = dummy_start("complete");
  int64_t offset = testing::publish_command(env_.bus(), start);
  ASSERT_TRUE(run_job(job_env(), testing::spec_for(start, offset)));
  auto events = testing::read_events(env_.bus(), testing::kQueueId, start.telemetry_id);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events.front().event.status, WorkflowStatus::kStarted);
  EXPECT_EQ(events.front().event.finished, false);
  for (size_t i = 1; i <= 5; ++i) {
    EXPECT_EQ(events[i].event.status, WorkflowStatus::kLoading);
    EXPECT_EQ(events[i].event.records_written, static_cast<int64_t>(i * 10));
  }
  const auto& last = events.back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(last.message, "all 50 saved");
  EXPECT_EQ(last.records_written, 50);
  EXPECT_EQ(last.finished, true);
  EXPECT_EQ(last.producer, "dummy-service__a1b2c3");
  EXPECT_EQ(last.symbol, "BTCUSDT");
  EXPECT_EQ(last.type, "api_candles_5m");
}

TEST_F(JobTest, ErrorCarriesTheMessage) {
  auto start = dummy_start("error");
  testing::publish_command(env_.bus(), start);
  Status result = run_job(job_env(), testing::spec_for(start));
  EXPECT_EQ(result.code(), ErrorCode::kUnavailable);
  auto events = testing::read_events(env_.bus(), testing::kQueueId);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event.status, WorkflowStatus::kError);
  EXPECT_EQ(events[1].event.message, "the exchange answered 503");
  EXPECT_EQ(events[1].event.finished, true);
}

TEST_F(JobTest, ExceptionBecomesError) {
  auto start = dummy_start("throw");
  testing::publish_command(env_.bus(), start);
  Status result = run_job(job_env(), testing::spec_for(start));
  EXPECT_EQ(result.code(), ErrorCode::kInternal);
  auto events = testing::read_events(env_.bus(), testing::kQueueId);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event.status, WorkflowStatus::kError);
  EXPECT_NE(events[1].event.message.find("kaboom"), std::string::npos);
}

TEST_F(JobTest, StopCommandIsHonoured) {
  auto start = dummy_start("wait_stop");
  testing::publish_command(env_.bus(), start);
  // Another workflow's stop does not touch this job.
  std::thread stopper([&] {
    testing::wait_until([&] { return !statuses(start.telemetry_id).empty(); });
    testing::publish_command(env_.bus(), testing::make_stop("wf-ethusdt-api_candles_5m-20240801-ffffff"));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(statuses(start.telemetry_id).size(), 1u);
    testing::publish_command(env_.bus(), testing::make_stop(testing::kQueueId));
  });
  Status result = run_job(job_env(), testing::spec_for(start));
  stopper.join();
  EXPECT_EQ(result.code(), ErrorCode::kCancelled);
  EXPECT_EQ(statuses(start.telemetry_id),
            (std::vector<WorkflowStatus>{WorkflowStatus::kStarted, WorkflowStatus::kStopped}));
  auto last = testing::read_events(env_.bus(), testing::kQueueId).back().event;
  EXPECT_NE(last.message.find("stop command"), std::string::npos);
  EXPECT_EQ(last.finished, true);
}

TEST_F(JobTest, StopPublishedBeforeTheJobRanStopsItAtOnce) {
  auto start = dummy_start("wait_stop");
  testing::publish_command(env_.bus(), start);
  testing::publish_command(env_.bus(), testing::make_stop(testing::kQueueId));
  EXPECT_EQ(run_job(job_env(), testing::spec_for(start)).code(), ErrorCode::kCancelled);
  EXPECT_EQ(statuses(start.telemetry_id).back(), WorkflowStatus::kStopped);
}

TEST_F(JobTest, AFailureAfterAStopCountsAsStopped) {
  auto start = dummy_start("ignore_stop_then_fail");
  testing::publish_command(env_.bus(), start);
  std::stop_source host;
  std::thread stopper([&] {
    testing::wait_until([&] { return !statuses(start.telemetry_id).empty(); });
    host.request_stop();
  });
  Status result = run_job(job_env(), testing::spec_for(start), {.stop = host.get_token()});
  stopper.join();
  EXPECT_EQ(result.code(), ErrorCode::kCancelled);
  auto last = testing::read_events(env_.bus(), testing::kQueueId).back().event;
  EXPECT_EQ(last.status, WorkflowStatus::kStopped);
  EXPECT_EQ(last.message, "interrupted write");
}

TEST_F(JobTest, AbandonedJobPublishesNoTerminalEvent) {
  auto start = dummy_start("wait_stop");
  testing::publish_command(env_.bus(), start);
  std::stop_source abandon;
  std::thread host([&] {
    testing::wait_until([&] { return !statuses(start.telemetry_id).empty(); });
    abandon.request_stop();
  });
  Status result = run_job(job_env(), testing::spec_for(start), {.abandon = abandon.get_token()});
  host.join();
  EXPECT_EQ(result.code(), ErrorCode::kCancelled);
  EXPECT_EQ(statuses(start.telemetry_id), std::vector<WorkflowStatus>{WorkflowStatus::kStarted});
}

TEST_F(JobTest, MissingStartOrUnknownKindIsReportedAsError) {
  auto env = job_env();
  env.start_timeout = 100ms;
  auto never_sent = dummy_start("complete");
  EXPECT_EQ(run_job(env, testing::spec_for(never_sent)).code(), ErrorCode::kNotFound);
  auto events = testing::read_events(env_.bus(), testing::kQueueId, never_sent.telemetry_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.status, WorkflowStatus::kError);
  EXPECT_NE(events[0].event.message.find("no start command"), std::string::npos);

  auto loader = testing::make_start(testing::kQueueId, "loader-producer");
  testing::publish_command(env_.bus(), loader);
  EXPECT_EQ(run_job(env, testing::spec_for(loader)).code(), ErrorCode::kNotFound);
  events = testing::read_events(env_.bus(), testing::kQueueId, loader.telemetry_id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.status, WorkflowStatus::kError);
  EXPECT_NE(events[0].event.message.find("no job registered for worker 'rest-loader'"), std::string::npos);
}

}  // namespace
}  // namespace sf::services
