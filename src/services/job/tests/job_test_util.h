// Test helpers shared by the job, connector and manager tests: a temporary bus + store, command and event
// helpers, and a fake loader job (publishes N candles to the workflow's data topic, resumably).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "protocol/control_message.h"
#include "protocol/event_message.h"
#include "protocol/naming.h"
#include "protocol/records.h"
#include "services/job/job.h"
#include "store/store.h"

namespace sf::services::testing {

namespace fs = std::filesystem;

// A bus and a store in a fresh temporary directory, removed at destruction.
class TestEnv {
 public:
  TestEnv() {
    dir_ = fs::temp_directory_path() /
           ("sf-job-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    open();
  }
  ~TestEnv() {
    close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TestEnv(const TestEnv&) = delete;
  TestEnv& operator=(const TestEnv&) = delete;

  void open() {
    bus::EmbeddedBusOptions bus_options;
    bus_options.dir = dir_ / "bus";
    bus_options.fsync_policy = bus::FsyncPolicy::kNone;
    bus_ = value_or_throw(bus::open_embedded_bus(bus_options));
    store::RocksDbStoreOptions store_options;
    store_options.path = (dir_ / "store").string();
    store_options.block_cache_bytes = 8 << 20;
    store_options.write_buffer_bytes = 4 << 20;
    store_ = value_or_throw(store::open_rocksdb_store(store_options));
  }
  void close() {
    bus_.reset();
    store_.reset();
  }

  bus::Bus& bus() { return *bus_; }
  store::Store& store() { return *store_; }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<store::Store> store_;
};

inline constexpr const char* kQueueId = "wf-btcusdt-api_candles_5m-20240801-a1b2c3";

inline protocol::ControlMessage make_start(std::string queue_id, std::string target,
                                           std::string type = "api_candles_5m") {
  protocol::ControlMessage m;
  m.command = protocol::Command::kStart;
  m.queue_id = std::move(queue_id);
  m.target = target;
  m.symbol = "BTCUSDT";
  m.type = std::move(type);
  m.time_range = "2024-08-01:2024-08-02";
  m.kafka_topic = protocol::data_topic(m.queue_id);
  m.collection_name = "btcusdt_api_candles_5m_2024_08_01";
  m.telemetry_id = protocol::telemetry_id(target, m.queue_id);
  m.image = "streamforge:test";
  m.timestamp = epoch_seconds_now();
  return m;
}

inline protocol::ControlMessage make_stop(std::string queue_id) {
  protocol::ControlMessage m;
  m.command = protocol::Command::kStop;
  m.queue_id = std::move(queue_id);
  m.timestamp = epoch_seconds_now();
  return m;
}

// Publishes a command keyed by its queue_id; returns its offset.
inline int64_t publish_command(bus::Bus& bus, const protocol::ControlMessage& m) {
  std::string value = protocol::serialize(m);
  bus::OutgoingRecord record;
  record.key = m.queue_id;
  record.value = value;
  auto produced = bus.produce(kControlTopic, std::span<const bus::OutgoingRecord>(&record, 1));
  EXPECT_TRUE(produced) << produced.status().to_string();
  return produced ? produced->records[0].offset : -1;
}

// Publishes raw JSON on queue-events keyed by `queue_id` (an old-style worker).
inline void publish_raw_event(bus::Bus& bus, const std::string& queue_id, const std::string& json) {
  bus::OutgoingRecord record;
  record.key = queue_id;
  record.value = json;
  auto produced = bus.produce(kEventsTopic, std::span<const bus::OutgoingRecord>(&record, 1));
  EXPECT_TRUE(produced) << produced.status().to_string();
}

// Every record on `topic` (all partitions), as strings.
inline std::vector<std::string> read_topic(bus::Bus& bus, std::string_view topic) {
  std::vector<std::string> out;
  auto info = bus.describe_topic(topic);
  if (!info) return out;
  for (const auto& p : info->partitions) {
    PartitionTail tail(bus, std::string(topic), p.partition, p.log_start_offset);
    bus::FetchBatch batch;
    while (tail.position() < p.log_end_offset) {
      if (!tail.next(std::chrono::milliseconds(0), batch) || batch.empty()) break;
      for (const auto& r : batch) out.emplace_back(r.value);
    }
  }
  return out;
}

// The events of `queue_id` on queue-events, in order, with the raw JSON alongside.
struct SeenEvent {
  protocol::EventMessage event;
  std::string raw;
};
inline std::vector<SeenEvent> read_events(bus::Bus& bus, std::string_view queue_id,
                                          std::string_view producer = {}) {
  std::vector<SeenEvent> out;
  for (auto& raw : read_topic(bus, kEventsTopic)) {
    auto event = protocol::parse_event_message(raw);
    if (!event || event->queue_id != queue_id) continue;
    if (!producer.empty() && event->producer != producer) continue;
    out.push_back({std::move(event).value(), std::move(raw)});
  }
  return out;
}

inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

inline JobSpec spec_for(const protocol::ControlMessage& m, std::optional<int64_t> offset = std::nullopt) {
  JobSpec spec;
  spec.queue_id = m.queue_id;
  spec.target = m.target;
  spec.telemetry_id = m.telemetry_id;
  spec.control_offset = offset;
  return spec;
}

// The candle document of minute `i` of 2024-08-01.
inline std::pair<std::string, std::string> candle(int64_t i) {
  protocol::Kline k;
  k.open_time = 1722470400000 + i * 60000;
  k.close_time = k.open_time + 59999;
  k.symbol = "BTCUSDT";
  k.interval = "1m";
  k.open = protocol::Decimal::parse(std::to_string(60000 + i) + ".10").value();
  std::string doc;
  protocol::append_document(k, doc);
  return {protocol::record_key(k), doc};
}

// A loader stand-in. Extra fields of its start command: fake_records (default 100), fake_batch (default 25),
// fake_delay_ms between batches (default 0), fake_error_at (fail after this many records), fake_throw.
// It resumes after the records already in the data topic, like a loader that restarts from its last record.
class FakeLoaderJob final : public Job {
 public:
  Status run(JobContext& ctx) override {
    const auto& start = ctx.command();
    const int64_t n = start.extra_field<int64_t>("fake_records").value().value_or(100);
    const int64_t batch = start.extra_field<int64_t>("fake_batch").value().value_or(25);
    const int64_t delay = start.extra_field<int64_t>("fake_delay_ms").value().value_or(0);
    const int64_t error_at = start.extra_field<int64_t>("fake_error_at").value().value_or(-1);
    if (start.extra_field<bool>("fake_throw").value().value_or(false))
      throw std::runtime_error("fake loader blew up");
    SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(start.kafka_topic, bus::TopicConfig{}));
    int64_t done = 0;
    auto info = value_or_throw(ctx.bus.describe_topic(start.kafka_topic));
    for (const auto& p : info.partitions) done += p.log_end_offset;
    while (done < n) {
      if (ctx.stop_requested()) return Status::cancelled(fmt::format("stopped after {} records", done));
      if (error_at >= 0 && done >= error_at) return Status::unavailable("exchange went away (fake)");
      std::vector<std::pair<std::string, std::string>> docs;
      for (int64_t i = done; i < std::min(n, done + batch); ++i) docs.push_back(candle(i));
      std::vector<bus::OutgoingRecord> records(docs.size());
      for (size_t i = 0; i < docs.size(); ++i) {
        records[i].key = docs[i].first;
        records[i].value = docs[i].second;
      }
      auto produced = ctx.bus.produce(start.kafka_topic, records);
      if (!produced) return produced.status();
      done += static_cast<int64_t>(docs.size());
      (void)ctx.telemetry.progress(done, fmt::format("Published {} records", done));
      if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    ctx.telemetry.set_records_written(done);
    ctx.result_message = fmt::format("Published {} records", done);
    return Status::ok();
  }
};

}  // namespace sf::services::testing
