// A test fixture for loader jobs run through the real manager (QueueManager + InProcessLauncher + the
// built-in jobs) with the embedded bus and RocksDB in a temporary directory: start a workflow as `POST
// /queues/start` would, wait for it, read what was stored. Each loader's test adds its exchange (simulator)
// and checks.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/job/tests/job_test_util.h"
#include "services/manager/queue_manager.h"

namespace sf::services::testing {

class LoaderTest : public ::testing::Test {
 protected:
  void TearDown() override { close_manager(); }

  // Opens the manager over `registry_` (the built-in jobs; a test replaces one with registry_.add() first).
  // `configure` sets the jobs' environment (exchange URLs, ...) after the fast test defaults.
  void open_manager(const std::function<void(JobEnvironment&)>& configure = {}, int32_t data_partitions = 2,
                    InProcessLauncherOptions launcher_options = {}) {
    JobEnvironment e{env_.bus(), env_.store(), registry_};
    e.metrics = metrics_;
    e.settings.poll_interval = std::chrono::milliseconds(20);
    e.telemetry.loading_interval = std::chrono::milliseconds(20);
    e.start_timeout = std::chrono::seconds(5);
    if (configure) configure(e);
    launcher_ = std::make_unique<InProcessLauncher>(e, launcher_options);
    QueueManagerOptions o;
    o.poll_timeout = std::chrono::milliseconds(20);
    o.data_partitions = data_partitions;
    o.make_suffix = [this] { return fmt::format("{:06x}", next_suffix_++); };
    o.metrics = metrics_;
    auto manager = QueueManager::open(env_.bus(), env_.store(), *launcher_, o);
    ASSERT_TRUE(manager) << manager.status().to_string();
    manager_ = std::move(manager).value();
  }
  void close_manager() {
    manager_.reset();
    launcher_.reset();
  }

  WorkflowState start(const std::string& symbol, const std::string& type, const std::string& range,
                      protocol::Json extra = protocol::Json::object()) {
    StartRequest r;
    r.symbol = symbol;
    r.type = type;
    r.time_range = range;
    r.extra = std::move(extra);
    auto started = manager_->start(r);
    EXPECT_TRUE(started) << started.status().to_string();
    return started ? *started : WorkflowState{};
  }
  WorkflowState finish(const std::string& queue_id,
                       std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    auto done = manager_->wait_finished(queue_id, timeout);
    EXPECT_TRUE(done) << done.status().to_string();
    return done ? *done : WorkflowState{};
  }
  // Asks the workflow to stop and waits until it has ended.
  WorkflowState stop_and_wait(const std::string& queue_id,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    auto stopped = manager_->stop(queue_id);
    EXPECT_TRUE(stopped) << stopped.status().to_string();
    return finish(queue_id, timeout);
  }

  // start + finish.
  WorkflowState run(const std::string& symbol, const std::string& type, const std::string& range,
                    protocol::Json extra = protocol::Json::object()) {
    auto started = start(symbol, type, range, std::move(extra));
    if (started.queue_id.empty()) return {};
    return finish(started.queue_id);
  }

  static const ServiceState& loader(const WorkflowState& w) {
    for (const auto& s : w.services) {
      if (s.telemetry_id.rfind("loader-", 0) == 0) return s;
    }
    ADD_FAILURE() << "no loader in " << w.queue_id;
    return w.services.at(0);
  }

  // key -> document, from the store (empty when the collection does not exist).
  std::map<std::string, std::string> stored(const std::string& collection) {
    std::map<std::string, std::string> out;
    auto s = env_.store().scan(collection, {}, [&](std::string_view k, std::string_view d) {
      out.emplace(std::string(k), std::string(d));
      return true;
    });
    if (!s && s.code() != ErrorCode::kNotFound) ADD_FAILURE() << s.to_string();
    return out;
  }
  // id -> document, for collections keyed by a numeric natural key (open time, trade id, update id).
  std::map<int64_t, std::string> stored_by_id(const std::string& collection) {
    std::map<int64_t, std::string> out;
    for (auto& [k, d] : stored(collection)) out.emplace(std::stoll(k), std::move(d));
    return out;
  }

  // How often each key was published on a topic.
  std::map<std::string, int> topic_keys(const std::string& topic) {
    std::map<std::string, int> out;
    auto info = env_.bus().describe_topic(topic);
    if (!info) return out;
    bus::FetchBatch batch;
    for (const auto& p : info->partitions) {
      PartitionTail tail(env_.bus(), topic, p.partition, p.log_start_offset);
      while (tail.position() < p.log_end_offset) {
        if (!tail.next(std::chrono::milliseconds(0), batch) || batch.empty()) break;
        for (const auto& r : batch) ++out[std::string(r.key)];
      }
    }
    return out;
  }

  uint64_t docs(const std::string& collection) {
    auto n = env_.store().count(collection);
    return n ? *n : 0;
  }

  TestEnv env_;
  JobRegistry registry_ = builtin_job_registry();
  std::shared_ptr<MetricsRegistry> metrics_ = make_metrics_registry();
  int next_suffix_ = 0xa1b2c3;  // queue ids end in -a1b2c3, -a1b2c4, ...
  std::unique_ptr<InProcessLauncher> launcher_;
  std::unique_ptr<QueueManager> manager_;
};

}  // namespace sf::services::testing
