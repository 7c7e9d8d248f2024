// The flags (and STREAMFORGE_* variables) that choose and configure the bus backend, shared by every
// subcommand that opens a bus: `--bus embedded|kafka`, `--kafka-bootstrap HOST:PORT`, security, producer
// settings and `--kafka-config key=value` passthrough.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "bus/bus.h"

namespace sf::cli {

struct BusFlags {
  std::string bus = "embedded";  // embedded | kafka
  std::string kafka_bootstrap;
  std::string kafka_security_protocol = "plaintext";
  std::string kafka_sasl_mechanism = "SCRAM-SHA-512";
  std::string kafka_sasl_username;
  std::string kafka_sasl_password;
  std::string kafka_ca_file;
  std::string kafka_acks = "all";
  std::string kafka_compression = "none";
  int kafka_linger_ms = 5;
  int kafka_partitions = 1;  // of topics the Kafka backend auto-creates
  std::vector<std::string> kafka_config;
};

void bind_bus_flags(CLI::App& app, BusFlags& flags);

// The configuration the flags select; `embedded` (data dir, fsync) is used with --bus embedded. Throws Error
// (InvalidArgument naming the flag) for a bad backend name, a missing bootstrap or a malformed property.
bus::BusConfig bus_config(const BusFlags& flags, const bus::EmbeddedBusOptions& embedded);

}  // namespace sf::cli
