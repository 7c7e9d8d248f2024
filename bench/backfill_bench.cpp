// REST backfill end to end in one process on 127.0.0.1: exchange-sim -> loader-api -> embedded bus ->
// arango-connector -> RocksDB, driven by the real queue-manager (QueueManager + InProcessLauncher + the
// built-in jobs). A plain harness (no Google Benchmark: each run is one long measurement). Release build:
//   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build-rel backfill_bench
//   backfill_bench pace [--seconds 30] [--rate 6] [--weight-limit 1200] [--workflows 2]
//   backfill_bench throughput [--symbols 10] [--days 365] [--interval 1m] [--loaders-only] [--store-logged]
//   backfill_bench            (both, with the defaults)
//
// pace: the simulator and the loaders' weight budget share a clock running `rate` times faster than real
//   time (the exchange's minute lasts 60/rate s), the simulator allows `weight-limit` weight per minute, the
//   loaders learn that limit from exchangeInfo and share one budget. After `seconds`, the workflows are
//   stopped. Reported: the exchange's own used weight (X-MBX-USED-WEIGHT-1M, highest per window) of every
//   complete window as a share of the limit (target >= 90%), and the 429 and 418 counts (targets: 0).
// throughput: limits off (simulator and loader budgets at 10^9); `symbols` workflows of `days` of candles
//   started at once; candles/s from the first start to the last workflow finished (every document stored),
//   and the loaders' own rate (sim -> topic). --loaders-only runs the workflows without arango-connector
//   (sim -> topic alone, to see what the store side costs). --store-logged writes every upsert through the
//   store's write-ahead log, as before connectors wrote deferred (bench/logged_store.h), for comparisons.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "exchange/sim/exchange_sim.h"
#include "logged_store.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/rest_loader.h"
#include "services/manager/queue_manager.h"
#include "store/store.h"

