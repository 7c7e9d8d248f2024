// Choosing the Bus backend by configuration (bus.h, "Choosing a backend by configuration only").
#include <fmt/format.h>

#include "bus/bus.h"

namespace sf::bus {

Result<BusBackend> parse_bus_backend(std::string_view name) {
  if (name == "embedded") return BusBackend::kEmbedded;
  if (name == "kafka") return BusBackend::kKafka;
  return Status::invalid_argument(fmt::format("bus backend must be embedded or kafka, not '{}'", name));
}

Result<std::unique_ptr<Bus>> open_bus(const BusConfig& config) {
  switch (config.backend) {
    case BusBackend::kEmbedded:
      return open_embedded_bus(config.embedded);
    case BusBackend::kKafka:
      return open_kafka_bus(config.kafka);
  }
  return Status::invalid_argument("unknown bus backend");
}

}  // namespace sf::bus
