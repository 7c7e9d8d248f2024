// Helpers of the kafka tests: a temporary data directory with an embedded bus and a broker on a free port.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "core/temp_dir.h"
#include "kafka/kafka.h"

namespace sf::kafka::testing {

using TempDir = sf::TempDir;  // removed with everything in it when the test ends

// An embedded bus in `dir`/bus served by a broker on 127.0.0.1:<free port>.
struct TestBroker {
  explicit TestBroker(const std::filesystem::path& dir, BrokerOptions options = {}) {
    bus::EmbeddedBusOptions bus_options;
    bus_options.dir = dir / "bus";
    auto opened = bus::open_embedded_bus(bus_options);
    if (!opened) {
      ADD_FAILURE() << opened.status().to_string();
      return;
    }
    bus = std::move(*opened);
    options.listen = "127.0.0.1:0";
    auto started = Broker::start(*bus, options);
    if (!started) {
      ADD_FAILURE() << started.status().to_string();
      return;
    }
    broker = std::move(*started);
  }
  ~TestBroker() {
    if (broker) broker->stop();
    broker.reset();
    bus.reset();
  }
  std::string address() const { return broker ? broker->address() : std::string(); }

  std::unique_ptr<bus::Bus> bus;
  std::unique_ptr<Broker> broker;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

}  // namespace sf::kafka::testing
