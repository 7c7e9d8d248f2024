// The broker's authenticated listeners: SASL on the wire (a hand-driven client: ApiVersions, SaslHandshake
// v0/v1, SaslAuthenticate v0..2, what is refused before authentication), and librdkafka with
// security.protocol=SASL_SSL, SCRAM-SHA-512 and a CA file producing and consuming through the broker.
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <boost/asio.hpp>

#include "kafka/protocol.h"
#include "kafka/sasl_scram.h"
#include "kafka/tests/test_util.h"
#include "kafka/tests/tls_test_util.h"
#include "kafka/wire.h"
#include "net/url.h"

namespace sf::kafka {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using testing::TempDir;
using testing::TestBroker;

BrokerOptions sasl_options(SecurityProtocol protocol, const testing::TestCertificates* certs = nullptr) {
  BrokerOptions options;
  options.security.protocol = protocol;
  options.security.sasl_users = {{"alice", "wonderland"}, {"svc", "s3cret"}};
  if (certs != nullptr) {
    options.security.tls_cert_file = certs->cert.string();
    options.security.tls_key_file = certs->key.string();
  }
  return options;
}

// A blocking Kafka client speaking requests by hand, with a 5 s receive timeout so a test never hangs.
class WireClient {
 public:
  explicit WireClient(const std::string& address) {
    auto hp = net::parse_host_port(address);
    EXPECT_TRUE(hp.has_value());
    boost::system::error_code ec;
    socket_.connect(tcp::endpoint(asio::ip::make_address(hp->host), hp->port), ec);
    EXPECT_FALSE(ec) << ec.message();
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // Sends a request (header v1, or v2 when `flexible`) and returns the response body, or nullopt when the
  // broker closed the connection instead of answering.
  std::optional<std::string> call(int16_t api_key, int16_t version, const std::string& body,
                                  bool flexible = false, bool flexible_response_header = false) {
    std::string frame;
    Writer w(frame);
    const std::size_t size_at = w.reserve_i32();
    w.i16(api_key);
    w.i16(version);
    w.i32(++correlation_id_);
    w.nullable_string("sasl-test");
    if (flexible) w.empty_tagged_fields();
    w.raw(body);
    w.patch_i32(size_at, static_cast<int32_t>(frame.size() - 4));
    auto response = exchange(frame);
    if (!response) return std::nullopt;
    Reader r(*response);
    EXPECT_EQ(r.i32(), correlation_id_);
    if (flexible_response_header) r.skip_tagged_fields();
    EXPECT_TRUE(r.ok());
    return std::string(r.rest());
  }

  // A bare size-prefixed token (SASL after a v0 handshake).
  std::optional<std::string> raw_token(std::string_view token) {
    std::string frame;
    Writer w(frame);
    w.i32(static_cast<int32_t>(token.size()));
    w.raw(token);
    return exchange(frame);
  }

  // Whether the broker has closed the connection (EOF within the receive timeout).
  bool closed() {
    char byte;
    boost::system::error_code ec;
    asio::read(socket_, asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  std::optional<std::string> exchange(const std::string& frame) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(frame), ec);
    if (ec) return std::nullopt;
    char size_bytes[4];
    asio::read(socket_, asio::buffer(size_bytes, 4), ec);
    if (ec) return std::nullopt;
    Reader r(std::string_view(size_bytes, 4));
    std::string response(static_cast<std::size_t>(r.i32()), '\0');
    asio::read(socket_, asio::buffer(response.data(), response.size()), ec);
    if (ec) return std::nullopt;
    return response;
  }

  asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  int32_t correlation_id_ = 0;
};

std::string string_body(std::string_view s) {
  std::string body;
  Writer(body).string(s);
  return body;
}

struct HandshakeAnswer {
  int16_t error = -1;
  std::vector<std::string> mechanisms;
};

HandshakeAnswer handshake(WireClient& client, std::string_view mechanism, int16_t version) {
  auto body = client.call(api::kSaslHandshake, version, string_body(mechanism));
  HandshakeAnswer answer;
  if (!body) return answer;
  Reader r(*body);
  answer.error = r.i16();
  const int32_t n = r.array_length();
  for (int32_t i = 0; i < n; ++i) answer.mechanisms.emplace_back(r.string());
  EXPECT_TRUE(r.ok());
  return answer;
}

struct AuthAnswer {
  int16_t error = -1;
  std::string message;
  std::string bytes;
  int64_t session_lifetime_ms = -1;
};

std::optional<AuthAnswer> authenticate(WireClient& client, std::string_view token, int16_t version) {
  std::string body;
  Writer w(body);
  if (version >= 2) {
    w.uvarint(static_cast<uint32_t>(token.size() + 1));
    w.raw(token);
    w.empty_tagged_fields();
  } else {
    w.bytes(token);
  }
  auto response = client.call(api::kSaslAuthenticate, version, body, version >= 2, version >= 2);
  if (!response) return std::nullopt;
  Reader r(*response);
  AuthAnswer a;
  a.error = r.i16();
  if (version >= 2) {
    a.message = std::string(r.compact_nullable_string().value_or(""));
    a.bytes = std::string(r.compact_nullable_bytes().value_or(""));
  } else {
    a.message = std::string(r.nullable_string().value_or(""));
    a.bytes = std::string(r.bytes());
  }
  if (version >= 1) a.session_lifetime_ms = r.i64();
  if (version >= 2) r.skip_tagged_fields();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  return a;
}

// Metadata v1 for no topics (null array: all topics): any well-formed answer means the request was served.
bool metadata_served(WireClient& client) {
  std::string body;
  Writer(body).array_length(0);
  return client.call(api::kMetadata, 1, body).has_value();
}

TEST(SaslWireTest, ApiVersionsAdvertisesSaslAndNothingElseIsServedBeforeAuthentication) {
  TempDir tmp;
  TestBroker broker(tmp.path(), sasl_options(SecurityProtocol::kSaslPlaintext));
  WireClient client(broker.address());
  auto body = client.call(api::kApiVersions, 1, "");
  ASSERT_TRUE(body.has_value());
  Reader r(*body);
  EXPECT_EQ(r.i16(), err::kNone);
  std::map<int16_t, std::pair<int16_t, int16_t>> versions;
  for (int32_t i = 0, n = r.array_length(); i < n; ++i) {
    const int16_t key = r.i16();
    const int16_t min = r.i16();
    versions[key] = {min, r.i16()};
  }
  ASSERT_TRUE(r.ok());
  using Range = std::pair<int16_t, int16_t>;
  EXPECT_EQ(versions[api::kSaslHandshake], Range(0, 1));
  EXPECT_EQ(versions[api::kSaslAuthenticate], Range(0, 2));
  EXPECT_FALSE(metadata_served(client)) << "Metadata before authentication";
  EXPECT_TRUE(client.closed());
  // SaslAuthenticate before SaslHandshake closes the connection too.
  WireClient second(broker.address());
  EXPECT_FALSE(authenticate(second, "n,,n=alice,r=abc", 1).has_value());
  // The broker still serves others.
  WireClient third(broker.address());
  EXPECT_TRUE(third.call(api::kApiVersions, 0, "").has_value());
}

TEST(SaslWireTest, ScramSha256OverFlexibleSaslAuthenticateV2ThenRequestsAreServed) {
  TempDir tmp;
  TestBroker broker(tmp.path(), sasl_options(SecurityProtocol::kSaslPlaintext));
  WireClient client(broker.address());
  const HandshakeAnswer h = handshake(client, "SCRAM-SHA-256", 1);
  EXPECT_EQ(h.error, err::kNone);
  EXPECT_EQ(h.mechanisms, (std::vector<std::string>{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}));
  EXPECT_FALSE(metadata_served(client)) << "Metadata in the middle of the exchange";
  WireClient again(broker.address());
  ASSERT_EQ(handshake(again, "SCRAM-SHA-256", 1).error, err::kNone);
  ScramClient scram(ScramHash::kSha256, "svc", "s3cret");
  auto first = authenticate(again, scram.first_message(), 2);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->error, err::kNone) << first->message;
  auto final_message = scram.final_message(first->bytes);
  ASSERT_TRUE(final_message.has_value()) << final_message.status().to_string();
  auto last = authenticate(again, *final_message, 2);
  ASSERT_TRUE(last.has_value());
  ASSERT_EQ(last->error, err::kNone) << last->message;
  EXPECT_EQ(last->session_lifetime_ms, 0);
  EXPECT_TRUE(scram.verify_server_final(last->bytes).is_ok()) << "the broker proves it knows the credential";
  EXPECT_TRUE(metadata_served(again));
  auto after = authenticate(again, "x", 1);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->error, err::kIllegalSaslState);
  EXPECT_TRUE(metadata_served(again)) << "the connection stays usable";
}

