// Moves records from a bus topic into a store collection: the core of `arango-connector` and `dummy`.
//
// Each record's value is the stored JSON document (with `_key`). The sink polls as a member of a consumer
// group, upserts each polled batch in one store call, and commits the group's offsets only after the store
// acknowledged the batch: a crash replays at most the uncommitted batch, and idempotent upserts keyed by
// `_key` absorb the replay (at-least-once delivery, exactly-once effect).
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
};

// Counters readable from any thread while run() goes on.
struct TopicSinkStats {
  std::atomic<uint64_t> consumed{0};   // records polled
  std::atomic<uint64_t> inserted{0};   // documents new to the collection
  std::atomic<uint64_t> updated{0};    // documents that changed
  std::atomic<uint64_t> unchanged{0};  // replays that changed nothing
  std::atomic<uint64_t> rejected{0};   // dead-lettered
  std::atomic<uint64_t> batches{0};    // store upserts (= offset commits)

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

  // Asks run() to return as soon as the current batch is committed. Thread-safe.
  void stop();

  const TopicSinkStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  TopicSinkStats stats_;
};

}  // namespace sf::services
