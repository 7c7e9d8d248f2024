// Live market data end to end: exchange-sim's WebSocket streams -> loader-ws (shared hub) -> embedded bus ->
// arango-connector -> RocksDB, in one process on 127.0.0.1. Prints messages/s pushed by the simulator,
// records/s published by the loaders and stored by the connectors, the process's CPU per stored message
// ((user + sys) / messages: the machine is shared, wall-clock rates depend on the load) and the load average.
//
//   ws_loader_bench [symbols=50] [seconds=10] [clock_rate=200] [activity=1]
// clock_rate > 1 makes the simulated market run that many times faster (more messages per second, but the
// event time `E` is then on the accelerated clock). activity > 1 makes every symbol trade that many times
// more on the same clock (exchange-sim --activity). With clock_rate 1 the event time is real time and the
// bench measures E -> stored: a probe connection of its own records each trade's `E` as the simulator pushes
// it (every connection gets the same events with the same E), and the store the connectors write to records
// when each document's upsert returned; latency = stored - E, p50/p99/max over the trades of the measured
// window. E.g. `ws_loader_bench 50 10 1 150` for ~10,000 msgs/s in real time.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "bus/bus.h"
#include "exchange/binance_ws.h"
#include "exchange/sim/exchange_sim.h"
#include "protocol/naming.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/ws/stream_events.h"
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

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// The store the connectors write to, noting when each document's upsert returned (latency mode only).
class TimingStore final : public store::Store {
 public:
  TimingStore(store::Store& inner, std::function<int64_t()> clock)
      : inner_(inner), clock_(std::move(clock)) {}
  void record(bool on) { recording_ = on; }

  struct Stored {
    std::string collection;
    int64_t id;
    int64_t at_ms;
  };
  std::vector<Stored> take() {
    std::lock_guard lock(mu_);
    return std::move(stored_);
  }

  Status create_collection(std::string_view name) override { return inner_.create_collection(name); }
  Status drop_collection(std::string_view name) override { return inner_.drop_collection(name); }
  Result<std::vector<store::CollectionInfo>> list_collections() override { return inner_.list_collections(); }
  Result<store::UpsertResult> upsert(std::string_view collection, std::span<const std::string_view> documents,
                                     const store::UpsertOptions& options) override {
    auto result = inner_.upsert(collection, documents, options);
    if (!recording_ || !result) return result;
    const int64_t now = clock_();
    std::lock_guard lock(mu_);
    for (std::string_view d : documents) {
      constexpr std::string_view kPrefix = "{\"_key\":\"";
      if (!d.starts_with(kPrefix)) continue;
      stored_.push_back({std::string(collection), std::atoll(d.data() + kPrefix.size()), now});
    }
    return result;
  }
  Result<size_t> remove(std::string_view collection, std::span<const std::string_view> keys) override {
    return inner_.remove(collection, keys);
  }
  Result<std::optional<std::string>> get(std::string_view collection, std::string_view key) override {
    return inner_.get(collection, key);
  }
  Status scan(std::string_view collection, const store::ScanOptions& options,
              const store::ScanVisitor& visit) override {
    return inner_.scan(collection, options, visit);
  }
  Result<uint64_t> count(std::string_view collection) override { return inner_.count(collection); }
  Status persist(std::string_view collection) override { return inner_.persist(collection); }
  Status flush() override { return inner_.flush(); }

 private:
  store::Store& inner_;
  std::function<int64_t()> clock_;
  std::atomic<bool> recording_{false};
  std::mutex mu_;
  std::vector<Stored> stored_;
};

