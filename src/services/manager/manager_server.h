// `streamforge serve` as a library: the embedded bus and store in a data directory, the in-process job
// launcher with the built-in job kinds, the QueueManager and its REST API on one HTTP listener. The CLI only
// parses flags and waits for a signal; tests start it in-process.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "core/metrics.h"
#include "core/status.h"
#include "services/job/job.h"
#include "services/manager/http_api.h"
#include "services/manager/queue_manager.h"
#include "services/manager/synthetic_loader.h"

namespace sf::services {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";                  // host:port; port 0 picks a free one
  std::filesystem::path data_dir = "./streamforge-data";  // <data_dir>/bus and <data_dir>/store
  bus::FsyncPolicy fsync = bus::FsyncPolicy::kInterval;   // of the embedded bus
  bus::BusBackend bus_backend = bus::BusBackend::kEmbedded;  // kKafka: a Kafka cluster instead of <data_dir>/bus
  bus::KafkaBusOptions kafka;                                // with kKafka
  JobSettings jobs;                  // exchange URLs (defaults: Binance's real endpoints) and poll interval
  int http_threads = 2;              // HTTP server threads
  size_t max_jobs = 64;              // jobs running at once in this process
  bool synthetic_loader = false;     // test hook: REST/bulk loaders publish synthetic candles (no exchange)
  SyntheticLoaderOptions synthetic;  // its settings
  std::chrono::milliseconds heartbeat{10'000};  // /ws/topic heartbeat period
  std::string version = "dev";
};

// The job kinds `serve` and `streamforge job` run: the built-in catalogue, with the synthetic loader in place
// of the REST and bulk loaders when asked.
JobRegistry serve_job_registry(bool synthetic_loader, SyntheticLoaderOptions synthetic = {});

// A running queue-manager. Thread-safe: stop() may be called from any thread, once or more.
class ManagerServer {
 public:
  // Opens everything, resumes the workflows in flight and starts listening. Errors name what failed (a data
  // directory held by another process: FailedPrecondition naming it).
  static Result<std::unique_ptr<ManagerServer>> start(const ServeOptions& options);
  ~ManagerServer();  // stop()
  ManagerServer(const ManagerServer&) = delete;
  ManagerServer& operator=(const ManagerServer&) = delete;

  // The bound address, "127.0.0.1:40123".
  const std::string& address() const;

  // Stops answering (readiness goes 503 first), stops following events, abandons the running jobs (no
  // terminal event, so the next start resumes them), and closes the bus and the store. Idempotent.
  void stop();

  QueueManager& manager();
  store::Store& store();
  bus::Bus& bus();

 private:
  struct Parts;
  explicit ManagerServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace sf::services
