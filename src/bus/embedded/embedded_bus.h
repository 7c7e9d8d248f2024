// The embedded Bus backend: topics as directories of partition logs under one data directory, an in-process
// group coordinator with durable committed offsets, and a maintenance thread for interval fsync, sealing of
// rolled segments and retention. Internal: other components use bus.h's open_embedded_bus().
//
// <dir>/LOCK                               flock'ed while open (one process at a time)
// <dir>/topics/<topic>/topic.json          config, replaced atomically
// <dir>/topics/<topic>/<p>/<base>.log|.index   segments (see segment.h)
// <dir>/groups/<group>.offsets             committed offsets (see group_offsets.h)
// <dir>/tmp/, <dir>/trash/                 staging of topic creation / deletion, emptied on open
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "bus/bus.h"
#include "bus/embedded/file_util.h"
#include "bus/embedded/group_offsets.h"
#include "bus/embedded/partition_log.h"

namespace sf::bus::embedded {

// Wakes blocked fetch()/poll() calls when records arrive (or the group changes): an epoch counter plus one
// condition variable. Appenders only touch the mutex when someone waits, so producing stays cheap.
class Notifier {
 public:
  uint64_t epoch() const { return epoch_.load(); }
  void notify();
  // Blocks until epoch() != seen or the deadline passes.
  void wait(uint64_t seen, std::chrono::steady_clock::time_point deadline);

 private:
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int> waiters_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

struct TopicCounters {
  prometheus::Counter* records_appended = nullptr;
  prometheus::Counter* bytes_appended = nullptr;
  prometheus::Counter* records_read = nullptr;
  prometheus::Counter* bytes_read = nullptr;
};

// streamforge_bus_* counters; every pointer is null without a registry. Labels: `topic` only (removed when
// the topic is deleted), so cardinality follows the number of live topics.
class BusMetrics {
 public:
  explicit BusMetrics(prometheus::Registry* registry);
  TopicCounters add_topic(const std::string& topic);
  void remove_topic(const TopicCounters& counters);
  void fsyncs(double n) { inc(fsyncs_, n); }
  void truncated_bytes(double n) { inc(truncated_bytes_, n); }
  void segments_deleted(double n) { inc(segments_deleted_, n); }
  static void inc(prometheus::Counter* c, double n) {
    if (c != nullptr && n > 0) c->Increment(n);
  }

 private:
  prometheus::Family<prometheus::Counter>* records_appended_ = nullptr;
  prometheus::Family<prometheus::Counter>* bytes_appended_ = nullptr;
  prometheus::Family<prometheus::Counter>* records_read_ = nullptr;
  prometheus::Family<prometheus::Counter>* bytes_read_ = nullptr;
  prometheus::Counter* fsyncs_ = nullptr;
  prometheus::Counter* truncated_bytes_ = nullptr;
  prometheus::Counter* segments_deleted_ = nullptr;
};

struct Topic {
  std::shared_ptr<const std::string> name;
  TopicConfig config;  // segment_bytes resolved
  std::filesystem::path dir;
  std::vector<std::unique_ptr<PartitionLog>> partitions;
  std::atomic<uint32_t> sticky{0};  // null-key partition rotation
  TopicCounters counters;
};

class EmbeddedConsumer;

class EmbeddedBus final : public Bus {
 public:
  static Result<std::unique_ptr<EmbeddedBus>> open(const EmbeddedBusOptions& options);
  ~EmbeddedBus() override;

  Status create_topic(std::string_view name, const TopicConfig& config) override;
  Status ensure_topic(std::string_view name, const TopicConfig& config) override;
  Status delete_topic(std::string_view name) override;
  Result<std::vector<std::string>> list_topics() override;
  Result<TopicInfo> describe_topic(std::string_view name) override;
  Result<ProduceResult> produce(std::string_view topic, std::span<const OutgoingRecord> records) override;
  Result<ProduceResult> produce_to_partition(std::string_view topic, int32_t partition,
                                             std::span<const OutgoingRecord> records) override;
  Status fetch(std::string_view topic, int32_t partition, int64_t offset, const FetchOptions& options,
               FetchBatch& out) override;
  Result<std::unique_ptr<Consumer>> subscribe(std::string_view group_id,
                                              const std::vector<std::string>& topics,
                                              const ConsumerOptions& options) override;
  Result<std::optional<int64_t>> committed_offset(std::string_view group_id, std::string_view topic,
                                                  int32_t partition) override;
  Result<std::vector<std::string>> list_groups() override;
  Status sync() override;
  Result<int64_t> append_raw_batches(std::string_view topic, int32_t partition,
                                     std::span<char> bytes) override;
  Status fetch_raw(std::string_view topic, int32_t partition, int64_t offset, int64_t max_bytes,
                   std::chrono::milliseconds timeout, std::string& out, RawFetchResult* result) override;
  Status commit_group_offsets(std::string_view group_id,
                              std::span<const TopicPartitionOffset> offsets) override;
  Result<std::vector<TopicPartitionOffset>> group_offsets(std::string_view group_id) override;

 private:
  friend class EmbeddedConsumer;

