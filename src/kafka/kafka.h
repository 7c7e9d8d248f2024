// A single-node Kafka broker over the embedded bus's durable log (`streamforge broker`): Kafka clients
// (librdkafka, kcat, the Java client) produce to and fetch from the same segment files the embedded Bus
// uses, since those are Kafka RecordBatch v2 byte for byte. The public header of kafka/.
//
// Implemented APIs and versions are exactly those ApiVersions advertises (kafka/handlers.h).
// Connections are served one thread each (requests of a connection in order, as Kafka requires); a slow
// or blocked connection (a long-polling Fetch) never stalls another. A malformed, truncated or oversized
// request closes its connection with a log line, never the broker.
//
// The listener speaks Kafka's security protocols (BrokerSecurity): TLS (SSL), SASL over plain TCP or over
// TLS with SCRAM-SHA-512/256 and PLAIN, as Kafka's SaslServerAuthenticator does (sasl_session.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "core/status.h"

namespace sf::kafka {

// How clients reach the broker and prove who they are, as Kafka's listener security protocols.
enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };
// PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL, in any case; InvalidArgument otherwise.
Result<SecurityProtocol> parse_security_protocol(std::string_view name);
std::string_view security_protocol_name(SecurityProtocol protocol);

struct SaslUser {
  std::string name;
  std::string password;
};
// "NAME:PASSWORD" (the password may contain ':'); InvalidArgument naming what is missing.
Result<SaslUser> parse_sasl_user(std::string_view text);
// One NAME:PASSWORD a line; blank lines and lines starting with '#' are skipped.
Result<std::vector<SaslUser>> read_sasl_users_file(const std::string& path);

struct BrokerSecurity {
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::string tls_cert_file;  // PEM certificate chain (SSL, SASL_SSL)
  std::string tls_key_file;   // PEM private key of that certificate
  // Offered in SaslHandshake, in this order: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN (a subset may be given).
  std::vector<std::string> sasl_mechanisms = {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"};
  // Turned into salted SCRAM credentials (random salt, scram_iterations) when the broker starts; the broker
  // keeps no password.
  std::vector<SaslUser> sasl_users;
  int32_t scram_iterations = 4096;  // Kafka's minimum and kafka-configs' default
};

struct BrokerOptions {
  std::string listen = "127.0.0.1:9092";  // HOST:PORT; port 0 picks a free one (see Broker::address())
  std::string advertised_host;            // host given to clients in Metadata; "" = the listen host
                                          // (0.0.0.0 / :: advertise 127.0.0.1)
  int32_t node_id = 1;                    // this broker's id in Metadata and FindCoordinator
  bool auto_create_topics = true;         // Metadata (when the client allows) and Produce create topics
  int32_t default_partitions = 1;         // partitions of auto-created topics (and CreateTopics with -1)
  int32_t max_topic_partitions = 10000;   // CreateTopics asking for more gets INVALID_PARTITIONS
  int32_t max_connections = 1024;         // further connections are closed at once with a log line
  int32_t max_request_bytes = 100 << 20;  // bytes; a larger request closes its connection (Kafka's default)
  int32_t max_fetch_wait_ms = 30000;      // milliseconds; a Fetch's max_wait_ms is clamped to this
  int32_t group_min_session_timeout_ms = 1000;    // milliseconds (Kafka: group.min.session.timeout.ms 6000)
  int32_t group_max_session_timeout_ms = 300000;  // milliseconds (Kafka: group.max.session.timeout.ms)
  int32_t group_max_rebalance_timeout_ms =
      300000;                              // milliseconds; a JoinGroup's rebalance timeout is clamped
  std::string cluster_id = "streamforge";  // Metadata v2+
  // Test hook: when > 0, a Produce whose appended records cross a multiple of this offset is not answered
  // and its connection is closed (as if the broker failed after appending), so clients must retry it.
  int64_t test_drop_produce_response_every = 0;
  BrokerSecurity security;  // PLAINTEXT unless set
};

// A running broker. Thread-safe. Destroy (or stop()) it before the Bus it serves.
class Broker {
 public:
  // Binds options.listen and starts serving `bus` (which must outlive the Broker).
  // InvalidArgument for a bad listen address; IoError if it cannot bind.
  static Result<std::unique_ptr<Broker>> start(bus::Bus& bus, const BrokerOptions& options);
  virtual ~Broker() = default;
  // The bound HOST:PORT (the real port when 0 was asked for).
  virtual std::string address() const = 0;
  // Stops accepting, closes every connection and waits for their threads. Idempotent.
  virtual void stop() = 0;
};

// `streamforge broker`: opens the embedded bus in bus_options.dir, starts a Broker, prints
// "listening on HOST:PORT" to `out` and serves until SIGINT/SIGTERM. Returns the exit code.
int run_broker(const BrokerOptions& options, const bus::EmbeddedBusOptions& bus_options,
               std::FILE* out = stdout);

}  // namespace sf::kafka