// A connection of the bench's own to the same trade streams: each trade's `E` as the simulator pushed it.
class EventTimeProbe {
 public:
  EventTimeProbe(const std::string& ws_url, const std::vector<std::string>& symbols)
      : parser_(services::loaders::StreamEventKind::kTrade, "", "") {
    std::string url = ws_url + "/stream?streams=";
    for (size_t i = 0; i < symbols.size(); ++i) {
      std::string lower;
      for (char c : symbols[i]) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (i > 0) url += '/';
      url += lower + "@trade";
      symbol_of_[lower + "@trade"] = symbols[i];
    }
    exchange::StreamConnectionHandlers h;
    h.on_message = [this](std::string&& frame) { on_frame(frame); };
    link_ = value_or_throw(exchange::StreamConnection::create(ioc_, url, {}, std::move(h)));
    link_->start();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~EventTimeProbe() {
    link_->close();
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  // symbol -> trade id -> E
  std::map<std::string, std::unordered_map<int64_t, int64_t>> take() {
    std::lock_guard lock(mu_);
    return std::move(event_time_);
  }

 private:
  void on_frame(std::string_view frame) {
    constexpr std::string_view kPrefix = "{\"stream\":\"";
    if (!frame.starts_with(kPrefix)) return;
    const auto end = frame.find('"', kPrefix.size());
    auto it = symbol_of_.find(std::string(frame.substr(kPrefix.size(), end - kPrefix.size())));
    if (it == symbol_of_.end() || !parser_.parse(frame, event_)) return;
    std::lock_guard lock(mu_);
    event_time_[it->second].emplace(event_.trade.trade_id, event_.event_time);
  }

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::shared_ptr<exchange::StreamConnection> link_;
  std::thread thread_;
  std::map<std::string, std::string> symbol_of_;
  services::loaders::StreamEventParser parser_;
  services::loaders::StreamEvent event_;
  std::mutex mu_;
  std::map<std::string, std::unordered_map<int64_t, int64_t>> event_time_;
};

}  // namespace

int main(int argc, char** argv) {
  const int symbols = argc > 1 ? std::atoi(argv[1]) : 50;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  const double rate = argc > 3 ? std::atof(argv[3]) : 200;
  const double activity = argc > 4 ? std::atof(argv[4]) : 1;
  const bool latency_mode = rate == 1.0;
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
    auto rocksdb = value_or_throw(store::open_rocksdb_store(so));
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
    TimingStore timing(*rocksdb, clock);
    store::Store* store = &timing;
    exchange::sim::ExchangeSimOptions o;
    o.listen = "127.0.0.1:0";
    o.clock = clock;
    o.activity = activity;
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
    std::map<std::string, std::string> symbol_of_collection;
    std::vector<std::string> symbol_names;
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
          symbol_of_collection[m.collection_name] = spec.name;
          symbol_names.push_back(spec.name);
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
    std::optional<EventTimeProbe> probe;
    if (latency_mode) probe.emplace(sim.ws_url(), symbol_names);
    std::this_thread::sleep_for(2s);  // connect and warm up
    const uint64_t sent0 = sim.streams().stats().messages;
    const int64_t pub0 = published(), stored0 = stored();
    const auto m0 = std::chrono::steady_clock::now();
    const int64_t window_begin = clock();
    const double cpu0 = cpu_seconds();
    timing.record(latency_mode);
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    const double cpu = cpu_seconds() - cpu0;
    const int64_t window_end = clock();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m0).count();
    const uint64_t sent = sim.streams().stats().messages - sent0;
    const int64_t pub = published() - pub0, st = stored() - stored0;
    const std::string load = load_average();
    // Trades pushed in the window and stored within a second after it still count.
    if (latency_mode) std::this_thread::sleep_for(1s);
    timing.record(false);
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
    fmt::print("  process CPU {:.2f} s (user+sys) = {:.2f} us per stored message; load average {}\n", cpu,
               st > 0 ? cpu * 1e6 / static_cast<double>(st) : 0.0, load);
    fmt::print("  hub: {} connection(s) opened, {} disconnects\n", lo.hub->stats().connections_opened,
               lo.hub->stats().disconnects);
    fmt::print("  total stored after stop: {} (published {})\n", stored(), published());
    if (latency_mode) {
      auto event_times = probe->take();
      probe.reset();
      // The first store of each trade pushed in the window (a replay stores it again later).
      std::map<std::pair<std::string, int64_t>, int64_t> first_stored;
      for (const auto& s : timing.take()) {
        auto [it, fresh] = first_stored.try_emplace({s.collection, s.id}, s.at_ms);
        if (!fresh) it->second = std::min(it->second, s.at_ms);
      }
      std::vector<int64_t> lat;
      int64_t unknown = 0;
      for (const auto& [key, at] : first_stored) {
        const auto& times = event_times[symbol_of_collection[key.first]];
        auto e = times.find(key.second);
        if (e == times.end()) {
          ++unknown;
          continue;
        }
        if (e->second < window_begin || e->second > window_end) continue;
        lat.push_back(at - e->second);
      }
      std::sort(lat.begin(), lat.end());
      if (!lat.empty()) {
        auto pct = [&](double p) {
          return lat[std::min(lat.size() - 1, static_cast<size_t>(p * static_cast<double>(lat.size())))];
        };
        fmt::print(
            "  E -> stored over {} trades pushed in the window: p50 {} ms, p99 {} ms, max {} ms "
            "({} stored trades the probe did not see)\n",
            lat.size(), pct(0.5), pct(0.99), lat.back(), unknown);
      }
    }
    if (latency_mode) {
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
