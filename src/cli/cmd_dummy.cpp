// `streamforge dummy`: the diagnostic service — synthetic candles through the bus into the store, verified.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "bus/bus.h"
#include "cli/bus_flags.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "services/dummy/dummy_pipeline.h"
#include "store/store.h"

namespace sf::cli {
namespace {

struct DummyCommandOptions {
  std::string data_dir = "./streamforge-data";
  std::string fsync = "interval";  // every-batch | interval | none
  BusFlags bus;
  services::DummyOptions pipeline;
};

bus::FsyncPolicy parse_fsync(const std::string& text) {
  if (text == "every-batch") return bus::FsyncPolicy::kEveryBatch;
  if (text == "interval") return bus::FsyncPolicy::kInterval;
  if (text == "none") return bus::FsyncPolicy::kNone;
  throw Error(Status::invalid_argument("--fsync must be every-batch, interval or none, not '" + text + "'"));
}

int run(const DummyCommandOptions& options) {
  std::filesystem::path root(options.data_dir);
  bus::EmbeddedBusOptions bus_options;
  bus_options.dir = root / "bus";
  bus_options.fsync_policy = parse_fsync(options.fsync);
  auto bus = value_or_throw(bus::open_bus(bus_config(options.bus, bus_options)));
  store::RocksDbStoreOptions store_options;
  store_options.path = (root / "store").string();
  auto store = value_or_throw(store::open_rocksdb_store(store_options));

  const auto& p = options.pipeline;
  fmt::print("dummy: {} {} 1m candles -> topic '{}' ({} partitions) -> group '{}' -> collection '{}'\n",
             p.records, p.symbol, p.topic, p.partitions, p.group, p.collection);
  std::fflush(stdout);

  services::DummyProgress progress;
  auto future =
      std::async(std::launch::async, [&] { return services::run_dummy_pipeline(*bus, *store, p, progress); });
  ProgressLine line;
  auto start = std::chrono::steady_clock::now();
  auto render = [&] {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t produced = progress.produced, written = progress.written;
    double pct = 100.0 * static_cast<double>(written) / static_cast<double>(p.records);
    return fmt::format("  produced {:>9} | stored {:>9} ({:5.1f}%) | {}/s", ProgressLine::human(produced),
                       ProgressLine::human(written), pct > 100 ? 100.0 : pct,
                       ProgressLine::human(secs > 0 ? written / secs : 0));
  };
  while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) line.update(render());
  line.update(render(), true);
  line.finish();

  auto report = value_or_throw(future.get());
  fmt::print("dummy: produced {} records in {:.2f} s ({}/s); end to end {:.2f} s ({}/s)\n", report.produced,
             report.produce_seconds, ProgressLine::human(report.produced / report.produce_seconds),
             report.total_seconds, ProgressLine::human(report.produced / report.total_seconds));
  fmt::print("dummy: store: {} inserted, {} updated, {} unchanged (replays), {} dead-lettered\n",
             report.inserted, report.updated, report.unchanged, report.rejected);
  fmt::print("dummy: verification {}: {}\n", report.verified ? "PASSED" : "FAILED", report.verification);
  return report.verified ? 0 : 1;
}

}  // namespace

CommandRunner setup_dummy(CLI::App& app, const CommonOptions& /*common*/) {
  auto options = std::make_shared<DummyCommandOptions>();
  auto& p = options->pipeline;
  bind_option(app, "--data-dir", options->data_dir, "data directory of the embedded bus and store");
  bind_option(app, "--records", p.records, "number of 1m candles to publish")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  bind_option(app, "--partitions", p.partitions, "partitions of the topic when it is created")
      ->check(CLI::Range(1, 1024));
  bind_option(app, "--batch", p.batch, "records per produce call")->check(CLI::Range(1, 1'000'000));
  bind_option(app, "--symbol", p.symbol, "symbol written into the candles");
  bind_option(app, "--topic", p.topic, "bus topic");
  bind_option(app, "--collection", p.collection, "store collection");
  bind_option(app, "--group", p.group, "consumer group of the sink");
  bind_option(app, "--fsync", options->fsync, "bus fsync policy: every-batch | interval | none");
  bind_bus_flags(app, options->bus);
  return [options] { return run(*options); };
}

}  // namespace sf::cli
