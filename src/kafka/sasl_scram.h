// SCRAM (RFC 5802, with SHA-256 per RFC 7677 and SHA-512 as Kafka adds it by KIP-84): salted credentials,
// the server side of the exchange the broker runs, and the client side its tests drive. Internal to kafka/.
//
// The messages are Kafka's: a GS2 header without channel binding ("n,," or "n,a=<user>,"), optional
// extensions after the nonce (ignored, as Kafka ignores the ones it does not know), the proof last in the
// client's final message. The broker keeps only salted credentials (salt, StoredKey, ServerKey,
// iterations), never a password; PLAIN passwords are checked against the same credentials.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sf::kafka {

enum class ScramHash { kSha256, kSha512 };

// "SCRAM-SHA-256" / "SCRAM-SHA-512"; nullopt for any other mechanism name.
std::optional<ScramHash> scram_hash_for(std::string_view mechanism);
std::string_view scram_mechanism_name(ScramHash hash);

// Kafka refuses fewer (ScramMechanism.minIterations) for both hashes.
inline constexpr int32_t kScramMinIterations = 4096;

// What a server stores per user and mechanism (RFC 5802 section 3). Keys are raw digests.
struct ScramCredential {
  std::string salt;
  std::string stored_key;  // H(ClientKey)
  std::string server_key;  // HMAC(SaltedPassword, "Server Key")
  int32_t iterations = kScramMinIterations;
};

// PBKDF2-HMAC(password, salt, iterations) and the keys derived from it.
ScramCredential make_scram_credential(ScramHash hash, std::string_view password, std::string_view salt,
                                      int32_t iterations);
// The same with a fresh random salt (what the broker does for users given by flag or file).
ScramCredential make_scram_credential(ScramHash hash, std::string_view password,
                                      int32_t iterations = kScramMinIterations);
// Whether `password` derives `credential` (PLAIN against stored SCRAM credentials), in constant time.
bool scram_password_matches(ScramHash hash, const ScramCredential& credential, std::string_view password);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt unless strict, padded base64

// The server side of one exchange: client-first -> server-first, client-final -> server-final.
// A failure is an error Status whose message is for the broker's log only: Kafka answers every SCRAM
// failure with the same generic message so that nothing (such as whether a user exists) leaks.
class ScramServer {
 public:
  using CredentialLookup = std::function<const ScramCredential*(std::string_view user)>;
  // `server_nonce` "" = random (tests pass RFC 7677's).
  ScramServer(ScramHash hash, CredentialLookup lookup, std::string server_nonce = {});

  // The reply to the client's next message. After the second successful step, complete() is true.
  Result<std::string> step(std::string_view client_message);
  bool complete() const { return state_ == State::kComplete; }
  // The authenticated user (the client-first message's n=, unescaped).
  const std::string& user() const { return user_; }

 private:
  enum class State { kClientFirst, kClientFinal, kComplete, kFailed };
  Result<std::string> client_first(std::string_view message);
  Result<std::string> client_final(std::string_view message);

  ScramHash hash_;
  CredentialLookup lookup_;
  std::string server_nonce_;
  State state_ = State::kClientFirst;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string client_nonce_;
  std::string nonce_;  // client's + server's
  ScramCredential credential_;
};

// The client side (librdkafka's rdkafka_sasl_scram.c does the same), for tests and tools.
class ScramClient {
 public:
  // `client_nonce` "" = random.
  ScramClient(ScramHash hash, std::string user, std::string password, std::string client_nonce = {});
  std::string first_message();
  // The client-final message for the server-first message; InvalidArgument if that is malformed or
  // does not extend our nonce.
  Result<std::string> final_message(std::string_view server_first);
  // Checks the server's signature (v=): the server knew our credentials. Error e= from the server or a
  // wrong signature fail.
  Status verify_server_final(std::string_view server_final) const;

 private:
  ScramHash hash_;
  std::string user_;
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  std::string expected_server_signature_;
};

}  // namespace sf::kafka
