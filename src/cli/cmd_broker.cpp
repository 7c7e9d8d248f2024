// `streamforge broker`: the embedded log of a data directory served over the Kafka wire protocol.
// Parses flags only; the broker lives in kafka/.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "cli/commands.h"
#include "kafka/kafka.h"

namespace sf::cli {
namespace {

struct BrokerCommandOptions {
  kafka::BrokerOptions broker;                  // listen 127.0.0.1:9092, auto-create topics, 1 partition
  std::string data_dir = "./streamforge-data";  // the bus lives in <data-dir>/bus, as for `serve`
  std::string fsync = "interval";               // every-batch|interval|none
  std::string security_protocol = "PLAINTEXT";  // PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL
  std::string sasl_mechanisms = "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN";
  std::vector<std::string> sasl_users;  // NAME:PASSWORD
  std::string sasl_users_file;
};

// The listener's security settings from the flags; throws Error naming the flag at fault.
kafka::BrokerSecurity security_from_flags(const BrokerCommandOptions& o) {
  kafka::BrokerSecurity security = o.broker.security;  // --tls-cert, --tls-key
  security.protocol = value_or_throw(kafka::parse_security_protocol(o.security_protocol));
  security.sasl_mechanisms.clear();
  std::string_view rest = o.sasl_mechanisms;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (!name.empty()) security.sasl_mechanisms.emplace_back(name);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  for (const auto& text : o.sasl_users) {
    auto user = kafka::parse_sasl_user(text);
    if (!user) throw Error(Status::invalid_argument("--sasl-user: " + user.status().message()));
    security.sasl_users.push_back(std::move(*user));
  }
  if (!o.sasl_users_file.empty()) {
    auto users = value_or_throw(kafka::read_sasl_users_file(o.sasl_users_file));
    security.sasl_users.insert(security.sasl_users.end(), users.begin(), users.end());
  }
  const bool sasl = security.protocol == kafka::SecurityProtocol::kSaslPlaintext ||
                    security.protocol == kafka::SecurityProtocol::kSaslSsl;
  if (!sasl && (!o.sasl_users.empty() || !o.sasl_users_file.empty()))
    throw Error(Status::invalid_argument(
        "--sasl-user/--sasl-users-file need --security-protocol SASL_PLAINTEXT or SASL_SSL"));
  if (sasl && security.sasl_users.empty())
    throw Error(Status::invalid_argument("--security-protocol " + o.security_protocol +
                                         " needs --sasl-user NAME:PASSWORD or --sasl-users-file"));
  return security;
}

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
  bind_option(app, "--security-protocol", o->security_protocol,
              "PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL (Kafka's listener security protocols)");
  bind_option(app, "--tls-cert", b.security.tls_cert_file,
              "PEM certificate chain of the listener (SSL, SASL_SSL)");
  bind_option(app, "--tls-key", b.security.tls_key_file, "PEM private key of --tls-cert");
  bind_option(app, "--sasl-mechanisms", o->sasl_mechanisms,
              "SASL mechanisms offered, comma-separated (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN)");
  bind_option(app, "--sasl-user", o->sasl_users,
              "a SASL user NAME:PASSWORD (repeatable); kept as salted SCRAM credentials only");
  bind_option(app, "--sasl-users-file", o->sasl_users_file,
              "file of SASL users, one NAME:PASSWORD a line ('#' comments)");
  return [o] {
    BrokerCommandOptions options = *o;
    options.broker.security = security_from_flags(options);
    bus::EmbeddedBusOptions bus_options;
    bus_options.dir = std::filesystem::path(o->data_dir) / "bus";
    bus_options.fsync_policy = o->fsync == "every-batch" ? bus::FsyncPolicy::kEveryBatch
                               : o->fsync == "none"      ? bus::FsyncPolicy::kNone
                                                         : bus::FsyncPolicy::kInterval;
    return kafka::run_broker(options.broker, bus_options);
  };
}

}  // namespace sf::cli
