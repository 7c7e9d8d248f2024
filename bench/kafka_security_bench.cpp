// What the broker's listener security costs: the same librdkafka producer (acks=all) -> broker -> consumer
// run on loopback over PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512, a throwaway CA made with `openssl`), with
// messages/s and MB/s each way, and the time a new client needs to connect (and authenticate) and get
// metadata. Usage: kafka_security_bench [messages, default 200000] [message bytes, default 100]
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "bus/bus.h"
#include "kafka/kafka.h"
#include "kafka/tests/tls_test_util.h"

namespace {

using Clock = std::chrono::steady_clock;
using Settings = std::vector<std::pair<std::string, std::string>>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<RdKafka::Conf> conf_of(const Settings& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) {
      std::fprintf(stderr, "%s: %s\n", k.c_str(), error.c_str());
      std::exit(1);
    }
  }
  return conf;
}

struct Delivered final : public RdKafka::DeliveryReportCb {
  void dr_cb(RdKafka::Message& m) override { ok += m.err() == RdKafka::ERR_NO_ERROR ? 1 : 0; }
  int64_t ok = 0;
};

void run(const char* label, const std::string& address, const Settings& security, std::size_t size,
         int messages) {
  // Connection setup: a new client until its first metadata answer (TCP, TLS, SASL, ApiVersions, Metadata).
  std::vector<double> setups;
  for (int i = 0; i < 20; ++i) {
    Settings s = security;
    s.emplace_back("bootstrap.servers", address);
    auto conf = conf_of(s);
    std::string error;
    const auto t0 = Clock::now();
    std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), error));
    RdKafka::Metadata* metadata = nullptr;
    if (p->metadata(true, nullptr, &metadata, 10000) == RdKafka::ERR_NO_ERROR)
      setups.push_back(seconds_since(t0) * 1e3);
    delete metadata;
  }
  std::sort(setups.begin(), setups.end());

  const std::string topic = std::string("bench-") + label;
  const std::string payload(size, 'x');
  Settings ps = security;
  ps.insert(ps.end(), {{"bootstrap.servers", address},
                       {"acks", "all"},
                       {"linger.ms", "5"},
                       {"batch.size", "1000000"},
                       {"queue.buffering.max.messages", "1000000"}});
  auto pconf = conf_of(ps);
  Delivered delivered;
  std::string error;
  pconf->set("dr_cb", &delivered, error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), error));
  const auto start = Clock::now();
  for (int i = 0; i < messages; ++i) {
    while (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(payload.data()), payload.size(), nullptr, 0, 0,
                             nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(1);
    }
    producer->poll(0);
  }
  producer->flush(120000);
  const double produce_s = seconds_since(start);
  if (delivered.ok != messages)
    std::fprintf(stderr, "%s: delivered %lld of %d\n", label, (long long)delivered.ok, messages);

  Settings cs = security;
  cs.insert(cs.end(), {{"bootstrap.servers", address},
                       {"group.id", topic},
                       {"auto.offset.reset", "earliest"},
                       {"enable.auto.commit", "false"},
                       {"fetch.wait.max.ms", "10"}});
  auto cconf = conf_of(cs);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(cconf.get(), error));
  consumer->subscribe({topic});
  int consumed = 0;
  Clock::time_point first;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (consumed < messages && Clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(1000));
    if (m->err() == RdKafka::ERR_NO_ERROR && consumed++ == 0) first = Clock::now();
  }
  const double consume_s = seconds_since(first);
  consumer->close();
  const double mb = static_cast<double>(size) * messages / 1e6;
  std::printf(
      "%-10s %5zu B x %d: produce %9.0f msgs/s %7.1f MB/s | consume %9.0f msgs/s %7.1f MB/s | "
      "connect+metadata p50 %5.1f ms p90 %5.1f ms\n",
      label, size, messages, messages / produce_s, mb / produce_s, consumed / consume_s,
      static_cast<double>(size) * consumed / 1e6 / consume_s,
      setups.empty() ? 0.0 : setups[setups.size() / 2],
      setups.empty() ? 0.0 : setups[setups.size() * 9 / 10]);
}

}  // namespace

int main(int argc, char** argv) {
  const int messages = argc > 1 ? std::atoi(argv[1]) : 200000;
  const std::size_t size = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 100;
  spdlog::set_level(spdlog::level::warn);
  std::string dir = (std::filesystem::temp_directory_path() / "sf-kafka-security-bench-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return 1;
  std::string error;
  const auto certs = sf::kafka::testing::make_test_certificates(std::filesystem::path(dir) / "tls", &error);
  if (certs.ca.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  struct Mode {
    const char* label;
    sf::kafka::SecurityProtocol protocol;
    Settings client;
  };
  const std::string ca = certs.ca.string();
  const std::vector<Mode> modes = {
      {"PLAINTEXT", sf::kafka::SecurityProtocol::kPlaintext, {}},
      {"SSL", sf::kafka::SecurityProtocol::kSsl, {{"security.protocol", "SSL"}, {"ssl.ca.location", ca}}},
      {"SASL_SSL",
       sf::kafka::SecurityProtocol::kSaslSsl,
       {{"security.protocol", "SASL_SSL"},
        {"sasl.mechanism", "SCRAM-SHA-512"},
        {"sasl.username", "bench"},
        {"sasl.password", "bench-secret"},
        {"ssl.ca.location", ca}}},
  };
  for (const auto& mode : modes) {
    sf::bus::EmbeddedBusOptions bus_options;
    bus_options.dir = std::filesystem::path(dir) / mode.label;
    auto bus = sf::bus::open_embedded_bus(bus_options);
    if (!bus) return 1;
    sf::kafka::BrokerOptions options;
    options.listen = "127.0.0.1:0";
    options.security.protocol = mode.protocol;
    options.security.tls_cert_file = certs.cert.string();
    options.security.tls_key_file = certs.key.string();
    options.security.sasl_users = {{"bench", "bench-secret"}};
    auto broker = sf::kafka::Broker::start(**bus, options);
    if (!broker) {
      std::fprintf(stderr, "%s\n", broker.status().to_string().c_str());
      return 1;
    }
    run(mode.label, (*broker)->address(), mode.client, size, messages);
    (*broker)->stop();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
