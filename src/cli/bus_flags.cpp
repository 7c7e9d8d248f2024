// Bus backend flags.
#include "cli/bus_flags.h"

#include "cli/command.h"
#include "cli/options.h"

namespace sf::cli {

void bind_bus_flags(CLI::App& app, BusFlags& f) {
  bind_option(app, "--bus", f.bus,
              "bus backend: embedded (a log in <data-dir>/bus) | kafka (a Kafka cluster)");
  bind_option(app, "--kafka-bootstrap", f.kafka_bootstrap,
              "Kafka bootstrap servers HOST:PORT[,...], with --bus kafka");
  bind_option(app, "--kafka-security-protocol", f.kafka_security_protocol,
              "plaintext | ssl | sasl_plaintext | sasl_ssl");
  bind_option(app, "--kafka-sasl-mechanism", f.kafka_sasl_mechanism,
              "SASL mechanism (SCRAM-SHA-512, PLAIN, ...)");
  bind_option(app, "--kafka-sasl-username", f.kafka_sasl_username, "SASL user name");
  bind_option(app, "--kafka-sasl-password", f.kafka_sasl_password,
              "SASL password (prefer STREAMFORGE_KAFKA_SASL_PASSWORD)");
  bind_option(app, "--kafka-ca-file", f.kafka_ca_file,
              "PEM file of the CA that signed the brokers' certificates");
  bind_option(app, "--kafka-acks", f.kafka_acks, "producer acks: all | 1 | 0");
  bind_option(app, "--kafka-compression", f.kafka_compression,
              "producer compression: none | gzip | snappy | lz4 | zstd");
  bind_option(app, "--kafka-linger-ms", f.kafka_linger_ms,
              "milliseconds a producer batch waits for more records")
      ->check(CLI::Range(0, 900000));
  bind_option(app, "--kafka-partitions", f.kafka_partitions,
              "partitions of topics the Kafka backend auto-creates")
      ->check(CLI::Range(1, 100000));
  bind_option(app, "--kafka-config", f.kafka_config,
              "extra librdkafka property key=value (repeatable), e.g. enable.idempotence=true");
}

bus::BusConfig bus_config(const BusFlags& f, const bus::EmbeddedBusOptions& embedded) {
  bus::BusConfig config;
  auto backend = bus::parse_bus_backend(f.bus);
  if (!backend) throw Error(Status::invalid_argument("--bus: " + backend.status().message()));
  config.backend = *backend;
  config.embedded = embedded;
  if (config.backend == bus::BusBackend::kEmbedded) {
    if (!f.kafka_bootstrap.empty())
      throw Error(Status::invalid_argument("--kafka-bootstrap needs --bus kafka"));
    return config;
  }
  if (f.kafka_bootstrap.empty())
    throw Error(Status::invalid_argument("--bus kafka needs --kafka-bootstrap HOST:PORT"));
  bus::KafkaBusOptions& k = config.kafka;
  k.bootstrap = f.kafka_bootstrap;
  k.security_protocol = f.kafka_security_protocol;
  k.sasl_mechanism = f.kafka_sasl_mechanism;
  k.sasl_username = f.kafka_sasl_username;
  k.sasl_password = f.kafka_sasl_password;
  k.ssl_ca_location = f.kafka_ca_file;
  k.acks = f.kafka_acks;
  k.compression = f.kafka_compression;
  k.linger_ms = f.kafka_linger_ms;
  k.default_partitions = f.kafka_partitions;
  k.auto_create_topics = embedded.auto_create_topics;
  for (const auto& text : f.kafka_config) {
    auto property = bus::parse_kafka_property(text);
    if (!property) throw Error(Status::invalid_argument("--kafka-config: " + property.status().message()));
    k.config.push_back(*property);
  }
  return config;
}

}  // namespace sf::cli
