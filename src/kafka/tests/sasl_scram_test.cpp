// SCRAM against RFC 7677's SCRAM-SHA-256 test vector (client and server side), the server's refusals, and
// the per-connection SASL state machine (PLAIN, mechanisms, states) without a network.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <gtest/gtest.h>

#include "kafka/protocol.h"
#include "kafka/sasl_scram.h"
#include "kafka/sasl_session.h"

namespace sf::kafka {
namespace {

// RFC 7677 section 3.
constexpr const char* kUser = "user";
constexpr const char* kPassword = "pencil";
constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kSalt = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr const char* kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"
    "Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramCredential rfc_credential() {
  return make_scram_credential(ScramHash::kSha256, kPassword, *base64_decode(kSalt), 4096);
}

TEST(ScramTest, Base64RoundTripAndStrictDecoding) {
  for (const std::string& bytes : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                                   std::string("\0\xff\x10\x80", 4)}) {
    auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << base64_encode(bytes);
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(base64_encode("n,,"), "biws");
  EXPECT_FALSE(base64_decode("abc").has_value());   // not a multiple of 4
  EXPECT_FALSE(base64_decode("ab=c").has_value());  // padding inside
  EXPECT_FALSE(base64_decode("ab,c").has_value());  // not base64
  EXPECT_FALSE(base64_decode("a===").has_value());  // too much padding
}

TEST(ScramTest, Rfc7677ClientSide) {
  ScramClient client(ScramHash::kSha256, kUser, kPassword, kClientNonce);
  EXPECT_EQ(client.first_message(), kClientFirst);
  auto final_message = client.final_message(kServerFirst);
  ASSERT_TRUE(final_message.has_value()) << final_message.status().to_string();
  EXPECT_EQ(*final_message, kClientFinal);
  EXPECT_TRUE(client.verify_server_final(kServerFinal).is_ok());
  EXPECT_FALSE(client.verify_server_final("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_ok());
  EXPECT_FALSE(client.verify_server_final("e=invalid-proof").is_ok());
}

TEST(ScramTest, Rfc7677ServerSide) {
  const ScramCredential credential = rfc_credential();
  ScramServer server(
      ScramHash::kSha256, [&](std::string_view user) { return user == kUser ? &credential : nullptr; },
      kServerNonce);
  auto server_first = server.step(kClientFirst);
  ASSERT_TRUE(server_first.has_value()) << server_first.status().to_string();
  EXPECT_EQ(*server_first, kServerFirst);
  EXPECT_FALSE(server.complete());
  auto server_final = server.step(kClientFinal);
  ASSERT_TRUE(server_final.has_value()) << server_final.status().to_string();
  EXPECT_EQ(*server_final, kServerFinal);
  EXPECT_TRUE(server.complete());
  EXPECT_EQ(server.user(), kUser);
  EXPECT_FALSE(server.step(kClientFinal).has_value()) << "no third step";
}

TEST(ScramTest, Sha512ClientAndServerAgreeAndWrongPasswordFails) {
  const ScramCredential credential = make_scram_credential(ScramHash::kSha512, "s3cret:with,commas=");
  auto lookup = [&](std::string_view user) { return user == "svc,a=b" ? &credential : nullptr; };
  {
    ScramServer server(ScramHash::kSha512, lookup);
    ScramClient client(ScramHash::kSha512, "svc,a=b", "s3cret:with,commas=");
    EXPECT_EQ(client.first_message().substr(0, 16), "n,,n=svc=2Ca=3Db") << "RFC 5802 saslname escaping";
    auto first = server.step(client.first_message());
    ASSERT_TRUE(first.has_value()) << first.status().to_string();
    auto final_message = client.final_message(*first);
    ASSERT_TRUE(final_message.has_value());
    auto last = server.step(*final_message);
    ASSERT_TRUE(last.has_value()) << last.status().to_string();
    EXPECT_TRUE(client.verify_server_final(*last).is_ok());
    EXPECT_EQ(server.user(), "svc,a=b");
  }
  {
    ScramServer server(ScramHash::kSha512, lookup);
    ScramClient client(ScramHash::kSha512, "svc,a=b", "wrong");
    auto first = server.step(client.first_message());
    ASSERT_TRUE(first.has_value());
    auto last = server.step(*client.final_message(*first));
    EXPECT_FALSE(last.has_value());
    EXPECT_FALSE(server.complete());
  }
}

TEST(ScramTest, ServerRefusesMalformedAndTamperedMessages) {
  const ScramCredential credential = rfc_credential();
  auto lookup = [&](std::string_view user) { return user == kUser ? &credential : nullptr; };
  auto first_step_fails = [&](std::string_view message) {
    ScramServer server(ScramHash::kSha256, lookup, kServerNonce);
    return !server.step(message).has_value();
  };
  EXPECT_TRUE(first_step_fails("n,,n=nobody,r=abc")) << "unknown user";
  EXPECT_TRUE(first_step_fails("p=tls-unique,,n=user,r=abc")) << "channel binding";
  EXPECT_TRUE(first_step_fails("n,a=other,n=user,r=abc")) << "authzid differs from the user";
  EXPECT_TRUE(first_step_fails("n,,r=abc,n=user")) << "attribute order";
  EXPECT_TRUE(first_step_fails("n,,n=us=41er,r=abc")) << "bad saslname escape";
  EXPECT_TRUE(first_step_fails("n,,n=user")) << "no nonce";
  EXPECT_TRUE(first_step_fails("")) << "empty";
  EXPECT_FALSE(first_step_fails("n,a=user,n=user,r=abc,ext=1")) << "authzid = user and extensions are fine";

  auto final_step_fails = [&](std::string_view message) {
    ScramServer server(ScramHash::kSha256, lookup, kServerNonce);
    EXPECT_TRUE(server.step(kClientFirst).has_value());
    return !server.step(message).has_value();
  };
  EXPECT_FALSE(final_step_fails(kClientFinal));
  std::string other_nonce = kClientFinal;
  other_nonce[20] = 'X';
  EXPECT_TRUE(final_step_fails(other_nonce)) << "nonce changed";
  EXPECT_TRUE(final_step_fails(std::string("c=eSws") + (kClientFinal + 6))) << "binding differs";
  std::string proof = kClientFinal;
  proof[proof.size() - 5] = proof[proof.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(final_step_fails(proof)) << "proof changed";
  EXPECT_TRUE(final_step_fails("c=biws,r=x")) << "no proof";
  EXPECT_TRUE(final_step_fails("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA"))
      << "proof of the wrong length";
}

// librdkafka before 2.6.1 (Debian 12 has 2.0.2) repeats its nonce in front of the whole nonce in the
// client-final message and computes its proof over that message; the broker accepts exactly that form.
// The client side here is written out with OpenSSL directly, independently of ScramClient.
std::string librdkafka_style_final(const ScramCredential& credential, std::string_view password,
                                   std::string_view client_first_bare, std::string_view server_first,
                                   std::string_view nonce_sent) {
  unsigned char salted[64], client_key[64], stored_key[64], signature[64];
  unsigned int n = 0;
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(credential.salt.data()),
                    static_cast<int>(credential.salt.size()), credential.iterations, EVP_sha512(), 64,
                    salted);
  HMAC(EVP_sha512(), salted, 64, reinterpret_cast<const unsigned char*>("Client Key"), 10, client_key, &n);
  SHA512(client_key, 64, stored_key);
  const std::string without_proof = "c=biws,r=" + std::string(nonce_sent);
  const std::string auth_message =
      std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  HMAC(EVP_sha512(), stored_key, 64, reinterpret_cast<const unsigned char*>(auth_message.data()),
       auth_message.size(), signature, &n);
  std::string proof(64, '\0');
  for (int i = 0; i < 64; ++i)
    proof[static_cast<std::size_t>(i)] = static_cast<char>(client_key[i] ^ signature[i]);
  return without_proof + ",p=" + base64_encode(proof);
}

TEST(ScramTest, ServerAcceptsLibrdkafkasRepeatedClientNonceAndNoOtherNonce) {
  const ScramCredential credential = make_scram_credential(ScramHash::kSha512, "pw");
  auto lookup = [&](std::string_view) { return &credential; };
  const std::string server_first = "r=CLIENTSERVER,s=" + base64_encode(credential.salt) + ",i=4096";
  struct Case {
    std::string nonce;
    bool accepted;
  };
  for (const Case& c :
       {Case{"CLIENTSERVER", true}, Case{"CLIENTCLIENTSERVER", true}, Case{"XCLIENTSERVER", false},
        Case{"CLIENTCLIENTCLIENTSERVER", false}, Case{"CLIENTSERVERX", false}}) {
    ScramServer server(ScramHash::kSha512, lookup, "SERVER");
    auto first = server.step("n,,n=u,r=CLIENT");
    ASSERT_TRUE(first.has_value());
    ASSERT_EQ(*first, server_first);
    auto last = server.step(librdkafka_style_final(credential, "pw", "n=u,r=CLIENT", server_first, c.nonce));
    EXPECT_EQ(last.has_value(), c.accepted) << c.nonce;
  }
}

TEST(ScramTest, PasswordMatchesItsCredentialOnly) {
  const ScramCredential c = make_scram_credential(ScramHash::kSha512, "pw");
  EXPECT_TRUE(scram_password_matches(ScramHash::kSha512, c, "pw"));
  EXPECT_FALSE(scram_password_matches(ScramHash::kSha512, c, "pW"));
  const ScramCredential other = make_scram_credential(ScramHash::kSha512, "pw");
  EXPECT_NE(c.salt, other.salt) << "a fresh salt per credential";
  EXPECT_NE(c.stored_key, other.stored_key);
}

class SaslSessionTest : public ::testing::Test {
 protected:
  SaslCredentials credentials_{{{"alice", "wonderland"}}, 4096};
  std::vector<std::string> mechanisms_{"SCRAM-SHA-512", "PLAIN"};
  SaslConfig config_{credentials_, mechanisms_};
};

TEST_F(SaslSessionTest, PlainWithTheRightPasswordAuthenticates) {
  SaslSession s(config_);
  EXPECT_TRUE(s.allows(api::kApiVersions));
  EXPECT_FALSE(s.allows(api::kMetadata));
  EXPECT_FALSE(s.allows(api::kSaslAuthenticate)) << "not before the handshake";
  EXPECT_EQ(s.handshake("PLAIN", 1), err::kNone);
  EXPECT_FALSE(s.allows(api::kApiVersions));
  EXPECT_TRUE(s.allows(api::kSaslAuthenticate));
  auto reply = s.authenticate(std::string("\0alice\0wonderland", 17), "test");
  EXPECT_EQ(reply.error_code, err::kNone);
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.principal(), "alice");
  EXPECT_TRUE(s.allows(api::kMetadata));
  EXPECT_EQ(s.authenticate("x", "test").error_code, err::kIllegalSaslState);
  EXPECT_FALSE(s.close_after_reply());
  EXPECT_EQ(s.handshake("PLAIN", 1), err::kIllegalSaslState);
}

TEST_F(SaslSessionTest, PlainFailuresCloseWithKafkasMessages) {
  struct Case {
    std::string token;
    std::string message;
  };
  const std::string generic =
      "Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN";
  for (const Case& c :
       {Case{std::string("\0alice\0wrong", 12), "Authentication failed: Invalid username or password"},
        Case{std::string("\0bob\0wonderland", 15), "Authentication failed: Invalid username or password"},
        Case{std::string("\0\0wonderland", 12), "Authentication failed: username not specified"},
        Case{std::string("\0alice\0", 7), "Authentication failed: password not specified"},
        Case{std::string("bob\0alice\0wonderland", 20),
             "Authentication failed: Client requested an authorization id that is different from "
             "username"},
        Case{"alice", generic}}) {
    SaslSession s(config_);
    ASSERT_EQ(s.handshake("PLAIN", 1), err::kNone);
    auto reply = s.authenticate(c.token, "test");
    EXPECT_EQ(reply.error_code, err::kSaslAuthenticationFailed);
    EXPECT_EQ(reply.error_message.value_or(""), c.message);
    EXPECT_TRUE(reply.auth_bytes.empty());
    EXPECT_FALSE(s.authenticated());
    EXPECT_TRUE(s.close_after_reply());
    EXPECT_FALSE(s.allows(api::kSaslAuthenticate));
  }
}

TEST_F(SaslSessionTest, UnknownMechanismIsRefusedAndCloses) {
  SaslSession s(config_);
  EXPECT_EQ(s.handshake("SCRAM-SHA-256", 1), err::kUnsupportedSaslMechanism) << "not enabled here";
  EXPECT_TRUE(s.close_after_reply());
}

TEST_F(SaslSessionTest, ScramFailureGivesTheGenericMessage) {
  SaslSession s(config_);
  ASSERT_EQ(s.handshake("SCRAM-SHA-512", 0), err::kNone);
  EXPECT_TRUE(s.expects_raw_token()) << "v0 handshake: bare tokens";
  auto reply = s.authenticate("n,,n=nobody,r=abcdef", "test");
  EXPECT_EQ(reply.error_code, err::kSaslAuthenticationFailed);
  EXPECT_EQ(reply.error_message.value_or(""),
            "Authentication failed during authentication due to invalid credentials with SASL mechanism "
            "SCRAM-SHA-512")
      << "an unknown user is not told apart from a wrong password";
  EXPECT_TRUE(s.close_after_reply());
}

TEST(SecurityConfigTest, ProtocolsAndUsers) {
  EXPECT_EQ(*parse_security_protocol("sasl_ssl"), SecurityProtocol::kSaslSsl);
  EXPECT_EQ(*parse_security_protocol("PLAINTEXT"), SecurityProtocol::kPlaintext);
  EXPECT_FALSE(parse_security_protocol("tls").has_value());
  auto user = parse_sasl_user("svc:pa:ss");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name, "svc");
  EXPECT_EQ(user->password, "pa:ss");
  EXPECT_FALSE(parse_sasl_user("svc").has_value());
  EXPECT_FALSE(parse_sasl_user(":pw").has_value());
  EXPECT_FALSE(parse_sasl_user("svc:").has_value());
}

}  // namespace
}  // namespace sf::kafka
