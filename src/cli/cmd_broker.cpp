// `streamforge broker`: the embedded log of a data directory served over the Kafka wire protocol.
// Parses flags only; the broker lives in kafka/.
#include <filesystem>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "cli/commands.h"
#include "kafka/kafka.h"

namespace sf::cli {
namespace {

struct BrokerCommandOptions {
  kafka::BrokerOptions broker;                  // listen 127.0.0.1:9092, auto-create topics, 1 partition
  std::string data_dir = "./streamforge-data";  // the bus lives in <data-dir>/bus, as for `serve`
  std::string fsync = "interval";               // every-batch|interval|none
};

}  // namespace

CommandRunner setup_broker(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<BrokerCommandOptions>();
  auto& b = o->broker;
  bind_option(app, "--listen", b.listen,
              "HOST:PORT to serve Kafka clients on; port 0 picks a free one (printed first)");
  bind_option(app, "--data-dir", o->data_dir,
              "data directory (the log is <data-dir>/bus, shared with `serve`)");
  bind_option(app, "--advertised-host", b.advertised_host,
              "host given to clients in Metadata (default: listen host)");
  bind_option(app, "--auto-create-topics", b.auto_create_topics, "create unknown topics on Metadata/Produce");
  bind_option(app, "--default-partitions", b.default_partitions, "partitions of auto-created topics")
      ->check(CLI::Range(1, 100000));
  bind_option(app, "--max-connections", b.max_connections, "connections served at once")
      ->check(CLI::Range(1, 1 << 20));
  bind_option(app, "--max-request-bytes", b.max_request_bytes, "largest request accepted (bytes)")
      ->check(CLI::Range(1024, 1 << 30));
  bind_option(app, "--fsync", o->fsync, "every-batch|interval|none (see the bus's FsyncPolicy)")
      ->check(CLI::IsMember({"every-batch", "interval", "none"}));
  return [o] {
    bus::EmbeddedBusOptions bus_options;
    bus_options.dir = std::filesystem::path(o->data_dir) / "bus";
    bus_options.fsync_policy = o->fsync == "every-batch" ? bus::FsyncPolicy::kEveryBatch
                               : o->fsync == "none"      ? bus::FsyncPolicy::kNone
                                                         : bus::FsyncPolicy::kInterval;
    return kafka::run_broker(o->broker, bus_options);
  };
}

}  // namespace sf::cli
