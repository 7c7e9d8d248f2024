// SASL authentication of one connection, as Kafka's SaslServerAuthenticator does it (KIP-43, KIP-152):
// before authentication only ApiVersions, SaslHandshake and SaslAuthenticate are served; SaslHandshake
// picks a mechanism (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN); SaslAuthenticate (or, after a v0 handshake,
// raw size-prefixed tokens) carries the exchange; a failure is answered with SASL_AUTHENTICATION_FAILED
// and the connection closes. Internal to kafka/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/dispatch.h"
#include "kafka/kafka.h"
#include "kafka/sasl_scram.h"

namespace sf::kafka {

// The users a broker accepts, as salted SCRAM credentials only (built once at start; read-only after).
class SaslCredentials {
 public:
  SaslCredentials(const std::vector<SaslUser>& users, int32_t iterations);
  const ScramCredential* find(ScramHash hash, std::string_view user) const;

 private:
  struct Entry {
    ScramCredential sha256;
    ScramCredential sha512;
  };
  std::map<std::string, Entry, std::less<>> users_;
};

// What every SASL connection of a broker shares.
struct SaslConfig {
  const SaslCredentials& credentials;
  std::span<const std::string> mechanisms;  // enabled, in the order SaslHandshake lists them
};

class SaslSession {
 public:
  explicit SaslSession(const SaslConfig& config) : config_(config) {}

  // Whether a request of this API may be served now (before authentication: ApiVersions and the SASL
  // APIs only, and only the step the exchange expects).
  bool allows(int16_t api_key) const;
  bool authenticated() const { return state_ == State::kAuthenticated; }
  // Set once a reply has been given that must be followed by closing the connection (Kafka sends the
  // error response first, then closes).
  bool close_after_reply() const { return close_after_reply_; }
  // After a v0 SaslHandshake the tokens come as bare size-prefixed frames, not SaslAuthenticate requests.
  bool expects_raw_token() const { return state_ == State::kAuthenticate && raw_tokens_; }
  const std::string& principal() const { return principal_; }
  std::span<const std::string> mechanisms() const { return config_.mechanisms; }

  // SaslHandshake: the error code to answer (NONE, UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE).
  int16_t handshake(std::string_view mechanism, int16_t version);

  struct Reply {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    std::string auth_bytes;
  };
  // One token of the exchange (SaslAuthenticate's auth_bytes, or a raw v0 token). `client` is for logs.
  Reply authenticate(std::string_view token, std::string_view client);

 private:
  enum class State { kHandshake, kAuthenticate, kAuthenticated, kFailed };
  Reply fail(std::string_view client, std::string_view reason, std::string message);
  Reply authenticate_plain(std::string_view token, std::string_view client);

  const SaslConfig& config_;
  State state_ = State::kHandshake;
  bool raw_tokens_ = false;
  bool close_after_reply_ = false;
  std::string mechanism_;
  std::unique_ptr<ScramServer> scram_;
  std::string principal_;
};

// One request frame of a connection that may need SASL authentication: raw v0 tokens go to the session,
// requests not allowed before authentication close the connection, the rest goes to dispatch_request.
// `sasl` is nullptr on PLAINTEXT and SSL listeners.
DispatchResult dispatch_connection_request(BrokerState& state, SaslSession* sasl, std::string_view frame,
                                           std::string_view client, std::string& response);

}  // namespace sf::kafka
