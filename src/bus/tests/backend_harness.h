// The Bus contract tests run against both backends: the embedded bus, and the Kafka backend (librdkafka)
// talking to `streamforge broker` served in-process, on 127.0.0.1:<free port>, over an embedded bus in the
// same directory. reopen() closes and reopens everything (the broker too), so durability assertions hold
// for both. KafkaSaslSsl runs the same contract over the broker's SASL_SSL listener (SCRAM-SHA-512, a
// throwaway CA), the Kafka backend configured with the settings of --kafka-security-protocol sasl_ssl.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "kafka/kafka.h"
#include "kafka/tests/tls_test_util.h"

namespace sf::bus::testing {

enum class Backend { kEmbedded, kKafka, kKafkaSaslSsl };

inline std::string backend_name(Backend b) {
  return b == Backend::kEmbedded ? "Embedded" : b == Backend::kKafka ? "Kafka" : "KafkaSaslSsl";
}

// One throwaway CA and server certificate per test process (removed at exit).
class ProcessCertificates {
 public:
  static const kafka::testing::TestCertificates& get() {
    static ProcessCertificates instance;
    return instance.certs_;
  }

 private:
  ProcessCertificates() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sf-bus-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return;
    dir_ = pattern;
    std::string error;
    certs_ = kafka::testing::make_test_certificates(dir_, &error);
    if (certs_.ca.empty()) ADD_FAILURE() << error;
  }
  ~ProcessCertificates() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
  kafka::testing::TestCertificates certs_;
};

class BackendBus {
 public:
  BackendBus(Backend backend, std::filesystem::path dir, EmbeddedBusOptions options = {})
      : backend_(backend), options_(std::move(options)) {
    options_.dir = std::move(dir);
    open();
  }
  ~BackendBus() { close(); }

  Bus* operator->() { return bus(); }
  Bus& operator*() { return *bus(); }
  Bus* bus() { return backend_ == Backend::kEmbedded ? local_.get() : kafka_.get(); }
  bool is_kafka() const { return backend_ != Backend::kEmbedded; }

  void close() {
    kafka_.reset();
    if (broker_) broker_->stop();
    broker_.reset();
    local_.reset();
  }
  void reopen() {
    close();
    open();
  }

 private:
  void open() {
    EmbeddedBusOptions local = options_;
    if (backend_ == Backend::kKafka) local.auto_create_topics = false;  // the Kafka backend decides
    auto opened = open_embedded_bus(local);
    if (!opened) {
      ADD_FAILURE() << opened.status().to_string();
      return;
    }
    local_ = std::move(*opened);
    if (backend_ == Backend::kEmbedded) return;
    kafka::BrokerOptions broker_options;
    broker_options.listen = "127.0.0.1:0";
    broker_options.auto_create_topics = false;
    const bool sasl_ssl = backend_ == Backend::kKafkaSaslSsl;
    if (sasl_ssl) {
      const auto& certs = ProcessCertificates::get();
      broker_options.security.protocol = kafka::SecurityProtocol::kSaslSsl;
      broker_options.security.tls_cert_file = certs.cert.string();
      broker_options.security.tls_key_file = certs.key.string();
      broker_options.security.sasl_users = {{"streamforge", "contract-secret"}};
    }
    auto broker = kafka::Broker::start(*local_, broker_options);
    if (!broker) {
      ADD_FAILURE() << broker.status().to_string();
      return;
    }
    broker_ = std::move(*broker);
    KafkaBusOptions k;
    k.bootstrap = broker_->address();
    k.auto_create_topics = options_.auto_create_topics;
    k.default_partitions = options_.default_partitions;
    k.request_timeout = std::chrono::seconds(15);
    k.join_timeout = std::chrono::seconds(15);
    k.linger_ms = 1;
    if (sasl_ssl) {
      k.security_protocol = "sasl_ssl";
      k.sasl_mechanism = "SCRAM-SHA-512";
      k.sasl_username = "streamforge";
      k.sasl_password = "contract-secret";
      k.ssl_ca_location = ProcessCertificates::get().ca.string();
    }
    // Quick rebalances and fetches: the tests start and stop members often.
    k.config = {{"heartbeat.interval.ms", "100"},
                {"session.timeout.ms", "6000"},
                {"fetch.wait.max.ms", "100"},
                {"topic.metadata.refresh.interval.ms", "1000"},
                {"log_level", "3"}};
    auto bus = open_kafka_bus(k);
    if (!bus) {
      ADD_FAILURE() << bus.status().to_string();
      return;
    }
    kafka_ = std::move(*bus);
  }

  Backend backend_;
  EmbeddedBusOptions options_;
  std::unique_ptr<Bus> local_;
  std::unique_ptr<kafka::Broker> broker_;
  std::unique_ptr<Bus> kafka_;
};

}  // namespace sf::bus::testing
