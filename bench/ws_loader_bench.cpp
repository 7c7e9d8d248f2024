// Live market data end to end: exchange-sim's WebSocket streams -> loader-ws (shared hub) -> embedded bus ->
// arango-connector -> RocksDB, in one process on 127.0.0.1. Prints messages/s pushed by the simulator,
// records/s published by the loaders and stored by the connectors, and the loaders' event-time lag (exchange
// `E` -> published) when the exchange clock runs at real time.
//
//   ws_loader_bench [symbols=50] [seconds=10] [clock_rate=200]
// clock_rate > 1 makes the simulated market trade that many times faster (more messages per second); the lag
// is then not meaningful (E is on the accelerated clock) and is printed only for clock_rate 1.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "bus/bus.h"
#include "exchange/sim/exchange_sim.h"
#include "protocol/naming.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/ws/ws_loader.h"
#include "store/store.h"

using namespace sf;
using namespace std::chrono_literals;

namespace {

int64_t publish(bus::Bus& bus, const protocol::ControlMessage& m) {
  const std::string value = protocol::serialize(m);
  bus::OutgoingRecord r;
  r.key = m.queue_id;
  r.value = value;
  auto produced = bus.produce(services::kControlTopic, std::span<const bus::OutgoingRecord>(&r, 1));
  if (!produced) throw Error(produced.status());
  return produced->records[0].offset;
}

}  // namespace

