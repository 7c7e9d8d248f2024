// Turns one request frame into one response frame: header decoding, version checks, the handler call.
// Internal to kafka/; the network server and the fuzz target both go through dispatch_request().
#pragma once

#include <string>
#include <string_view>

#include "kafka/protocol.h"

namespace sf::kafka {

// What every request of one broker shares.
struct BrokerState {
  bus::Bus& bus;
  const BrokerOptions& options;
  GroupCoordinator& groups;
  std::string advertised_host;
  int32_t advertised_port = 0;
  ProducerStateTable* producers = nullptr;  // idempotent producers (null: InitProducerId is refused)
};

enum class DispatchResult {
  kRespond,     // send `response` (a whole frame: size prefix included)
  kNoResponse,  // send nothing (acks=0)
  kClose,       // malformed or unsupported: close the connection (already logged)
};

// `frame` is the request without its 4-byte size prefix. `response` is replaced.
// `sasl` is the connection's authentication (nullptr on listeners without SASL); see sasl_session.h.
DispatchResult dispatch_request(BrokerState& state, std::string_view frame, std::string_view client,
                                std::string& response, SaslSession* sasl = nullptr);

}  // namespace sf::kafka
