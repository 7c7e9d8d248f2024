// Per-connection SASL state machine (see sasl_session.h). Error codes and messages are Kafka's
// (SaslServerAuthenticator, ScramSaslServer, PlainSaslServer).
#include "kafka/sasl_session.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kafka/protocol.h"
#include "kafka/wire.h"

namespace sf::kafka {

SaslCredentials::SaslCredentials(const std::vector<SaslUser>& users, int32_t iterations) {
  for (const auto& user : users) {
    users_[user.name] = Entry{make_scram_credential(ScramHash::kSha256, user.password, iterations),
                              make_scram_credential(ScramHash::kSha512, user.password, iterations)};
  }
}

const ScramCredential* SaslCredentials::find(ScramHash hash, std::string_view user) const {
  auto it = users_.find(user);
  if (it == users_.end()) return nullptr;
  return hash == ScramHash::kSha256 ? &it->second.sha256 : &it->second.sha512;
}

bool SaslSession::allows(int16_t api_key) const {
  switch (state_) {
    case State::kAuthenticated:
      return true;
    case State::kHandshake:
      return api_key == api::kApiVersions || api_key == api::kSaslHandshake;
    case State::kAuthenticate:
      return api_key == api::kSaslAuthenticate;
    case State::kFailed:
      return false;
  }
  return false;
}

int16_t SaslSession::handshake(std::string_view mechanism, int16_t version) {
  if (state_ != State::kHandshake) return err::kIllegalSaslState;
  if (std::find(config_.mechanisms.begin(), config_.mechanisms.end(), mechanism) ==
      config_.mechanisms.end()) {
    // Kafka answers with the enabled mechanisms, then closes the connection.
    state_ = State::kFailed;
    close_after_reply_ = true;
    return err::kUnsupportedSaslMechanism;
  }
  mechanism_ = std::string(mechanism);
  raw_tokens_ = version == 0;
  if (auto hash = scram_hash_for(mechanism)) {
    const SaslCredentials& credentials = config_.credentials;
    scram_ = std::make_unique<ScramServer>(
        *hash, [&credentials, hash = *hash](std::string_view user) { return credentials.find(hash, user); });
  }
  state_ = State::kAuthenticate;
  return err::kNone;
}

SaslSession::Reply SaslSession::fail(std::string_view client, std::string_view reason, std::string message) {
  spdlog::warn("kafka: {}: SASL/{} authentication failed: {}", client, mechanism_, reason);
  state_ = State::kFailed;
  close_after_reply_ = true;
  scram_.reset();
  return Reply{err::kSaslAuthenticationFailed, std::move(message), {}};
}

SaslSession::Reply SaslSession::authenticate(std::string_view token, std::string_view client) {
  if (state_ == State::kAuthenticated) {
    return Reply{
        err::kIllegalSaslState, "SaslAuthenticate request received after successful authentication", {}};
  }
  if (state_ != State::kAuthenticate) {
    state_ = State::kFailed;
    close_after_reply_ = true;
    return Reply{
        err::kIllegalSaslState, "Unexpected SaslAuthenticate request: no SaslHandshake before it", {}};
  }
  if (!scram_) return authenticate_plain(token, client);
  auto reply = scram_->step(token);
  if (!reply) {
    // Never the reason: it could tell whether the user exists.
    return fail(client, reply.status().message(),
                fmt::format("Authentication failed during authentication due to invalid credentials with "
                            "SASL mechanism {}",
                            mechanism_));
  }
  if (scram_->complete()) {
    principal_ = scram_->user();
    scram_.reset();
    state_ = State::kAuthenticated;
    spdlog::debug("kafka: {}: authenticated as '{}' with SASL/{}", client, principal_, mechanism_);
  }
  return Reply{err::kNone, std::nullopt, std::move(*reply)};
}

SaslSession::Reply SaslSession::authenticate_plain(std::string_view token, std::string_view client) {
  // [authzid] NUL authcid NUL passwd (RFC 4616).
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t nul; (nul = token.find('\0', start)) != std::string_view::npos; start = nul + 1)
    parts.push_back(token.substr(start, nul - start));
  parts.push_back(token.substr(start));
  const std::string generic =
      "Authentication failed during authentication due to invalid credentials with SASL "
      "mechanism PLAIN";
  if (parts.size() != 3) return fail(client, fmt::format("expected 3 tokens, got {}", parts.size()), generic);
  const std::string_view authzid = parts[0], user = parts[1], password = parts[2];
  if (user.empty()) return fail(client, "no user name", "Authentication failed: username not specified");
  if (password.empty()) return fail(client, "no password", "Authentication failed: password not specified");
  if (!authzid.empty() && authzid != user) {
    return fail(
        client, "authorization id differs from the user name",
        "Authentication failed: Client requested an authorization id that is different from username");
  }
  // The SHA-512 credential stands in for the password: the broker keeps no cleartext.
  const ScramCredential* credential = config_.credentials.find(ScramHash::kSha512, user);
  if (credential == nullptr || !scram_password_matches(ScramHash::kSha512, *credential, password)) {
    return fail(client, fmt::format("invalid user name or password for '{}'", user),
                "Authentication failed: Invalid username or password");
  }
  principal_ = std::string(user);
  state_ = State::kAuthenticated;
  spdlog::debug("kafka: {}: authenticated as '{}' with SASL/PLAIN", client, principal_);
  return Reply{err::kNone, std::nullopt, {}};
}

DispatchResult dispatch_connection_request(BrokerState& state, SaslSession* sasl, std::string_view frame,
                                           std::string_view client, std::string& response) {
  if (sasl != nullptr && sasl->expects_raw_token()) {
    // KIP-43's original framing: after SaslHandshake v0, bare tokens both ways; a failure just closes.
    SaslSession::Reply reply = sasl->authenticate(frame, client);
    if (reply.error_code != err::kNone) return DispatchResult::kClose;
    response.clear();
    Writer out(response);
    out.i32(static_cast<int32_t>(reply.auth_bytes.size()));
    out.raw(reply.auth_bytes);
    return DispatchResult::kRespond;
  }
  if (sasl != nullptr && !sasl->authenticated()) {
    Reader in(frame);
    const int16_t api_key = in.i16();
    if (!in.ok() || !sasl->allows(api_key)) {
      spdlog::warn("kafka: {}: API key {} before SASL authentication: closing the connection", client,
                   api_key);
      return DispatchResult::kClose;
    }
  }
  return dispatch_request(state, frame, client, response, sasl);
}

}  // namespace sf::kafka
