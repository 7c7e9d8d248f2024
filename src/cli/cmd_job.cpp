// `streamforge job <target> --queue-id ID`: runs one job in the foreground with the common job lifecycle
// (find its `start` on queue-control, report on queue-events, honour `stop`). This is the entry point of a
// Kubernetes Job in the cluster setup (Kafka bus, a later issue): with the embedded bus only one process may
// open a data directory, so while `serve` runs on a data dir this command refuses it, saying so.
// SIGINT/SIGTERM abandon the job (no terminal event), so the workflow resumes it later.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "bus/bus.h"
#include "cli/bus_flags.h"
#include "cli/commands.h"
#include "protocol/workflow_type.h"
#include "services/job/job.h"
#include "services/manager/manager_server.h"
#include "store/store.h"

namespace sf::cli {
namespace {

struct JobCommandOptions {
  std::string target;
  std::string queue_id;
  std::string telemetry_id;
  int32_t control_partition = -1;  // -1: the queue_id's partition
  int64_t control_offset = -1;     // -1: from the log start
  std::string image;
  std::string data_dir = "./streamforge-data";
  BusFlags bus;  // --bus embedded|kafka, --kafka-*
  std::string exchange_url = "https://api.binance.com";
  std::string exchange_ws_url = "wss://stream.binance.com:9443";
  std::string bulk_url = "https://data.binance.vision";
  std::string fsync = "interval";
  double start_timeout_s = 30;
  bool synthetic_loader = false;
};

bus::FsyncPolicy parse_fsync(const std::string& text) {
  if (text == "every-batch") return bus::FsyncPolicy::kEveryBatch;
  if (text == "interval") return bus::FsyncPolicy::kInterval;
  if (text == "none") return bus::FsyncPolicy::kNone;
  throw Error(Status::invalid_argument("--fsync must be every-batch, interval or none, not '" + text + "'"));
}

Status in_use(const std::string& data_dir, const Status& cause) {
  return Status::unavailable(fmt::format(
      "data dir '{}' is in use by another process (a running `streamforge serve`?): {}. With the embedded "
      "bus "
      "only one process can open a data dir, and `serve` runs jobs itself; `streamforge job` is for the "
      "Kafka/cluster setup (Kubernetes Jobs), a later issue",
      data_dir, cause.message()));
}

int run(const JobCommandOptions& o) {
  auto target = protocol::parse_target(o.target);
  if (!target) throw Error(Status::invalid_argument(fmt::format("<target>: {}", target.status().message())));
  std::filesystem::path root(o.data_dir);
  bus::EmbeddedBusOptions bus_options;
  bus_options.dir = root / "bus";
  bus_options.fsync_policy = parse_fsync(o.fsync);
  auto bus = bus::open_bus(bus_config(o.bus, bus_options));
  if (!bus) {
    if (bus.status().code() != ErrorCode::kFailedPrecondition) throw Error(bus.status());
    std::fprintf(stderr, "error: %s\n", in_use(o.data_dir, bus.status()).message().c_str());
    return 1;
  }
  store::RocksDbStoreOptions store_options;
  store_options.path = (root / "store").string();
  auto store = store::open_rocksdb_store(store_options);
  if (!store) {
    if (store.status().code() != ErrorCode::kUnavailable) throw Error(store.status());
    std::fprintf(stderr, "error: %s\n", in_use(o.data_dir, store.status()).message().c_str());
    return 1;
  }

  services::JobRegistry registry = services::serve_job_registry(o.synthetic_loader);
  services::JobEnvironment env{**bus, **store, registry};
  env.settings.exchange_rest_url = o.exchange_url;
  env.settings.exchange_ws_url = o.exchange_ws_url;
  env.settings.bulk_url = o.bulk_url;
  env.settings.artifacts = (root / "artifacts").string();
  env.start_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.start_timeout_s * 1000));
  services::JobSpec spec;
  spec.queue_id = o.queue_id;
  spec.target = std::string(protocol::target_name(*target));
  spec.telemetry_id = o.telemetry_id;
  if (o.control_partition >= 0) spec.control_partition = o.control_partition;
  if (o.control_offset >= 0) spec.control_offset = o.control_offset;
  spec.image = o.image;

  // Signals are taken by this thread only; the job runs on another.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  std::stop_source abandon;
  services::JobHostSignals host;
  host.abandon = abandon.get_token();
  auto result = std::async(std::launch::async, [&] { return services::run_job(env, spec, host); });
  const timespec tick{0, 100'000'000};
  while (result.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("job: signal {} received, abandoning the job (it resumes when relaunched)", sig);
      abandon.request_stop();
      break;
    }
  }
  Status status = result.get();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  const std::string who = o.telemetry_id.empty() ? spec.target : o.telemetry_id;
  if (status) {
    fmt::print("job {} of {}: completed\n", who, o.queue_id);
    return 0;
  }
  if (status.code() == ErrorCode::kCancelled) {
    fmt::print("job {} of {}: {}\n", who, o.queue_id, abandon.stop_requested() ? "abandoned" : "stopped");
    return 3;
  }
  std::fprintf(stderr, "error: job %s of %s: %s\n", who.c_str(), o.queue_id.c_str(),
               status.message().c_str());
  return 1;
}

}  // namespace

CommandRunner setup_job(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<JobCommandOptions>();
  app.add_option(
         "target", o->target,
         "loader-producer | loader-api | loader-ws | arango-connector | graph-builder | gnn-trainer | "
         "dummy-service")
      ->required();
  bind_option(app, "--queue-id", o->queue_id, "the workflow whose `start` command this job runs")->required();
  bind_option(app, "--telemetry-id", o->telemetry_id, "the job's telemetry id (default: matched by target)");
  bind_option(app, "--control-partition", o->control_partition,
              "queue-control partition of the start command (-1: the queue_id's)")
      ->check(CLI::Range(-1, 1 << 20));
  bind_option(app, "--control-offset", o->control_offset,
              "offset of the start command (-1: search from the start)")
      ->check(CLI::Range(int64_t{-1}, int64_t{1} << 62));
  bind_option(app, "--image", o->image, "the container image it runs in (informational)");
  bind_option(app, "--data-dir", o->data_dir, "data directory of the embedded bus and store");
  bind_option(app, "--exchange-url", o->exchange_url, "exchange REST base URL");
  bind_option(app, "--exchange-ws-url", o->exchange_ws_url, "exchange WebSocket base URL");
  bind_option(app, "--bulk-url", o->bulk_url, "base URL of the bulk data dumps");
  bind_option(app, "--fsync", o->fsync, "bus fsync policy: every-batch | interval | none");
  bind_bus_flags(app, o->bus);
  bind_option(app, "--start-timeout", o->start_timeout_s, "seconds to wait for the start command")
      ->check(CLI::Range(0.0, 86400.0));
  bind_switch(app, "--synthetic-loader", o->synthetic_loader,
              "test hook: REST and bulk loaders publish synthetic candles instead of calling the exchange");
  return [o] { return run(*o); };
}

}  // namespace sf::cli
