// Bulk history end to end in one process on 127.0.0.1: exchange-sim's dump files (zip + CHECKSUM) ->
// loader-producer (parallel Range downloads, SHA-256, zip streaming, CSV parsing) -> embedded bus ->
// arango-connector -> RocksDB, driven by the real queue-manager. A plain harness printing rows/s. Release:
//   ninja -C build-rel bulk_bench
//   bulk_bench agg     [--symbol BTCUSDT] [--month 2024-08] [--loaders-only] [--cache-dir DIR]
//   [--store-logged] bulk_bench candles [--symbols 10] [--year 2024] [--loaders-only] [--cache-dir DIR]
//   [--store-logged]
//   (--store-logged: every upsert through the store's write-ahead log, as before connectors wrote deferred)
// The simulator builds each zip once into --cache-dir (default: a directory under /tmp kept between runs);
// the harness asks for every CHECKSUM first so that the timed run downloads ready files (a real mirror
// serves static files). Rows/s: stored documents / seconds from the first workflow start to the last one
// completed (every document stored); the loaders' own rate (zip -> topic) from their completion times.
// Peak memory: run under /usr/bin/time -v (Maximum resident set size; it includes the simulator).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "exchange/sim/exchange_sim.h"
#include "logged_store.h"
#include "net/http_client.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/bulk/bulk_loader.h"
#include "services/loaders/bulk/file_plan.h"
#include "services/manager/queue_manager.h"
#include "store/store.h"

