// The Kafka-protocol broker end to end on loopback: a librdkafka producer (acks=all) -> broker (embedded
// log, fsync every second) -> a librdkafka consumer, with 100-byte and 1 KiB messages. Prints msgs/s and MB/s
// for producing and consuming, and the produce latency (p50/p99) of one message at a time with acks=all.
// Then the same through the Bus interface: the embedded in-process bus, and the Kafka backend (librdkafka)
// against the same broker — produce() calls of 1000 records (acknowledged on return) and a group consumer.
// Usage: kafka_bench [messages per size, default 200000]
#include <stdlib.h>

#include <algorithm>
#include <atomic>
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

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<RdKafka::Conf> conf_of(const std::vector<std::pair<std::string, std::string>>& settings) {
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

struct LatencyCb : RdKafka::DeliveryReportCb {
  std::atomic<int64_t> delivered{0}, failed{0};
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      ++failed;
    } else {
      ++delivered;
    }
  }
};

void run(const std::string& address, const std::string& topic, std::size_t size, int messages) {
  const std::string payload(size, 'x');
  // Throughput: produce everything asynchronously, then flush.
  LatencyCb cb;
  auto pconf = conf_of({{"bootstrap.servers", address},
                        {"acks", "all"},
                        {"linger.ms", "5"},
                        {"batch.size", "1000000"},
                        {"queue.buffering.max.messages", "1000000"}});
  std::string error;
  pconf->set("dr_cb", &cb, error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), error));
  auto start = Clock::now();
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
  if (cb.delivered != messages)
    std::fprintf(stderr, "delivered %lld of %d\n", (long long)cb.delivered.load(), messages);

  // Latency: one message at a time, acks=all, waiting for each delivery.
  std::vector<double> latencies;
  for (int i = 0; i < 2000; ++i) {
    const int64_t before = cb.delivered;
    const auto t0 = Clock::now();
    producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                      const_cast<char*>(payload.data()), payload.size(), nullptr, 0, 0, nullptr);
    producer->flush(10000);
    if (cb.delivered > before)
      latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[static_cast<std::size_t>(p * (latencies.size() - 1))];
  };

  // Consume everything from the beginning.
  auto cconf = conf_of({{"bootstrap.servers", address},
                        {"group.id", "bench-" + topic},
                        {"auto.offset.reset", "earliest"},
                        {"enable.auto.commit", "false"},
                        {"fetch.wait.max.ms", "10"}});
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(cconf.get(), error));
  consumer->subscribe({topic});
  const int total = messages + static_cast<int>(latencies.size());
  int consumed = 0;
  Clock::time_point first;
  while (consumed < total) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(1000));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      if (consumed++ == 0) first = Clock::now();
    } else if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) {
      std::fprintf(stderr, "consume: %s\n", m->errstr().c_str());
      break;
    }
  }
  const double consume_s = seconds_since(first);
  consumer->close();
  const double mb = static_cast<double>(size) * messages / 1e6;
  std::printf(
      "%5zu B x %d: produce %9.0f msgs/s %7.1f MB/s | consume %9.0f msgs/s %7.1f MB/s | "
      "acks=all latency p50 %6.0f us p99 %6.0f us\n",
      size, messages, messages / produce_s, mb / produce_s, total / consume_s,
      static_cast<double>(size) * total / 1e6 / consume_s, pct(0.50), pct(0.99));
}

// Bus::produce in calls of `per_call` records, then a group consumer polling everything back.
void run_bus(sf::bus::Bus& bus, const char* label, const std::string& topic, std::size_t size, int messages) {
  constexpr int per_call = 1000;
  if (!bus.create_topic(topic, {})) {
    std::fprintf(stderr, "%s: create_topic failed\n", label);
    return;
  }
  const std::string payload(size, 'x');
  std::vector<sf::bus::OutgoingRecord> records(per_call);
  for (auto& r : records) r.value = payload;
  auto start = Clock::now();
  for (int done = 0; done < messages; done += per_call) {
    auto produced = bus.produce(topic, records);
    if (!produced) {
      std::fprintf(stderr, "%s: produce: %s\n", label, produced.status().to_string().c_str());
      return;
    }
  }
  const double produce_s = seconds_since(start);
  auto consumer = bus.subscribe("bench-" + topic, {topic}, {});
  if (!consumer) {
    std::fprintf(stderr, "%s: subscribe: %s\n", label, consumer.status().to_string().c_str());
    return;
  }
  sf::bus::FetchBatch batch;
  int consumed = 0;
  Clock::time_point first;
  while (consumed < messages) {
    if (!(*consumer)->poll(std::chrono::seconds(5), batch) || batch.empty()) break;
    if (consumed == 0) first = Clock::now();
    consumed += static_cast<int>(batch.size());
  }
  const double consume_s = seconds_since(first);
  std::printf("%-22s %5zu B x %d: produce %9.0f msgs/s %7.1f MB/s | consume %9.0f msgs/s %7.1f MB/s\n", label,
              size, messages, messages / produce_s, static_cast<double>(size) * messages / 1e6 / produce_s,
              consumed / consume_s, static_cast<double>(size) * consumed / 1e6 / consume_s);
}

}  // namespace

int main(int argc, char** argv) {
  const int messages = argc > 1 ? std::atoi(argv[1]) : 200000;
  spdlog::set_level(spdlog::level::warn);
  std::string dir = (std::filesystem::temp_directory_path() / "sf-kafka-bench-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return 1;
  {
    sf::bus::EmbeddedBusOptions bus_options;
    bus_options.dir = dir;
    auto bus = sf::bus::open_embedded_bus(bus_options);
    if (!bus) return 1;
    sf::kafka::BrokerOptions options;
    options.listen = "127.0.0.1:0";
    auto broker = sf::kafka::Broker::start(**bus, options);
    if (!broker) return 1;
    const std::string address = (*broker)->address();
    run(address, "bench-100", 100, messages);
    run(address, "bench-1k", 1024, messages);
    for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
      const std::string suffix = std::to_string(size);
      run_bus(**bus, "embedded bus", "bus-embedded-" + suffix, size, messages);
      sf::bus::KafkaBusOptions kafka;
      kafka.bootstrap = address;
      auto kafka_bus = sf::bus::open_kafka_bus(kafka);
      if (!kafka_bus) return 1;
      run_bus(**kafka_bus, "Kafka backend (Bus)", "bus-kafka-" + suffix, size, messages);
    }
    (*broker)->stop();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
