// The in-process launcher: runs jobs on threads, dedupes relaunches, is bounded, stops and shuts down
// cleanly.
#include "services/job/launcher.h"

#include <gtest/gtest.h>

#include "services/job/tests/job_test_util.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
using testing::TestEnv;

// Runs until stopped unless its start says {"quick": true}; {"throw": true} throws.
class WaitingJob final : public Job {
 public:
  Status run(JobContext& ctx) override {
    if (ctx.command().extra_field<bool>("throw").value().value_or(false)) throw std::logic_error("bad job");
    if (ctx.command().extra_field<bool>("quick").value().value_or(false)) return Status::ok();
    while (!ctx.stop_requested()) std::this_thread::sleep_for(5ms);
    return Status::cancelled("stopped");
  }
};

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_service_topics(env_.bus()));
    registry_.add(protocol::Worker::kDummy, [] { return std::make_unique<WaitingJob>(); });
  }
  std::unique_ptr<InProcessLauncher> make_launcher(size_t max_jobs = 8,
                                                   std::shared_ptr<MetricsRegistry> metrics = nullptr) {
    JobEnvironment e{env_.bus(), env_.store(), registry_};
    e.metrics = std::move(metrics);
    e.settings.poll_interval = 20ms;
    e.start_timeout = 2s;
    return std::make_unique<InProcessLauncher>(e, InProcessLauncherOptions{.max_jobs = max_jobs});
  }
  JobSpec publish(const std::string& queue_id, protocol::Json extra = protocol::Json::object()) {
    auto m = testing::make_start(queue_id, "dummy-service");
    m.extra = std::move(extra);
    return testing::spec_for(m, testing::publish_command(env_.bus(), m));
  }
  std::vector<WorkflowStatus> statuses(const std::string& queue_id) {
    std::vector<WorkflowStatus> out;
    for (const auto& e : testing::read_events(env_.bus(), queue_id)) out.push_back(e.event.status);
    return out;
  }

  TestEnv env_;
  JobRegistry registry_;
};

const std::string kA = "wf-btcusdt-api_candles_5m-20240801-aaaaaa";
const std::string kB = "wf-btcusdt-api_candles_5m-20240801-bbbbbb";

TEST_F(LauncherTest, RunsJobsAndWaitsIdle) {
  auto metrics = make_metrics_registry();
  auto launcher = make_launcher(8, metrics);
  ASSERT_TRUE(launcher->launch(publish(kA, {{"quick", true}})));
  ASSERT_TRUE(launcher->launch(publish(kB, {{"quick", true}})));
  ASSERT_TRUE(launcher->wait_idle(10s));
  EXPECT_NE(render_metrics(*metrics).find(
                R"(streamforge_job_runs_total{outcome="completed",worker="dummy-service"} 2)"),
            std::string::npos)
      << render_metrics(*metrics);
  EXPECT_TRUE(launcher->running().empty());
  EXPECT_EQ(statuses(kA),
            (std::vector<WorkflowStatus>{WorkflowStatus::kStarted, WorkflowStatus::kCompleted}));
  EXPECT_EQ(statuses(kB),
            (std::vector<WorkflowStatus>{WorkflowStatus::kStarted, WorkflowStatus::kCompleted}));
}

TEST_F(LauncherTest, RelaunchOfARunningJobIsANoOpAndCapacityIsBounded) {
  auto launcher = make_launcher(/*max_jobs=*/1);
  JobSpec a = publish(kA);
  ASSERT_TRUE(launcher->launch(a));
  ASSERT_TRUE(launcher->launch(a));
  EXPECT_EQ(launcher->running().size(), 1u);
  Status full = launcher->launch(publish(kB));
  EXPECT_EQ(full.code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(testing::wait_until([&] { return statuses(kA).size() == 1; }));
  ASSERT_TRUE(launcher->stop(kA));
  EXPECT_EQ(launcher->stop(kB).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(launcher->wait_idle(10s));
  EXPECT_EQ(statuses(kA), (std::vector<WorkflowStatus>{WorkflowStatus::kStarted, WorkflowStatus::kStopped}));
  // A slot is free again.
  ASSERT_TRUE(launcher->launch(publish(kB, {{"quick", true}})));
  ASSERT_TRUE(launcher->wait_idle(10s));
}

TEST_F(LauncherTest, AThrowingJobEndsInErrorAndTheHostGoesOn) {
  auto launcher = make_launcher();
  ASSERT_TRUE(launcher->launch(publish(kA, {{"throw", true}})));
  ASSERT_TRUE(launcher->wait_idle(10s));
  auto events = testing::read_events(env_.bus(), kA);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].event.status, WorkflowStatus::kError);
  EXPECT_NE(events[1].event.message.find("bad job"), std::string::npos);
  ASSERT_TRUE(launcher->launch(publish(kB, {{"quick", true}})));
  ASSERT_TRUE(launcher->wait_idle(10s));
  EXPECT_EQ(statuses(kB).back(), WorkflowStatus::kCompleted);
}

TEST_F(LauncherTest, ShutdownAbandonsAndJoinsJobs) {
  auto launcher = make_launcher();
  ASSERT_TRUE(launcher->launch(publish(kA)));
  ASSERT_TRUE(launcher->launch(publish(kB)));
  ASSERT_TRUE(testing::wait_until([&] { return statuses(kA).size() == 1 && statuses(kB).size() == 1; }));
  launcher->shutdown();
  EXPECT_TRUE(launcher->running().empty());
  // No terminal event: the workflows stay in flight for a restarted manager to resume.
  EXPECT_EQ(statuses(kA), std::vector<WorkflowStatus>{WorkflowStatus::kStarted});
  EXPECT_EQ(statuses(kB), std::vector<WorkflowStatus>{WorkflowStatus::kStarted});
  EXPECT_EQ(launcher->launch(publish(kA)).code(), ErrorCode::kFailedPrecondition);
  launcher->shutdown();  // idempotent
}

TEST_F(LauncherTest, DestructionWithRunningJobsIsClean) {
  auto launcher = make_launcher();
  ASSERT_TRUE(launcher->launch(publish(kA)));
  launcher.reset();
  EXPECT_LE(statuses(kA).size(), 1u);
}

}  // namespace
}  // namespace sf::services
