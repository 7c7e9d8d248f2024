// Fuzz target of the request decoder: any byte string as one request frame (after the size prefix) must
// produce a response or a clean "close the connection", never a crash, hang, leak or out-of-bounds read.
// With clang: built as a libFuzzer binary (cmake -DSF_FUZZ=ON, CC=clang CXX=clang++); otherwise the
// gtest driver tests/request_decoder_fuzz_test.cpp runs it on mutated valid requests for a bounded time.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "kafka/dispatch.h"
#include "kafka/group_coordinator.h"
#include "kafka/sasl_session.h"
#include "kafka/producer_state.h"

namespace {

struct FuzzBroker {
  FuzzBroker() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sf-kafka-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    dir = pattern;
    sf::bus::EmbeddedBusOptions bus_options;
    bus_options.dir = dir;
    bus_options.fsync_policy = sf::bus::FsyncPolicy::kNone;
    auto opened = sf::bus::open_embedded_bus(bus_options);
    if (!opened) std::abort();
    bus = std::move(*opened);
    (void)bus->create_topic("t", sf::bus::TopicConfig{.partitions = 2});
    // Nothing may block for long or grow without bound: no waiting fetches, short sessions, few partitions.
    options.auto_create_topics = false;
    options.max_fetch_wait_ms = 0;
    options.group_min_session_timeout_ms = 1;
    options.group_max_session_timeout_ms = 20;
    options.group_max_rebalance_timeout_ms = 20;
    options.max_topic_partitions = 4;
    groups = std::make_unique<sf::kafka::GroupCoordinator>(*bus, options);
    producers = std::make_unique<sf::kafka::ProducerStateTable>(*bus);
    state = std::make_unique<sf::kafka::BrokerState>(
        sf::kafka::BrokerState{*bus, options, *groups, "127.0.0.1", 9092, producers.get()});
  }
  ~FuzzBroker() {
    state.reset();
    producers.reset();
    groups.reset();
    bus.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  std::unique_ptr<sf::bus::Bus> bus;
  sf::kafka::BrokerOptions options;
  std::unique_ptr<sf::kafka::GroupCoordinator> groups;
  std::unique_ptr<sf::kafka::ProducerStateTable> producers;
  std::unique_ptr<sf::kafka::BrokerState> state;
  // A SASL listener's users and mechanisms, for the passes through a connection's SaslSession.
  sf::kafka::SaslCredentials sasl_credentials{{{"u", "pw"}}, sf::kafka::kScramMinIterations};
  std::vector<std::string> sasl_mechanisms{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"};
  sf::kafka::SaslConfig sasl_config{sasl_credentials, sasl_mechanisms};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FuzzBroker broker;  // one log for the whole run, removed at exit
  std::string frame(reinterpret_cast<const char*>(data), size);
  std::string response;
  (void)sf::kafka::dispatch_request(*broker.state, frame, "fuzz", response);
  // The same frame on a SASL listener, at each step of an exchange: before authentication (only
  // ApiVersions/SaslHandshake pass the gate), after SaslHandshake v1 (SaslAuthenticate with a SCRAM
  // client-first or a PLAIN token), and after a v0 handshake and a valid client-first (the frame is then
  // a bare SCRAM client-final token).
  {
    sf::kafka::SaslSession fresh(broker.sasl_config);
    (void)sf::kafka::dispatch_connection_request(*broker.state, &fresh, frame, "fuzz", response);
  }
  for (const char* mechanism : {"SCRAM-SHA-512", "PLAIN"}) {
    sf::kafka::SaslSession session(broker.sasl_config);
    (void)session.handshake(mechanism, 1);
    (void)sf::kafka::dispatch_connection_request(*broker.state, &session, frame, "fuzz", response);
  }
  {
    sf::kafka::SaslSession session(broker.sasl_config);
    (void)session.handshake("SCRAM-SHA-256", 0);
    (void)session.authenticate("n,,n=u,r=fuzznonce", "fuzz");
    (void)sf::kafka::dispatch_connection_request(*broker.state, &session, frame, "fuzz", response);
  }
  return 0;
}
