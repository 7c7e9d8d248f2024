// SCRAM-SHA-256/512 over OpenSSL's PBKDF2, HMAC and digests (see sasl_scram.h).
#include "kafka/sasl_scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <vector>

#include <fmt/format.h>

namespace sf::kafka {
namespace {

const EVP_MD* digest(ScramHash hash) {
  return hash == ScramHash::kSha256 ? EVP_sha256() : EVP_sha512();
}

std::size_t digest_size(ScramHash hash) {
  return static_cast<std::size_t>(EVP_MD_get_size(digest(hash)));
}

std::string hmac(ScramHash hash, std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  HMAC(digest(hash), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &size);
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string hash_of(ScramHash hash, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &size, digest(hash), nullptr);
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string salted_password(ScramHash hash, std::string_view password, std::string_view salt,
                            int32_t iterations) {
  std::string out(digest_size(hash), '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    iterations, digest(hash), static_cast<int>(out.size()),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] = static_cast<char>(out[i] ^ b[i]);
  return out;
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_nonce() {
  // 24 random bytes in base64: printable and free of ',' as RFC 5802 requires of a nonce.
  std::array<unsigned char, 24> bytes{};
  RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// The attributes of a SCRAM message: "k=value" separated by ','; values may hold '=' but not ','.
struct Attribute {
  char key = 0;
  std::string_view value;
};

std::vector<Attribute> split_attributes(std::string_view message) {
  std::vector<Attribute> out;
  std::size_t start = 0;
  while (start <= message.size()) {
    const std::size_t comma = message.find(',', start);
    const std::string_view part =
        message.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (part.size() >= 2 && part[1] == '=') {
      out.push_back({part[0], part.substr(2)});
    } else {
      out.push_back({0, part});  // malformed; callers reject key 0 where it matters
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// RFC 5802 saslname: ',' and '=' are sent as "=2C" and "=3D"; any other '=' is invalid.
std::optional<std::string> unescape_saslname(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '=') {
      out.push_back(name[i]);
      continue;
    }
    const std::string_view code = name.substr(i + 1, 2);
    if (code == "2C") {
      out.push_back(',');
    } else if (code == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string escape_saslname(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

}  // namespace

std::optional<ScramHash> scram_hash_for(std::string_view mechanism) {
  if (mechanism == "SCRAM-SHA-256") return ScramHash::kSha256;
  if (mechanism == "SCRAM-SHA-512") return ScramHash::kSha512;
  return std::nullopt;
}

std::string_view scram_mechanism_name(ScramHash hash) {
  return hash == ScramHash::kSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
}

ScramCredential make_scram_credential(ScramHash hash, std::string_view password, std::string_view salt,
                                      int32_t iterations) {
  const std::string salted = salted_password(hash, password, salt, iterations);
  ScramCredential c;
  c.salt = std::string(salt);
  c.stored_key = hash_of(hash, hmac(hash, salted, "Client Key"));
  c.server_key = hmac(hash, salted, "Server Key");
  c.iterations = iterations;
  return c;
}

ScramCredential make_scram_credential(ScramHash hash, std::string_view password, int32_t iterations) {
  std::array<unsigned char, 16> salt{};
  RAND_bytes(salt.data(), static_cast<int>(salt.size()));
  return make_scram_credential(
      hash, password, std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()), iterations);
}

bool scram_password_matches(ScramHash hash, const ScramCredential& credential, std::string_view password) {
  const ScramCredential derived =
      make_scram_credential(hash, password, credential.salt, credential.iterations);
  return equal_in_constant_time(derived.stored_key, credential.stored_key);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool padding = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text.back() == '=');
    if (!alnum && c != '+' && c != '/' && !padding) return std::nullopt;
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

ScramServer::ScramServer(ScramHash hash, CredentialLookup lookup, std::string server_nonce)
    : hash_(hash), lookup_(std::move(lookup)), server_nonce_(std::move(server_nonce)) {
  if (server_nonce_.empty()) server_nonce_ = random_nonce();
}

Result<std::string> ScramServer::step(std::string_view client_message) {
  Result<std::string> reply = Status::internal("unreachable");
  switch (state_) {
    case State::kClientFirst:
      reply = client_first(client_message);
      if (reply) state_ = State::kClientFinal;
      break;
    case State::kClientFinal:
      reply = client_final(client_message);
      if (reply) state_ = State::kComplete;
      break;
    case State::kComplete:
    case State::kFailed:
      return Status::failed_precondition("SCRAM exchange already finished");
  }
  if (!reply) {
    state_ = State::kFailed;
    credential_ = {};
  }
  return reply;
}

Result<std::string> ScramServer::client_first(std::string_view message) {
  // gs2-header: "n" (no channel binding) or "y" (client could, thinks we cannot), then ",[a=authzid],".
  if (message.starts_with("p=")) return Status::invalid_argument("channel binding is not supported");
  if (!message.starts_with("n,") && !message.starts_with("y,"))
    return Status::invalid_argument("client-first message lacks a GS2 header");
  const std::size_t authz_end = message.find(',', 2);
  if (authz_end == std::string_view::npos) return Status::invalid_argument("truncated GS2 header");
  const std::string_view authzid = message.substr(2, authz_end - 2);
  if (!authzid.empty() && !authzid.starts_with("a="))
    return Status::invalid_argument("malformed authorization id in the GS2 header");
  gs2_header_ = std::string(message.substr(0, authz_end + 1));
  client_first_bare_ = std::string(message.substr(authz_end + 1));
  const auto attributes = split_attributes(client_first_bare_);
  if (attributes.size() < 2 || attributes[0].key != 'n' || attributes[1].key != 'r')
    return Status::invalid_argument("client-first message must be n=<user>,r=<nonce>[,extensions]");
  auto user = unescape_saslname(attributes[0].value);
  if (!user || user->empty()) return Status::invalid_argument("malformed user name");
  user_ = std::move(*user);
  if (!valid_nonce(attributes[1].value)) return Status::invalid_argument("malformed client nonce");
  if (!authzid.empty()) {
    auto requested = unescape_saslname(authzid.substr(2));
    if (!requested || *requested != user_)
      return Status::invalid_argument("authorization id differs from the user name");
  }
  const ScramCredential* credential = lookup_(user_);
  if (credential == nullptr) return Status::not_found(fmt::format("unknown user '{}'", user_));
  if (credential->iterations < kScramMinIterations)
    return Status::failed_precondition(fmt::format("credential of '{}' has {} iterations, fewer than {}",
                                                   user_, credential->iterations, kScramMinIterations));
  credential_ = *credential;
  client_nonce_ = std::string(attributes[1].value);
  nonce_ = client_nonce_ + server_nonce_;
  server_first_ =
      fmt::format("r={},s={},i={}", nonce_, base64_encode(credential_.salt), credential_.iterations);
  return server_first_;
}

Result<std::string> ScramServer::client_final(std::string_view message) {
  // c=<base64 gs2 header>,r=<nonce>[,extensions],p=<proof>; the proof is last.
  const std::size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return Status::invalid_argument("client-final message lacks p=");
  const std::string_view without_proof = message.substr(0, proof_at);
  const auto attributes = split_attributes(without_proof);
  if (attributes.size() < 2 || attributes[0].key != 'c' || attributes[1].key != 'r')
    return Status::invalid_argument("client-final message must be c=<binding>,r=<nonce>,...,p=<proof>");
  if (attributes[0].value != base64_encode(gs2_header_))
    return Status::invalid_argument("channel binding differs from the GS2 header");
  // librdkafka before 2.6.1 sends its own nonce again in front of the whole nonce (librdkafka#4895);
  // Kafka 3.8.1 to 3.9 accept that form (since the CVE-2024-56128 fix), and so do we, but nothing else.
  if (attributes[1].value != nonce_ && attributes[1].value != client_nonce_ + nonce_)
    return Status::invalid_argument("invalid nonce in the client-final message");
  auto proof = base64_decode(message.substr(proof_at + 3));
  if (!proof || proof->size() != digest_size(hash_))
    return Status::invalid_argument("malformed client proof");
  const std::string auth_message = fmt::format("{},{},{}", client_first_bare_, server_first_, without_proof);
  // ClientKey = proof XOR HMAC(StoredKey, AuthMessage); the client knew the password iff H(ClientKey) is
  // the StoredKey.
  const std::string client_key = xor_bytes(*proof, hmac(hash_, credential_.stored_key, auth_message));
  if (!equal_in_constant_time(hash_of(hash_, client_key), credential_.stored_key))
    return Status::invalid_argument(fmt::format("invalid client proof for user '{}'", user_));
  std::string reply = "v=" + base64_encode(hmac(hash_, credential_.server_key, auth_message));
  credential_ = {};
  return reply;
}

ScramClient::ScramClient(ScramHash hash, std::string user, std::string password, std::string client_nonce)
    : hash_(hash),
      user_(std::move(user)),
      password_(std::move(password)),
      client_nonce_(std::move(client_nonce)) {
  if (client_nonce_.empty()) client_nonce_ = random_nonce();
}

std::string ScramClient::first_message() {
  client_first_bare_ = fmt::format("n={},r={}", escape_saslname(user_), client_nonce_);
  return "n,," + client_first_bare_;
}

Result<std::string> ScramClient::final_message(std::string_view server_first) {
  const auto attributes = split_attributes(server_first);
  if (attributes.size() < 3 || attributes[0].key != 'r' || attributes[1].key != 's' ||
      attributes[2].key != 'i')
    return Status::invalid_argument(fmt::format("malformed server-first message '{}'", server_first));
  const std::string_view nonce = attributes[0].value;
  if (!nonce.starts_with(client_nonce_) || nonce.size() == client_nonce_.size())
    return Status::invalid_argument("server nonce does not extend the client nonce");
  auto salt = base64_decode(attributes[1].value);
  if (!salt) return Status::invalid_argument("malformed salt");
  int32_t iterations = 0;
  for (char c : attributes[2].value) {
    if (c < '0' || c > '9' || iterations > 100'000'000)
      return Status::invalid_argument("malformed iteration count");
    iterations = iterations * 10 + (c - '0');
  }
  if (iterations < 1) return Status::invalid_argument("malformed iteration count");
  const std::string without_proof = fmt::format("c={},r={}", base64_encode("n,,"), nonce);
  const std::string auth_message = fmt::format("{},{},{}", client_first_bare_, server_first, without_proof);
  const std::string salted = salted_password(hash_, password_, *salt, iterations);
  const std::string client_key = hmac(hash_, salted, "Client Key");
  const std::string signature = hmac(hash_, hash_of(hash_, client_key), auth_message);
  expected_server_signature_ = hmac(hash_, hmac(hash_, salted, "Server Key"), auth_message);
  return fmt::format("{},p={}", without_proof, base64_encode(xor_bytes(client_key, signature)));
}

Status ScramClient::verify_server_final(std::string_view server_final) const {
  if (server_final.starts_with("e="))
    return Status::invalid_argument(fmt::format("server error: {}", server_final.substr(2)));
  if (!server_final.starts_with("v=")) return Status::invalid_argument("malformed server-final message");
  auto signature = base64_decode(server_final.substr(2));
  if (!signature || !equal_in_constant_time(*signature, expected_server_signature_))
    return Status::invalid_argument(
        "server signature does not match: the server does not know our credentials");
  return Status::ok();
}

}  // namespace sf::kafka
