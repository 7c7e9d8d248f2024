// `streamforge serve`: the queue-manager (REST API, workflow state, dispatch, in-process jobs, event
// tracking) on the embedded bus and store. Prints `listening on HOST:PORT` first; runs until SIGINT/SIGTERM,
// then shuts down cleanly, abandoning running jobs so that the next start resumes them.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/bus_flags.h"
#include "cli/commands.h"
#include "kafka/kafka.h"
#include "services/manager/manager_server.h"

namespace sf::cli {
namespace {

struct ServeCommandOptions {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./streamforge-data";
  std::string exchange_url = "https://api.binance.com";
  std::string exchange_ws_url = "wss://stream.binance.com:9443";
  std::string bulk_url = "https://data.binance.vision";
  BusFlags bus;                    // --bus embedded|kafka, --kafka-*
  std::string store = "rocksdb";   // rocksdb | arangodb (later)
  std::string kafka_listen;        // HOST:PORT of the embedded bus's Kafka-protocol listener ("" = none)
  std::string arango_url;          // with --store arangodb (later)
  std::string fsync = "interval";  // every-batch | interval | none
  int http_threads = 2;
  size_t max_jobs = 64;
  double heartbeat_s = 10;
  bool synthetic_loader = false;
  int synthetic_delay_ms = 0;
};

bus::FsyncPolicy parse_fsync(const std::string& text) {
  if (text == "every-batch") return bus::FsyncPolicy::kEveryBatch;
  if (text == "interval") return bus::FsyncPolicy::kInterval;
  if (text == "none") return bus::FsyncPolicy::kNone;
  throw Error(Status::invalid_argument("--fsync must be every-batch, interval or none, not '" + text + "'"));
}

void check_backends(const ServeCommandOptions& o) {
  if (o.store == "arangodb") {
    throw Error(
        Status::invalid_argument("--store arangodb is not available yet (the ArangoDB backend is a later "
                                 "issue); use --store rocksdb"));
  }
  if (o.store != "rocksdb") {
    throw Error(Status::invalid_argument("--store must be rocksdb or arangodb, not '" + o.store + "'"));
  }
  if (!o.arango_url.empty())
    throw Error(Status::invalid_argument("--arango-url needs --store arangodb (not available yet)"));
}

int run(const ServeCommandOptions& o) {
  check_backends(o);
  services::ServeOptions options;
  options.listen = o.listen;
  options.data_dir = o.data_dir;
  options.fsync = parse_fsync(o.fsync);
  const bus::BusConfig bus = bus_config(o.bus, {});
  options.bus_backend = bus.backend;
  if (!o.kafka_listen.empty() && bus.backend != bus::BusBackend::kEmbedded) {
    throw Error(Status::invalid_argument(
        "--kafka-listen serves the embedded bus over the Kafka protocol; with --bus kafka, point Kafka "
        "clients at the cluster instead"));
  }
  options.kafka = bus.kafka;
  options.jobs.exchange_rest_url = o.exchange_url;
  options.jobs.exchange_ws_url = o.exchange_ws_url;
  options.jobs.bulk_url = o.bulk_url;
  options.http_threads = o.http_threads;
  options.max_jobs = o.max_jobs;
  options.heartbeat = std::chrono::milliseconds(static_cast<int64_t>(o.heartbeat_s * 1000));
  options.synthetic_loader = o.synthetic_loader;
  options.synthetic.batch_delay = std::chrono::milliseconds(o.synthetic_delay_ms);
  options.version = STREAMFORGE_VERSION;

  // Block the signals before any thread exists, so that only sigwait below receives them.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  auto server = services::ManagerServer::start(options);
  if (!server) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw Error(server.status());
  }
  // The Kafka-protocol listener serves the very log the workflows write to, so Kafka clients (kcat,
  // librdkafka) see the data topics while serve runs. It goes first on the way down: it uses the bus.
  std::unique_ptr<kafka::Broker> broker;
  if (!o.kafka_listen.empty()) {
    kafka::BrokerOptions broker_options;
    broker_options.listen = o.kafka_listen;
    auto started = kafka::Broker::start((*server)->bus(), broker_options);
    if (!started) {
      (*server)->stop();
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      throw Error(Status(started.status().code(), "--kafka-listen: " + started.status().message()));
    }
    broker = std::move(started).value();
  }
  std::fprintf(stdout, "listening on %s\n", (*server)->address().c_str());
  if (broker) std::fprintf(stdout, "kafka listening on %s\n", broker->address().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("serve: {} received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (broker) broker->stop();
  broker.reset();
  (*server)->stop();
  server.value().reset();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  spdlog::info("serve: stopped");
  return 0;
}

}  // namespace

CommandRunner setup_serve(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<ServeCommandOptions>();
  bind_option(app, "--listen", o->listen,
              "HOST:PORT of the REST API; port 0 picks a free one (printed first)");
  bind_option(app, "--data-dir", o->data_dir,
              "data directory of the embedded bus (<dir>/bus) and store (<dir>/store)");
  bind_option(app, "--exchange-url", o->exchange_url,
              "exchange REST base URL (exchange-sim: http://HOST:PORT)");
  bind_option(app, "--exchange-ws-url", o->exchange_ws_url, "exchange WebSocket base URL");
  bind_option(app, "--bulk-url", o->bulk_url, "base URL of the bulk data dumps");
  bind_bus_flags(app, o->bus);
  bind_option(
      app, "--kafka-listen", o->kafka_listen,
      "HOST:PORT where Kafka clients (kcat, librdkafka) reach the embedded bus's topics; port 0 picks "
      "a free one (printed as `kafka listening on HOST:PORT`, second line)");
  bind_option(app, "--store", o->store, "rocksdb (arangodb: a later issue)");
  bind_option(app, "--arango-url", o->arango_url, "ArangoDB URL, with --store arangodb (later)");
  bind_option(app, "--fsync", o->fsync, "bus fsync policy: every-batch | interval | none");
  bind_option(app, "--http-threads", o->http_threads, "HTTP server threads")->check(CLI::Range(1, 64));
  bind_option(app, "--max-jobs", o->max_jobs, "jobs running at once in this process")
      ->check(CLI::Range(size_t{1}, size_t{4096}));
  bind_option(app, "--ws-heartbeat", o->heartbeat_s, "seconds between /ws/topic heartbeats (0: none)")
      ->check(CLI::Range(0.0, 3600.0));
  bind_switch(app, "--synthetic-loader", o->synthetic_loader,
              "test hook: REST and bulk loaders publish synthetic candles instead of calling the exchange");
  bind_option(app, "--synthetic-delay-ms", o->synthetic_delay_ms,
              "test hook: pause of the synthetic loader after each batch of 500 candles")
      ->check(CLI::Range(0, 60'000));
  return [o] { return run(*o); };
}

}  // namespace sf::cli
