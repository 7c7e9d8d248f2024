// A fixture for live (WebSocket) loader workflows: a real ExchangeSim on 127.0.0.1:0 whose clock runs kRate
// times faster than real time from kBase, one StreamHub for the process's loaders, and the manager of
// LoaderTest. Workflows run from kBase with no end until stop_and_wait().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "exchange/sim/exchange_sim.h"
#include "services/loaders/tests/loader_test_util.h"
#include "services/loaders/ws/ws_loader.h"

namespace sf::services::testing {

class LiveLoaderTest : public LoaderTest {
 protected:
  static constexpr int64_t kBase =
      1722556800000 + 40'000;          // 2024-08-02T00:00:40Z: a minute closes within 1 s
  static constexpr double kRate = 20;  // exchange ms per real ms

  void TearDown() override {
    close_manager();
    hub_.reset();
    if (sim_) sim_->stop();
  }

  void start_sim(exchange::sim::StreamFaultOptions faults = {},
                 std::chrono::milliseconds lifetime = std::chrono::hours(24)) {
    const auto t0 = std::chrono::steady_clock::now();
    clock_ = [t0] {
      return kBase +
             static_cast<int64_t>(
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() *
                 kRate);
    };
    exchange::sim::ExchangeSimOptions o;
    o.listen = "127.0.0.1:0";
    o.clock = clock_;
    o.rate_limit.weight_limit = 1'000'000;
    o.streams.tick = std::chrono::milliseconds(50);
    o.streams.faults = faults;
    o.streams.lifetime = lifetime;
    sim_ = std::make_unique<exchange::sim::ExchangeSim>(std::move(o));
    ASSERT_TRUE(sim_->start());
  }

  // `loading_interval`: how often each job reports `loading` (every connector reads every event of the
  // single-partition queue-events, so many jobs want it longer).
  void open(loaders::StreamHubOptions hub_options = {},
            std::chrono::milliseconds loading_interval = std::chrono::milliseconds(200),
            size_t max_jobs = 256) {
    hub_options.connection.idle_timeout = std::chrono::seconds(5);
    hub_options.initial_backoff = std::chrono::milliseconds(50);
    hub_options.max_backoff = std::chrono::milliseconds(500);
    hub_ = std::make_shared<loaders::StreamHub>(sim_->ws_url(), hub_options);
    WsLoaderOptions loader;
    loader.hub = hub_;
    loader.budget = std::make_shared<loaders::WeightBudget>(loaders::WeightBudgetOptions{.limit = 1'000'000},
                                                            loaders::LoaderClock{clock_, kRate});
    registry_.add(protocol::Worker::kWsLoader, [loader] { return std::make_unique<WsLoaderJob>(loader); });
    open_manager(
        [&](JobEnvironment& e) {
          e.settings.exchange_rest_url = sim_->base_url();
          e.settings.exchange_ws_url = sim_->ws_url();
          e.telemetry.loading_interval = loading_interval;
          e.start_timeout = std::chrono::seconds(10);
        },
        QueueManagerOptions{}.data_partitions, InProcessLauncherOptions{.max_jobs = max_jobs});
  }

  WorkflowState start_live(const std::string& symbol, const std::string& type,
                           protocol::Json extra = protocol::Json::object()) {
    return start(symbol, type, std::to_string(kBase) + ":", std::move(extra));  // live: no end
  }

  std::function<int64_t()> clock_;
  std::unique_ptr<exchange::sim::ExchangeSim> sim_;
  std::shared_ptr<loaders::StreamHub> hub_;
};

}  // namespace sf::services::testing