TEST(SaslWireTest, WrongPasswordIsSaslAuthenticationFailedThenTheConnectionCloses) {
  TempDir tmp;
  TestBroker broker(tmp.path(), sasl_options(SecurityProtocol::kSaslPlaintext));
  {
    WireClient client(broker.address());
    ASSERT_EQ(handshake(client, "SCRAM-SHA-512", 1).error, err::kNone);
    ScramClient scram(ScramHash::kSha512, "alice", "not-wonderland");
    auto first = authenticate(client, scram.first_message(), 1);
    ASSERT_TRUE(first.has_value());
    ASSERT_EQ(first->error, err::kNone);
    auto last = authenticate(client, *scram.final_message(first->bytes), 1);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->error, err::kSaslAuthenticationFailed);
    EXPECT_EQ(last->message,
              "Authentication failed during authentication due to invalid credentials with SASL mechanism "
              "SCRAM-SHA-512");
    EXPECT_TRUE(last->bytes.empty());
    EXPECT_TRUE(client.closed());
  }
  {
    WireClient client(broker.address());
    ASSERT_EQ(handshake(client, "PLAIN", 1).error, err::kNone);
    auto reply = authenticate(client, std::string("\0alice\0wrong", 12), 0);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->error, err::kSaslAuthenticationFailed);
    EXPECT_EQ(reply->message, "Authentication failed: Invalid username or password");
    EXPECT_TRUE(client.closed());
  }
  {
    WireClient client(broker.address());
    const HandshakeAnswer h = handshake(client, "GSSAPI", 1);
    EXPECT_EQ(h.error, err::kUnsupportedSaslMechanism);
    EXPECT_EQ(h.mechanisms.size(), 3u) << "the enabled mechanisms are listed";
    EXPECT_TRUE(client.closed());
  }
}

