// Assembling `streamforge serve`: bus, store, launcher, manager, API, HTTP server; and taking it down in
// order.
#include "services/manager/manager_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "net/http_server.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "store/store.h"

namespace sf::services {

JobRegistry serve_job_registry(bool synthetic_loader, SyntheticLoaderOptions synthetic) {
  JobRegistry registry = builtin_job_registry();
  if (synthetic_loader) register_synthetic_loaders(registry, synthetic);
  return registry;
}

struct ManagerServer::Parts {
  std::shared_ptr<MetricsRegistry> metrics;
  std::unique_ptr<bus::Bus> bus;
  std::unique_ptr<store::Store> store;
  JobRegistry registry;
  std::unique_ptr<InProcessLauncher> launcher;
  std::unique_ptr<QueueManager> manager;
  std::unique_ptr<HttpApi> api;
  std::unique_ptr<net::HttpServer> http;
  std::string address;
  std::mutex stop_mu;

  // Destruction order matters: nothing may outlive what it points to.
  void close() {
    std::lock_guard lock(stop_mu);
    if (api) api->set_ready(false);
    if (http) http->stop();  // no handler runs after this
    api.reset();
    http.reset();
    manager.reset();                     // stops following queue-events
    if (launcher) launcher->shutdown();  // abandons running jobs: they resume after a restart
    launcher.reset();
    if (store) {
      if (Status flushed = store->flush(); !flushed)
        spdlog::warn("serve: store flush: {}", flushed.to_string());
    }
    store.reset();
    bus.reset();
  }
};

ManagerServer::ManagerServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ManagerServer::~ManagerServer() {
  stop();
}

Result<std::unique_ptr<ManagerServer>> ManagerServer::start(const ServeOptions& options) {
  auto parts = std::make_unique<Parts>();
  Parts& p = *parts;
  p.metrics = make_metrics_registry();

  bus::EmbeddedBusOptions bus_options;
  bus_options.dir = options.data_dir / "bus";
  bus_options.fsync_policy = options.fsync;
  bus_options.metrics = p.metrics;
  bus::BusConfig bus_config{options.bus_backend, bus_options, options.kafka};
  auto bus = bus::open_bus(bus_config);
  if (!bus && options.bus_backend == bus::BusBackend::kKafka)
    return Status(bus.status().code(), fmt::format("bus (Kafka): {}", bus.status().message()));
  if (!bus) {
    return Status(bus.status().code(),
                  fmt::format("data dir '{}': bus: {}", options.data_dir.string(), bus.status().message()));
  }
  p.bus = std::move(bus).value();

  store::RocksDbStoreOptions store_options;
  store_options.path = (options.data_dir / "store").string();
  store_options.metrics = p.metrics;
  auto store = store::open_rocksdb_store(store_options);
  if (!store) {
    return Status(store.status().code(), fmt::format("data dir '{}': store: {}", options.data_dir.string(),
                                                     store.status().message()));
  }
  p.store = std::move(store).value();

  p.registry = serve_job_registry(options.synthetic_loader, options.synthetic);
  JobEnvironment env{*p.bus, *p.store, p.registry};
  env.settings = options.jobs;
  if (env.settings.artifacts.empty()) env.settings.artifacts = (options.data_dir / "artifacts").string();
  env.metrics = p.metrics;
  p.launcher =
      std::make_unique<InProcessLauncher>(env, InProcessLauncherOptions{.max_jobs = options.max_jobs});

  QueueManagerOptions manager_options;
  manager_options.metrics = p.metrics;
  auto manager = QueueManager::open(*p.bus, *p.store, *p.launcher, manager_options);
  if (!manager) {
    p.close();
    return manager.status();
  }
  p.manager = std::move(manager).value();

  HttpApiOptions api_options;
  api_options.metrics = p.metrics;
  api_options.heartbeat_interval = options.heartbeat;
  api_options.version = options.version;
  p.api = std::make_unique<HttpApi>(*p.manager, *p.store, api_options);
  net::HttpServerOptions http_options;
  http_options.threads = std::max(1, options.http_threads);
  p.http = std::make_unique<net::HttpServer>(http_options);
  p.api->attach(*p.http);
  auto address = p.http->listen(options.listen);
  if (!address) {
    p.close();
    return Status(address.status().code(),
                  fmt::format("--listen {}: {}", options.listen, address.status().message()));
  }
  p.address = *address;
  spdlog::info("serve: queue-manager on {} (data dir {}, exchange {}){}", p.address,
               options.data_dir.string(), options.jobs.exchange_rest_url,
               options.synthetic_loader ? ", synthetic loader" : "");
  return std::unique_ptr<ManagerServer>(new ManagerServer(std::move(parts)));
}

const std::string& ManagerServer::address() const {
  return parts_->address;
}

void ManagerServer::stop() {
  if (parts_) parts_->close();
}

QueueManager& ManagerServer::manager() {
  return *parts_->manager;
}

store::Store& ManagerServer::store() {
  return *parts_->store;
}

bus::Bus& ManagerServer::bus() {
  return *parts_->bus;
}

}  // namespace sf::services