int main(int argc, char** argv) {
  const int symbols = argc > 1 ? std::atoi(argv[1]) : 50;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  const double rate = argc > 3 ? std::atof(argv[3]) : 200;
  spdlog::set_level(spdlog::level::warn);

  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("sf-ws-bench-{}", std::random_device{}());
  std::filesystem::create_directories(dir);
  {
    bus::EmbeddedBusOptions bo;
    bo.dir = dir / "bus";
    bo.fsync_policy = bus::FsyncPolicy::kNone;
    auto bus = value_or_throw(bus::open_embedded_bus(bo));
    store::RocksDbStoreOptions so;
    so.path = (dir / "store").string();
    auto store = value_or_throw(store::open_rocksdb_store(so));
    if (Status s = services::ensure_service_topics(*bus); !s) throw Error(s);

    const auto t0 = std::chrono::steady_clock::now();
    const int64_t base = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    auto clock = [t0, base, rate] {
      return base +
             static_cast<int64_t>(
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() *
                 rate);
    };
    exchange::sim::ExchangeSimOptions o;
    o.listen = "127.0.0.1:0";
    o.clock = clock;
    o.rate_limit.weight_limit = 1'000'000;
    exchange::sim::ExchangeSim sim(o);
    value_or_throw(sim.start());

    services::WsLoaderOptions lo;
    lo.hub = std::make_shared<services::loaders::StreamHub>(sim.ws_url());
    lo.budget = std::make_shared<services::loaders::WeightBudget>(
        services::loaders::WeightBudgetOptions{.limit = 1'000'000},
        services::loaders::LoaderClock{clock, rate});
    services::JobRegistry registry = services::builtin_job_registry();
    registry.add(protocol::Worker::kWsLoader, [lo] { return std::make_unique<services::WsLoaderJob>(lo); });
    services::JobEnvironment env{*bus, *store, registry};
    env.settings.exchange_rest_url = sim.base_url();
    env.settings.exchange_ws_url = sim.ws_url();
    env.settings.poll_interval = 20ms;
    services::InProcessLauncher launcher(env, services::InProcessLauncherOptions{.max_jobs = 1024});

    std::vector<protocol::ControlMessage> loaders;
    std::vector<std::string> collections;
    int n = 0;
    for (const auto& spec : sim.symbols().all()) {
      if (n++ == symbols) break;
      auto type = *protocol::parse_workflow_type("ws_trades");
      const std::string id =
          value_or_throw(protocol::make_workflow_id(spec.name, type, base, fmt::format("{:06x}", n)));
      for (const char* target : {"loader-ws", "arango-connector"}) {
        protocol::ControlMessage m;
        m.queue_id = id;
        m.target = target;
        m.symbol = spec.name;
        m.type = "ws_trades";
        m.time_range = std::to_string(base) + ":";
        m.kafka_topic = protocol::data_topic(id);
        m.collection_name = value_or_throw(protocol::collection_name(spec.name, type, base));
        m.telemetry_id = protocol::telemetry_id(target, id);
        m.timestamp = services::epoch_seconds_now();
        if (std::string_view(target) == "arango-connector") {
          m.extra["upstream"] = protocol::Json::array({protocol::telemetry_id("loader-ws", id)});
          collections.push_back(m.collection_name);
        } else {
          loaders.push_back(m);
        }
        services::JobSpec spec_;
        spec_.queue_id = id;
        spec_.target = target;
        spec_.telemetry_id = m.telemetry_id;
        spec_.control_offset = publish(*bus, m);
        if (Status s = launcher.launch(spec_); !s) throw Error(s);
      }
    }

    auto stored = [&] {
      int64_t total = 0;
      for (const auto& c : collections) {
        auto k = store->count(c);
        if (k) total += static_cast<int64_t>(*k);
      }
      return total;
    };
    auto published = [&] {
      int64_t total = 0;
      for (const auto& m : loaders) {
        auto info = bus->describe_topic(m.kafka_topic);
        if (!info) continue;
        for (const auto& p : info->partitions) total += p.log_end_offset - p.log_start_offset;
      }
      return total;
    };
    std::this_thread::sleep_for(2s);  // connect and warm up
    const uint64_t sent0 = sim.streams().stats().messages;
    const int64_t pub0 = published(), stored0 = stored();
    const auto m0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
    const uint64_t sent = sim.streams().stats().messages - sent0;
    const int64_t pub = published() - pub0, st = stored() - stored0;
    for (const auto& m : loaders) {
      protocol::ControlMessage stop;
      stop.command = protocol::Command::kStop;
      stop.queue_id = m.queue_id;
      stop.timestamp = services::epoch_seconds_now();
      publish(*bus, stop);
    }
    launcher.wait_idle(120s);
    fmt::print("symbols {} x ws_trades, clock rate {}, {:.1f} s measured\n", symbols, rate, elapsed);
    fmt::print("  sim pushed      {:>10.0f} msgs/s\n", static_cast<double>(sent) / elapsed);
    fmt::print("  loaders published {:>8.0f} records/s\n", static_cast<double>(pub) / elapsed);
    fmt::print("  connectors stored {:>8.0f} records/s\n", static_cast<double>(st) / elapsed);
    fmt::print("  hub: {} connection(s) opened, {} disconnects\n", lo.hub->stats().connections_opened,
               lo.hub->stats().disconnects);
    fmt::print("  total stored after stop: {} (published {})\n", stored(), published());
    if (rate == 1.0) {
      // The loaders' own lag figures (exchange E -> published), from their `loading` events.
      std::vector<int64_t> p50s;
      int64_t worst = 0;
      bus::FetchBatch batch;
      services::PartitionTail tail(*bus, std::string(services::kEventsTopic), 0, 0);
      while (tail.next(0ms, batch).is_ok() && !batch.empty()) {
        for (const auto& r : batch) {
          auto e = protocol::parse_event_message(r.value);
          if (!e || e->status != protocol::WorkflowStatus::kLoading) continue;
          auto p50 = e->extra_field<int64_t>("lag_ms_p50");
          auto max = e->extra_field<int64_t>("lag_ms_max");
          if (p50 && p50->has_value() && **p50 > 0) p50s.push_back(**p50);
          if (max && max->has_value()) worst = std::max(worst, **max);
        }
      }
      std::sort(p50s.begin(), p50s.end());
      if (!p50s.empty()) {
        fmt::print("  lag E->published: median of per-second p50s {} ms, p99 of them {} ms, max {} ms\n",
                   p50s[p50s.size() / 2], p50s[std::min(p50s.size() - 1, p50s.size() * 99 / 100)], worst);
      }
    }
    sim.stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