TEST(SaslWireTest, RawTokensAfterHandshakeV0) {
  TempDir tmp;
  TestBroker broker(tmp.path(), sasl_options(SecurityProtocol::kSaslPlaintext));
  {
    WireClient client(broker.address());
    ASSERT_EQ(handshake(client, "SCRAM-SHA-512", 0).error, err::kNone);
    ScramClient scram(ScramHash::kSha512, "alice", "wonderland");
    auto first = client.raw_token(scram.first_message());
    ASSERT_TRUE(first.has_value());
    auto last = client.raw_token(*scram.final_message(*first));
    ASSERT_TRUE(last.has_value());
    EXPECT_TRUE(scram.verify_server_final(*last).is_ok());
    EXPECT_TRUE(metadata_served(client));
  }
  {
    // PLAIN tokens can be shorter than a request header.
    TempDir tmp2;
    BrokerOptions options = sasl_options(SecurityProtocol::kSaslPlaintext);
    options.security.sasl_users = {{"a", "b"}};
    TestBroker small(tmp2.path(), options);
    WireClient client(small.address());
    ASSERT_EQ(handshake(client, "PLAIN", 0).error, err::kNone);
    auto reply = client.raw_token(std::string("\0a\0b", 4));
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(reply->empty());
    EXPECT_TRUE(metadata_served(client));
  }
  {
    WireClient client(broker.address());
    ASSERT_EQ(handshake(client, "PLAIN", 0).error, err::kNone);
    EXPECT_FALSE(client.raw_token(std::string("\0alice\0nope", 11)).has_value())
        << "a v0 failure just closes the connection";
  }
}

TEST(SaslWireTest, PlaintextListenerAnswersIllegalSaslState) {
  TempDir tmp;
  TestBroker broker(tmp.path());
  WireClient client(broker.address());
  EXPECT_EQ(handshake(client, "PLAIN", 1).error, err::kIllegalSaslState);
  auto reply = authenticate(client, "x", 2);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error, err::kIllegalSaslState);
  EXPECT_TRUE(metadata_served(client));
}

