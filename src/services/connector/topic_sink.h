// Moves records from a bus topic into a store collection: the core of `arango-connector` and `dummy`.
//
// Each record's value is the stored JSON document (with `_key`). The sink polls as a member of a consumer
// group, upserts each polled batch in one store call, and commits the group's offsets only after what it
// upserted is durable in the store: a crash replays what was not committed, and idempotent upserts keyed by
// `_key` absorb the replay (at-least-once delivery, exactly-once effect).
//
// By default the upserts are Durability::kDeferred: the bus log is already the durable copy of the records,
// so the store need not also log them; the sink makes the collection durable (Store::persist) and then
// commits, every `commit_interval` or `commit_records`, once drained, when stopped, and after a batch that
// dead-lettered records (so a crash does not dead-letter them twice). With kLogged every batch is durable
// when upserted and committed at once (for low-rate live streams, where periodic table flushes of a few
// records would cost more than the log).
// Documents the store rejects are counted, logged and copied to the dead-letter topic with the reason in
// a header; the records around them are written normally.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "core/metrics.h"
#include "core/status.h"
#include "store/store.h"

namespace sf::services {

struct TopicSinkOptions {
  std::string topic;              // data topic to consume. Required.
  std::string group;              // consumer group id. Required.
  std::string collection;         // target collection. Required.
  std::string dead_letter_topic;  // rejected records go here; empty = "<topic>-dlq"
  store::UpsertMode mode = store::UpsertMode::kUpdate;
  std::chrono::milliseconds poll_timeout{200};  // how long one poll waits for records
  store::Durability durability = store::Durability::kDeferred;
  // kDeferred only: persist + commit at least this often while records arrive, and after this many records.
  // A crash replays at most about this much. persist() flushes the collection's memtable while the sink waits,
  // whereas RocksDB flushes full memtables in the background: rare persists leave most flush work in the
  // background (measured: a 2 s interval put nearly every flush on the sink's path, -30% wall rate).
  std::chrono::milliseconds commit_interval{15000};
  uint64_t commit_records = 5'000'000;
};

// Counters readable from any thread while run() goes on.
struct TopicSinkStats {
  std::atomic<uint64_t> consumed{0};   // records polled
  std::atomic<uint64_t> inserted{0};   // documents new to the collection
  std::atomic<uint64_t> updated{0};    // documents that changed
  std::atomic<uint64_t> unchanged{0};  // replays that changed nothing
  std::atomic<uint64_t> rejected{0};   // dead-lettered
  std::atomic<uint64_t> batches{0};    // store upserts
  std::atomic<uint64_t> commits{0};    // offset commits (each after the upserts before it were durable)

  uint64_t written() const { return inserted + updated + unchanged; }
};

// Not thread-safe apart from stop(), drain_to() and stats(); run() on one thread.
class TopicSink {
 public:
  // `bus` and `store` must outlive the sink.
  TopicSink(bus::Bus& bus, store::Store& store, TopicSinkOptions options,
            std::shared_ptr<MetricsRegistry> metrics = nullptr);
  ~TopicSink();

  // Consumes until stop(), or, after drain_to(), until every partition's committed position reached its
  // target. Returns the first error that makes going on pointless (store I/O error, bus corruption).
  Status run();

  // Asks run() to return once the group has committed up to `end_offsets` (partition -> next offset).
  // Thread-safe; typically called when the producer has finished, with the topic's log end offsets.
  void drain_to(std::map<int32_t, int64_t> end_offsets);

  // Asks run() to return as soon as what it upserted is durable and committed. Thread-safe.
  void stop();

  const TopicSinkStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  TopicSinkStats stats_;
};

}  // namespace sf::services