namespace {

using namespace sf;
using namespace sf::services;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* kSymbols[] = {"BTCUSDT", "ETHUSDT",  "BNBUSDT", "SOLUSDT", "XRPUSDT",  "DOGEUSDT", "ADAUSDT",
                          "TRXUSDT", "LINKUSDT", "LTCUSDT", "DOTUSDT", "AVAXUSDT", "ATOMUSDT", "ETCUSDT"};

struct Args {
  std::string mode = "both";
  double seconds = 30;
  double rate = 6;
  int weight_limit = 1200;
  int workflows = 2;
  int symbols = 10;
  int days = 365;
  std::string interval = "1m";
  bool loaders_only = false;
  bool store_logged = false;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "pace" || k == "throughput" || k == "both") {
      a.mode = k;
    } else if (k == "--seconds") {
      a.seconds = std::stod(next());
    } else if (k == "--rate") {
      a.rate = std::stod(next());
    } else if (k == "--weight-limit") {
      a.weight_limit = std::stoi(next());
    } else if (k == "--workflows") {
      a.workflows = std::stoi(next());
    } else if (k == "--symbols") {
      a.symbols = std::stoi(next());
    } else if (k == "--days") {
      a.days = std::stoi(next());
    } else if (k == "--interval") {
      a.interval = next();
    } else if (k == "--loaders-only") {
      a.loaders_only = true;
    } else if (k == "--store-logged") {
      a.store_logged = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

// Bus, store, launcher and manager in a temporary directory (removed at the end).
class Platform {
 public:
  Platform(const std::string& exchange_url, std::optional<RestLoaderOptions> loader,
           bool store_logged = false) {
    dir_ = fs::temp_directory_path() / fmt::format("sf-backfill-bench-{}", std::random_device{}());
    fs::create_directories(dir_);
    bus::EmbeddedBusOptions bo;
    bo.dir = dir_ / "bus";
    bus_ = value_or_throw(bus::open_embedded_bus(bo));
    store::RocksDbStoreOptions so;
    so.path = (dir_ / "store").string();
    store_ = sf::bench::maybe_logged_only(value_or_throw(store::open_rocksdb_store(so)), store_logged);
    registry_ = builtin_job_registry();
    if (loader) {
      registry_.add(protocol::Worker::kRestLoader,
                    [opts = *loader] { return std::make_unique<RestLoaderJob>(opts); });
    }
    JobEnvironment env{*bus_, *store_, registry_};
    env.settings.exchange_rest_url = exchange_url;
    launcher_ = std::make_unique<InProcessLauncher>(env);
    manager_ = value_or_throw(QueueManager::open(*bus_, *store_, *launcher_, {}));
  }
  ~Platform() {
    manager_.reset();
    launcher_.reset();
    store_.reset();
    bus_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  QueueManager& manager() { return *manager_; }
  store::Store& store() { return *store_; }

 private:
  fs::path dir_;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<store::Store> store_;
  JobRegistry registry_;
  std::unique_ptr<InProcessLauncher> launcher_;
  std::unique_ptr<QueueManager> manager_;
};

// The short form (loader + arango-connector), or the loader alone.
WorkflowState start(QueueManager& m, const std::string& symbol, const std::string& type,
                    const std::string& range, bool loader_only = false) {
  StartRequest r;
  r.symbol = symbol;
  r.type = type;
  r.time_range = range;
  if (loader_only) r.microservices = {ServiceRequest{.target = "loader-api"}};
  return value_or_throw(m.start(r));
}

const ServiceState& loader_of(const WorkflowState& w) {
  for (const auto& s : w.services) {
    if (s.telemetry_id.rfind("loader-", 0) == 0) return s;
  }
  return w.services.at(0);
}

// Extracts "429s: N" / "418s: N" from a loader's message.
int64_t count_in(const std::string& message, const std::string& label) {
  auto p = message.find(label);
  if (p == std::string::npos) return -1;
  return std::strtoll(message.c_str() + p + label.size(), nullptr, 10);
}

int run_pace(const Args& a) {
  const int64_t base = 1'735'689'600'000;  // 2025-01-01T00:00:00Z, a minute boundary
  // The clock starts (at `base`) when the workflows are started, so the first window is a complete one.
  auto t0 =
      std::make_shared<std::atomic<int64_t>>(std::chrono::steady_clock::now().time_since_epoch().count());
  const double rate = a.rate;
  auto clock = [t0, base, rate] {
    const auto real = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::duration(
                              std::chrono::steady_clock::now().time_since_epoch().count() - t0->load()))
                          .count();
    return base + static_cast<int64_t>(real * rate);
  };
  exchange::sim::ExchangeSimOptions so;
  so.listen = "127.0.0.1:0";
  so.clock = clock;
  so.rate_limit.weight_limit = a.weight_limit;
  exchange::sim::ExchangeSim sim(so);
  value_or_throw(sim.start());

  RestLoaderOptions lo;  // no weight_limit: learnt from exchangeInfo
  lo.budget = std::make_shared<loaders::WeightBudget>(loaders::WeightBudgetOptions{},
                                                      loaders::LoaderClock{clock, rate});
  Platform platform(sim.base_url(), lo);
  std::vector<WorkflowState> started;
  t0->store(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int i = 0; i < a.workflows; ++i) {
    started.push_back(start(platform.manager(), kSymbols[i % std::size(kSymbols)], "api_candles_1m",
                            "2018-01-01:2024-12-01"));
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  const int64_t end_clock = clock();
  for (const auto& w : started) (void)platform.manager().stop(w.queue_id);
  int64_t records = 0, r429 = 0, r418 = 0;
  for (const auto& w : started) {
    auto done = platform.manager().wait_finished(w.queue_id, 60s);
    if (!done) continue;
    const ServiceState& l = loader_of(*done);
    records += l.records_written;
    r429 += std::max<int64_t>(0, count_in(l.message, "429s: "));
    r418 += std::max<int64_t>(0, count_in(l.message, "418s: "));
    std::printf("  %s: %s\n", done->queue_id.c_str(), l.message.c_str());
  }

  const int64_t window = lo.budget->window_ms();
  const int limit = lo.budget->limit();
  const int64_t first = base / window;      // the run starts on a boundary: the first window is complete
  const int64_t last = end_clock / window;  // the window the stop fell in is not
  double sum = 0, lowest = 1e9;
  int n = 0;
  std::printf(
      "pace: limit %d weight per %lld clock-ms window, clock x%.1f (a window lasts %.1f s), %.0f s run\n",
      limit, static_cast<long long>(window), rate, static_cast<double>(window) / rate / 1000, a.seconds);
  for (const auto& [w, used] : lo.budget->used_by_window()) {
    const bool complete = w >= first && w < last;
    std::printf("  window %lld: used %d (%.1f%%)%s\n", static_cast<long long>(w - first), used,
                100.0 * used / limit, complete ? "" : " (partial, not counted)");
    if (!complete) continue;
    sum += static_cast<double>(used) / limit;
    lowest = std::min(lowest, static_cast<double>(used) / limit);
    ++n;
  }
  std::printf(
      "pace: %d complete windows, mean %.1f%% of the budget (lowest %.1f%%), 429s %lld, 418s %lld, "
      "%lld candles published\n",
      n, n ? 100 * sum / n : 0.0, n ? 100 * lowest : 0.0, static_cast<long long>(r429),
      static_cast<long long>(r418), static_cast<long long>(records));
  return 0;
}

int run_throughput(const Args& a) {
  exchange::sim::ExchangeSimOptions so;
  so.listen = "127.0.0.1:0";
  so.rate_limit.weight_limit = 1'000'000'000;
  exchange::sim::ExchangeSim sim(so);
  value_or_throw(sim.start());
  RestLoaderOptions lo;
  lo.weight_limit = 1'000'000'000;
  lo.budget = std::make_shared<loaders::WeightBudget>();
  Platform platform(sim.base_url(), lo, a.store_logged);

  const int64_t start_ms = 1'690'848'000'000;  // 2023-08-01
  const std::string range =
      fmt::format("{}:{}", format_utc_date(start_ms), format_utc_date(start_ms + a.days * 86'400'000LL));
  const std::string type = "api_candles_" + a.interval;
  const auto t0 = std::chrono::steady_clock::now();
  const double t0_epoch = epoch_seconds_now();
  std::vector<WorkflowState> started;
  for (int i = 0; i < a.symbols; ++i) {
    started.push_back(
        start(platform.manager(), kSymbols[i % std::size(kSymbols)], type, range, a.loaders_only));
  }
  int64_t stored = 0, published = 0;
  double loaders_done = 0;
  bool ok = true;
  for (const auto& w : started) {
    auto done = platform.manager().wait_finished(w.queue_id, 3600s);
    if (!done || done->status != protocol::WorkflowStatus::kCompleted) {
      std::printf("  %s did not complete: %s\n", w.queue_id.c_str(),
                  done ? done->error.c_str() : done.status().to_string().c_str());
      ok = false;
      continue;
    }
    const ServiceState& l = loader_of(*done);
    published += l.records_written;
    loaders_done = std::max(loaders_done, l.finished_at.value_or(0) - t0_epoch);
    if (!a.loaders_only) {
      stored += static_cast<int64_t>(value_or_throw(platform.store().count(done->collection_name)));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("throughput: %d symbols x %d days of %s candles: %lld published, %lld stored\n", a.symbols,
              a.days, a.interval.c_str(), static_cast<long long>(published), static_cast<long long>(stored));
  if (!a.loaders_only) {
    std::printf(
        "throughput: end to end (sim -> loader -> bus -> connector -> store) %.2f s = %.0f candles/s\n",
        seconds, static_cast<double>(stored) / seconds);
  }
  std::printf("throughput: loaders alone (sim -> topic) done after %.2f s = %.0f candles/s\n", loaders_done,
              static_cast<double>(published) / loaders_done);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  Args a = parse_args(argc, argv);
  int rc = 0;
  if (a.mode == "pace" || a.mode == "both") rc |= run_pace(a);
  if (a.mode == "throughput" || a.mode == "both") rc |= run_throughput(a);
  return rc;
}