TEST(SaslWireTest, BadSecuritySettingsAreRefusedAtStart) {
  TempDir tmp;
  bus::EmbeddedBusOptions bus_options;
  bus_options.dir = tmp.path() / "bus";
  auto bus = bus::open_embedded_bus(bus_options);
  ASSERT_TRUE(bus.has_value());
  BrokerOptions options;
  options.listen = "127.0.0.1:0";
  options.security.protocol = SecurityProtocol::kSaslSsl;  // no certificate
  auto started = Broker::start(**bus, options);
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.status().message().find("--tls-cert"), std::string::npos) << started.status().to_string();
  options.security.protocol = SecurityProtocol::kSaslPlaintext;
  options.security.sasl_mechanisms = {"SCRAM-SHA-1"};
  started = Broker::start(**bus, options);
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.status().message().find("SCRAM-SHA-1"), std::string::npos);
  options.security.protocol = SecurityProtocol::kSsl;
  options.security.tls_cert_file = (tmp.path() / "missing.pem").string();
  options.security.tls_key_file = (tmp.path() / "missing.key").string();
  started = Broker::start(**bus, options);
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.status().message().find("missing.pem"), std::string::npos);
}

// librdkafka's client errors (authentication failures arrive here, not per message).
class ErrorLog final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    std::lock_guard lock(mu_);
    errors_.emplace_back(event.err(), event.str());
  }
  std::optional<std::string> find(RdKafka::ErrorCode code) {
    std::lock_guard lock(mu_);
    for (const auto& [c, text] : errors_) {
      if (c == code) return text;
    }
    return std::nullopt;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<RdKafka::ErrorCode, std::string>> errors_;
};

class DeliveryCount final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++delivered;
    } else {
      ++failed;
      last_error = message.err();
    }
  }
  int delivered = 0;
  int failed = 0;
  RdKafka::ErrorCode last_error = RdKafka::ERR_NO_ERROR;
};

std::unique_ptr<RdKafka::Conf> client_conf(const std::string& bootstrap,
                                           const testing::TestCertificates& certs,
                                           const std::string& password, RdKafka::EventCb* events) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", bootstrap},
                                                        {"security.protocol", "SASL_SSL"},
                                                        {"sasl.mechanism", "SCRAM-SHA-512"},
                                                        {"sasl.username", "alice"},
                                                        {"sasl.password", password},
                                                        {"ssl.ca.location", certs.ca.string()},
                                                        {"log_level", "2"}}) {
    EXPECT_EQ(conf->set(key, value, error), RdKafka::Conf::CONF_OK) << key << ": " << error;
  }
  EXPECT_EQ(conf->set("event_cb", events, error), RdKafka::Conf::CONF_OK) << error;
  return conf;
}

class SaslSslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    certs_ = testing::make_test_certificates(tmp_.path() / "tls", &error);
    ASSERT_FALSE(certs_.ca.empty()) << error;
    broker_.emplace(tmp_.path(), sasl_options(SecurityProtocol::kSaslSsl, &certs_));
    ASSERT_FALSE(broker_->address().empty());
  }
  TempDir tmp_;
  testing::TestCertificates certs_;
  std::optional<TestBroker> broker_;
};

TEST_F(SaslSslTest, LibrdkafkaScramSha512ProducesAndConsumesThroughTheBroker) {
  constexpr int kMessages = 500;
  ErrorLog errors;
  DeliveryCount deliveries;
  {
    auto conf = client_conf(broker_->address(), certs_, "wonderland", &errors);
    std::string error;
    ASSERT_EQ(conf->set("dr_cb", &deliveries, error), RdKafka::Conf::CONF_OK);
    conf->set("acks", "all", error);
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    ASSERT_TRUE(producer) << error;
    for (int i = 0; i < kMessages; ++i) {
      const std::string key = fmt::format("k{}", i % 5), value = fmt::format("secure value {}", i);
      ASSERT_EQ(producer->produce("secure", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                  const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                                  nullptr),
                RdKafka::ERR_NO_ERROR);
      producer->poll(0);
    }
    EXPECT_EQ(producer->flush(20000), RdKafka::ERR_NO_ERROR);
  }
  EXPECT_EQ(deliveries.delivered, kMessages);
  EXPECT_EQ(deliveries.failed, 0);
  auto info = broker_->bus->describe_topic("secure");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->partitions[0].log_end_offset, kMessages);

  // A group consumer over the same SASL_SSL listener (FindCoordinator, JoinGroup, Fetch, OffsetCommit).
  auto conf = client_conf(broker_->address(), certs_, "wonderland", &errors);
  std::string error;
  conf->set("group.id", "secure-readers", error);
  conf->set("auto.offset.reset", "earliest", error);
  conf->set("session.timeout.ms", "6000", error);
  conf->set("heartbeat.interval.ms", "200", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({"secure"}), RdKafka::ERR_NO_ERROR);
  std::vector<std::string> values;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (static_cast<int>(values.size()) < kMessages && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR_NO_ERROR)
      values.emplace_back(static_cast<const char*>(m->payload()), m->len());
  }
  EXPECT_EQ(consumer->commitSync(), RdKafka::ERR_NO_ERROR);
  consumer->close();
  ASSERT_EQ(values.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i)
    EXPECT_EQ(values[static_cast<std::size_t>(i)], fmt::format("secure value {}", i));
  EXPECT_FALSE(errors.find(RdKafka::ERR__AUTHENTICATION).has_value());
}

