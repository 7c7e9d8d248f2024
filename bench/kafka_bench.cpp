// The Kafka-protocol broker end to end on loopback: a librdkafka producer (acks=all) -> broker (embedded
// log, fsync every second) -> a librdkafka consumer, with 100-byte and 1 KiB messages. Prints msgs/s and MB/s
// for producing and consuming, and the produce latency (p50/p99) of one message at a time with acks=all.
// Then the same through the Bus interface: the embedded in-process bus, and the Kafka backend (librdkafka)
// against the same broker — produce() calls of 1000 records (acknowledged on return) and a group consumer.
// Usage: kafka_bench [messages per size, default 200000] [all | 100: only the 100-byte librdkafka run]
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "bus/bus.h"
#include "bus/byte_buffer.h"
#include "bus/record_batch.h"
#include "kafka/dispatch.h"
#include "kafka/group_coordinator.h"
#include "kafka/kafka.h"
#include "kafka/producer_state.h"
#include "kafka/protocol.h"
#include "kafka/wire.h"

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

// CPU time (ns) of this process's threads, split into librdkafka's ("rdk:*") and the rest but the main
// thread: the broker's accept and connection threads. From /proc/self/task/*/schedstat (ns on CPU), so the
// broker's cost per message can be told apart from the clients' on a shared machine.
struct ThreadCpu {
  int64_t broker_ns = 0;
  int64_t librdkafka_ns = 0;
  int64_t main_ns = 0;
};
ThreadCpu thread_cpu() {
  ThreadCpu cpu;
  const std::string self = std::to_string(::getpid());
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(task.path() / "schedstat"), comm(task.path() / "comm");
    int64_t ns = 0;
    std::string name;
    if (!(stat >> ns) || !std::getline(comm, name)) continue;
    if (task.path().filename() == self) {
      cpu.main_ns += ns;
    } else if (name.rfind("rdk:", 0) == 0) {
      cpu.librdkafka_ns += ns;
    } else {
      cpu.broker_ns += ns;
    }
  }
  return cpu;
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
  const ThreadCpu cpu_before = thread_cpu();
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
  const ThreadCpu cpu_after = thread_cpu();
  // Only threads alive at both ends count: the broker's connection of this producer is.
  const double per_message = 1.0 / messages;
  std::printf(
      "%5zu B produce CPU per message: broker %.0f ns, librdkafka threads %.0f ns, app thread %.0f ns\n",
      size, (cpu_after.broker_ns - cpu_before.broker_ns) * per_message,
      (cpu_after.librdkafka_ns - cpu_before.librdkafka_ns) * per_message,
      (cpu_after.main_ns - cpu_before.main_ns) * per_message);
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

int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The broker's produce path without sockets or clients: Produce v7 requests of one batch of `per_batch`
// records of `size` bytes (as librdkafka builds them) through dispatch_request — header and request parsing,
// batch and record checks (CRC-32C, every record), the log append, the response — timed on this thread's CPU
// clock, so the figure holds on a loaded machine. Each request is first copied from a template, as a
// connection's read would.
void run_dispatch_path(sf::bus::Bus& bus, std::size_t size, int messages) {
  constexpr int per_batch = 10000;
  const std::string topic = "dispatch-" + std::to_string(size);
  if (!bus.create_topic(topic, {})) return;
  const std::string payload(size, 'x');
  std::vector<sf::bus::OutgoingRecord> records(per_batch);
  for (auto& r : records) r.value = payload;
  sf::bus::ByteBuffer batch;
  if (!sf::bus::encode_batch(records, {}, 1, {}, batch)) return;
  std::string request;
  sf::kafka::Writer w(request);
  w.i16(sf::kafka::api::kProduce);
  w.i16(7);
  w.i32(1);                         // correlation id
  w.nullable_string("bench");       // client id
  w.nullable_string(std::nullopt);  // transactional id
  w.i16(-1);                        // acks=all
  w.i32(30000);
  w.array_length(1);
  w.string(topic);
  w.array_length(1);
  w.i32(0);
  w.bytes(batch.view());
  sf::kafka::BrokerOptions options;
  sf::kafka::GroupCoordinator groups(bus, options);
  sf::kafka::ProducerStateTable producers(bus);
  sf::kafka::BrokerState state{bus, options, groups, "127.0.0.1", 9092, &producers};
  std::string frame, response;
  const int batches = std::max(1, messages / per_batch);
  const int64_t cpu0 = thread_cpu_ns();
  const auto start = Clock::now();
  for (int i = 0; i < batches; ++i) {
    frame.assign(request);
    if (sf::kafka::dispatch_request(state, frame, "bench", response) != sf::kafka::DispatchResult::kRespond) {
      std::fprintf(stderr, "dispatch path: request refused\n");
      return;
    }
  }
  const double cpu_per_record = static_cast<double>(thread_cpu_ns() - cpu0) / (double(batches) * per_batch);
  const double seconds = seconds_since(start);
  std::printf(
      "%5zu B broker produce path (dispatch_request, no socket): %.0f ns CPU per record, %9.0f msgs/s on "
      "one thread\n",
      size, cpu_per_record, batches * double(per_batch) / seconds);
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
  const bool only_100 =
      argc > 2 && std::string(argv[2]) == "100";  // the 100 B librdkafka run only (profiling)
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
    run_dispatch_path(**bus, 100, messages);
    run_dispatch_path(**bus, 1024, messages / 4);
    run(address, "bench-100", 100, messages);
    if (!only_100) run(address, "bench-1k", 1024, messages);
    for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
      if (only_100) break;
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