namespace {

using namespace sf;
using namespace sf::services;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* kSymbols[] = {"BTCUSDT", "ETHUSDT", "BNBUSDT",  "SOLUSDT", "XRPUSDT", "DOGEUSDT",
                          "ADAUSDT", "TRXUSDT", "LINKUSDT", "LTCUSDT", "DOTUSDT", "AVAXUSDT"};

struct Args {
  std::string mode = "agg";
  std::string symbol = "BTCUSDT";
  std::string month = "2024-08";
  int symbols = 10;
  int year = 2024;
  bool loaders_only = false;
  bool store_logged = false;
  std::string cache_dir = (fs::temp_directory_path() / "sf-bulk-bench-cache").string();
};

Args parse_args(int argc, char** argv) {
  Args a;
  int i = 1;
  if (argc > 1 && argv[1][0] != '-') a.mode = argv[i++];
  for (; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (k == "--symbol")
      a.symbol = next();
    else if (k == "--month")
      a.month = next();
    else if (k == "--symbols")
      a.symbols = std::stoi(next());
    else if (k == "--year")
      a.year = std::stoi(next());
    else if (k == "--loaders-only")
      a.loaders_only = true;
    else if (k == "--cache-dir")
      a.cache_dir = next();
    else if (k == "--store-logged")
      a.store_logged = true;
  }
  return a;
}

const ServiceState& loader_of(const WorkflowState& w) {
  for (const auto& s : w.services) {
    if (s.telemetry_id.rfind("loader-", 0) == 0) return s;
  }
  return w.services.at(0);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const Args a = parse_args(argc, argv);
  exchange::sim::ExchangeSimOptions so;
  so.listen = "127.0.0.1:0";
  so.bulk.cache_dir = a.cache_dir;
  exchange::sim::ExchangeSim sim(so);
  value_or_throw(sim.start());

  struct Job {
    std::string symbol, type, range;
  };
  std::vector<Job> jobs;
  if (a.mode == "agg") {
    // The whole month: "2024-08" -> 2024-08-01:2024-09-01.
    const int y = std::stoi(a.month.substr(0, 4)), m = std::stoi(a.month.substr(5, 2));
    jobs.push_back(
        {a.symbol, "bulk_agg_trades",
         fmt::format("{:04}-{:02}-01:{:04}-{:02}-01", y, m, m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1)});
  } else {
    for (int i = 0; i < a.symbols; ++i) {
      jobs.push_back({kSymbols[i % std::size(kSymbols)], "bulk_candles_1m",
                      fmt::format("{}-01-01:{}-01-01", a.year, a.year + 1)});
    }
  }

  // Warm the simulator's cache: every CHECKSUM (each builds its zip once).
  const auto w0 = std::chrono::steady_clock::now();
  for (const auto& j : jobs) {
    auto range = value_or_throw(parse_time_range(j.range));
    auto files = value_or_throw(loaders::bulk::plan_dump_files(
        j.symbol, value_or_throw(protocol::parse_workflow_type(j.type)), range.start_ms, *range.end_ms));
    for (const auto& f : files) {
      net::HttpClientOptions ho;
      ho.request_timeout = 600s;
      auto res = net::http_get(sim.base_url() + f.path + ".CHECKSUM", ho);
      if (!res || res->status != 200) {
        std::printf("warm-up: %s failed\n", f.path.c_str());
        return 1;
      }
    }
  }
  std::printf("warm-up (simulator builds the zips, cached in %s): %.1f s\n", a.cache_dir.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());

  const fs::path dir = fs::temp_directory_path() / fmt::format("sf-bulk-bench-{}", std::random_device{}());
  int rc = 0;
  {
    bus::EmbeddedBusOptions bo;
    bo.dir = dir / "bus";
    auto bus = value_or_throw(bus::open_embedded_bus(bo));
    store::RocksDbStoreOptions sto;
    sto.path = (dir / "store").string();
    auto store = sf::bench::maybe_logged_only(value_or_throw(store::open_rocksdb_store(sto)), a.store_logged);
    JobRegistry registry = builtin_job_registry();
    BulkLoaderOptions lo;
    lo.download_dir = dir / "downloads";
    registry.add(protocol::Worker::kBulkLoader, [lo] { return std::make_unique<BulkLoaderJob>(lo); });
    JobEnvironment env{*bus, *store, registry};
    env.settings.bulk_url = sim.base_url();
    InProcessLauncher launcher(env);
    auto manager = value_or_throw(QueueManager::open(*bus, *store, launcher, {}));

    const auto t0 = std::chrono::steady_clock::now();
    const double t0_epoch = epoch_seconds_now();
    std::vector<WorkflowState> started;
    for (const auto& j : jobs) {
      StartRequest r;
      r.symbol = j.symbol;
      r.type = j.type;
      r.time_range = j.range;
      if (a.loaders_only) r.microservices = {ServiceRequest{.target = "loader-producer"}};
      started.push_back(value_or_throw(manager->start(r)));
    }
    int64_t stored = 0, published = 0;
    double loaders_done = 0;
    for (const auto& w : started) {
      auto done = manager->wait_finished(w.queue_id, 7200s);
      if (!done || done->status != protocol::WorkflowStatus::kCompleted) {
        std::printf("  %s did not complete: %s\n", w.queue_id.c_str(),
                    done ? done->error.c_str() : done.status().to_string().c_str());
        rc = 1;
        continue;
      }
      const ServiceState& l = loader_of(*done);
      std::printf("  %s: %s\n", done->queue_id.c_str(), l.message.c_str());
      published += l.records_written;
      loaders_done = std::max(loaders_done, l.finished_at.value_or(0) - t0_epoch);
      if (!a.loaders_only)
        stored += static_cast<int64_t>(value_or_throw(store->count(done->collection_name)));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %zu workflows, %lld rows published, %lld stored\n", a.mode.c_str(), jobs.size(),
                static_cast<long long>(published), static_cast<long long>(stored));
    if (!a.loaders_only) {
      std::printf("end to end (zip -> loader -> bus -> connector -> store): %.2f s = %.0f rows/s\n", seconds,
                  static_cast<double>(stored) / seconds);
    }
    std::printf(
        "loaders alone (download + verify + inflate + parse -> topic): done after %.2f s = %.0f rows/s\n",
        loaders_done, static_cast<double>(published) / loaders_done);
    manager.reset();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