TEST_F(SaslSslTest, WrongPasswordIsAClearAuthenticationErrorAndNothingIsProduced) {
  ErrorLog errors;
  DeliveryCount deliveries;
  auto conf = client_conf(broker_->address(), certs_, "not-the-password", &errors);
  std::string error;
  conf->set("dr_cb", &deliveries, error);
  conf->set("message.timeout.ms", "3000", error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  const std::string value = "must not arrive";
  ASSERT_EQ(producer->produce("secure", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                              const_cast<char*>(value.data()), value.size(), nullptr, 0, 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  producer->flush(6000);
  producer->poll(0);
  const auto text = errors.find(RdKafka::ERR__AUTHENTICATION);
  ASSERT_TRUE(text.has_value()) << "librdkafka reports an authentication failure";
  EXPECT_NE(text->find("Authentication failed during authentication due to invalid credentials with SASL "
                       "mechanism SCRAM-SHA-512"),
            std::string::npos)
      << *text;
  EXPECT_EQ(deliveries.delivered, 0);
  EXPECT_EQ(deliveries.failed, 1);
  EXPECT_FALSE(broker_->bus->describe_topic("secure").has_value()) << "nothing reached the log";
}

TEST_F(SaslSslTest, ClientThatDoesNotTrustTheCaOrSpeaksPlaintextIsRefused) {
  ErrorLog errors;
  testing::TestCertificates wrong = certs_;
  wrong.ca = certs_.cert.parent_path() / "server.pem";  // not the CA: the chain cannot be verified
  auto conf = client_conf(broker_->address(), wrong, "wonderland", &errors);
  std::string error;
  conf->set("message.timeout.ms", "2000", error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  const std::string value = "x";
  producer->produce("secure", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                    const_cast<char*>(value.data()), value.size(), nullptr, 0, 0, nullptr);
  producer->flush(4000);
  EXPECT_TRUE(errors.find(RdKafka::ERR__SSL).has_value() || errors.find(RdKafka::ERR__TRANSPORT).has_value());
  EXPECT_FALSE(broker_->bus->describe_topic("secure").has_value());
  // A plaintext Kafka client on the TLS port: the TLS handshake fails, the broker closes and keeps serving.
  WireClient plain(broker_->address());
  EXPECT_FALSE(plain.call(api::kApiVersions, 0, "").has_value());
}

// The project's Kafka backend with the settings --kafka-security-protocol sasl_ssl,
// --kafka-sasl-mechanism SCRAM-SHA-512 and --kafka-ca-file give it: a wrong password fails at open with the
// broker's reason (not after the whole request timeout as a bare time-out); the right one opens.
TEST_F(SaslSslTest, KafkaBusBackendOpensWithTheRightPasswordAndNamesTheWrongOne) {
  bus::KafkaBusOptions k;
  k.bootstrap = broker_->address();
  k.security_protocol = "sasl_ssl";
  k.sasl_mechanism = "SCRAM-SHA-512";
  k.sasl_username = "svc";
  k.sasl_password = "not-s3cret";
  k.ssl_ca_location = certs_.ca.string();
  k.request_timeout = std::chrono::seconds(60);
  k.config = {{"log_level", "2"}};
  auto refused = bus::open_kafka_bus(k);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument) << refused.status().to_string();
  EXPECT_NE(refused.status().message().find("Authentication failed during authentication due to invalid "
                                            "credentials with SASL mechanism SCRAM-SHA-512"),
            std::string::npos)
      << refused.status().to_string();
  k.sasl_password = "s3cret";
  auto opened = bus::open_kafka_bus(k);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  EXPECT_TRUE((*opened)->create_topic("via-backend", bus::TopicConfig{.partitions = 2}).is_ok());
  EXPECT_TRUE(broker_->bus->describe_topic("via-backend").has_value());
}

}  // namespace
}  // namespace sf::kafka