  struct Member {
    std::string id;
    std::vector<std::string> topics;
    std::vector<TopicPartition> assignment;
  };
  struct Group {
    std::string id;
    int64_t generation = 0;
    std::vector<Member> members;  // join order; ids sort the same way
    OffsetMap committed;
    std::unique_ptr<GroupOffsetsFile> file;  // opened at load or first commit
  };
  struct PendingSeal {
    std::shared_ptr<Topic> topic;
    int32_t partition;
    std::shared_ptr<Segment> segment;
  };
  // What read_partition() found.
  struct ReadOutcome {
    int32_t records = 0;
    int64_t payload_bytes = 0;
    int64_t next_offset = 0;
    bool out_of_range = false;
    int64_t log_start = 0;
    int64_t log_end = 0;
  };

  explicit EmbeddedBus(const EmbeddedBusOptions& options);
  Status load();
  Status load_topic(const std::string& name);
  Status load_groups();
  Status create_topic_impl(std::string_view name, const TopicConfig& config);
  std::shared_ptr<Topic> find_topic(std::string_view name) const;
  Result<std::shared_ptr<Topic>> topic_for_use(std::string_view name, bool may_create);
  Result<ProduceResult> produce_impl(std::string_view topic_name, std::optional<int32_t> partition,
                                     std::span<const OutgoingRecord> records);
  // Appends to `out` the records of one partition from `offset`; see ReadOutcome.
  Status read_partition(const Topic& topic, int32_t partition, int64_t offset, int32_t max_records,
                        int64_t max_bytes, FetchBatch& out, ReadOutcome* outcome);
  void seal_now(const PendingSeal& pending);
  // Seals rolled segments now (kEveryBatch) or hands them to the maintenance thread.
  void dispatch_seals(std::vector<PendingSeal>& seals);
  void run_seals();
  Status flush_all(bool force);
  void enforce_retention_all();
  void maintenance_loop();

  // Group coordination; callers hold groups_mu_.
  void rebalance_locked(Group& group);
  Group* find_group_locked(std::string_view id);
  Status commit_locked(Group& group, const std::string& member_id,
                       std::span<const TopicPartitionOffset> offsets);
  // Writes offsets to the group's file (opening it if needed) and its map; no membership checks.
  Status store_offsets_locked(Group& group, std::span<const TopicPartitionOffset> offsets);
  // Reads whole batches of one partition from `offset` into `out` (see Bus::fetch_raw); no waiting.
  Status read_raw(const Topic& topic, int32_t partition, int64_t offset, int64_t max_bytes, std::string& out,
                  RawFetchResult* result);
  void leave_group(const std::string& group_id, const std::string& member_id);
  void rebalance_subscribers(std::string_view topic);

  const EmbeddedBusOptions options_;
  const std::filesystem::path topics_dir_, groups_dir_, tmp_dir_, trash_dir_;
  UniqueFd lock_fd_;
  BusMetrics metrics_;
  // Waiters on one partition (fetch, fetch_raw, a consumer with one assigned partition: a data topic's
  // connector, a tail) wait on that partition's shard, so records appended there wake them and not every
  // blocked reader of the process; waiters on several partitions wait on notifier_, which every append
  // bumps too. Group changes, topic deletion and wakeup() notify everything.
  static constexpr std::size_t kNotifierShards = 64;
  Notifier notifier_;
  std::array<Notifier, kNotifierShards> partition_notifiers_;
  Notifier& partition_notifier(std::string_view topic, int32_t partition);
  void notify_appended(std::string_view topic, int32_t partition);
  void notify_everyone();

  std::mutex admin_mu_;  // serialises create/delete of topics (file-system work)
  mutable std::shared_mutex topics_mu_;
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
  uint64_t trash_counter_ = 0;

  // Lock order: groups_mu_ before topics_mu_.
  std::mutex groups_mu_;
  std::map<std::string, std::unique_ptr<Group>, std::less<>> groups_;
  std::atomic<uint64_t> groups_epoch_{0};  // bumped on every rebalance: consumers refresh cheaply
  uint64_t member_seq_ = 0;
  std::atomic<int> live_consumers_{0};

  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  std::vector<PendingSeal> pending_seals_;
  bool stopping_ = false;
  std::thread maintenance_;
};

class EmbeddedConsumer final : public Consumer {
 public:
  EmbeddedConsumer(EmbeddedBus* bus, std::string group_id, std::string member_id,
                   const ConsumerOptions& options);
  ~EmbeddedConsumer() override;

  Status poll(std::chrono::milliseconds timeout, FetchBatch& out) override;
  Status commit() override;
  Status commit(std::span<const TopicPartitionOffset> offsets) override;
  Status seek(std::string_view topic, int32_t partition, int64_t offset) override;
  Result<int64_t> position(std::string_view topic, int32_t partition) override;
  std::vector<TopicPartition> assignment() override;
  int64_t generation() const override { return generation_; }
  const std::string& member_id() const override { return member_id_; }
  void wakeup() override;
  Status close() override;

 private:
  struct Assigned {
    TopicPartition tp;
    std::shared_ptr<Topic> topic;  // null if the topic vanished
    int64_t position = -1;         // -1: not known yet (committed offset or auto_offset_reset decides)
    int64_t last_committed = -1;
  };
  Status refresh();
  Assigned* find(std::string_view topic, int32_t partition);
  Status resolve_position(Assigned& a);

  EmbeddedBus* const bus_;
  const std::string group_id_;
  const std::string member_id_;
  const ConsumerOptions options_;
  std::vector<Assigned> assigned_;
  int64_t generation_ = -1;
  uint64_t seen_groups_epoch_ = UINT64_MAX;
  std::size_t next_start_ = 0;
  std::atomic<bool> wakeup_{false};
  bool closed_ = false;
};

}  // namespace sf::bus::embedded
