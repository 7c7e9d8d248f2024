// Idempotent producers (KIP-98, without transactions): the producer ids InitProducerId hands out, and per
// partition each producer's epoch and the sequence ranges of its last five appends, so that a retried batch
// is acknowledged with the offset it got the first time instead of being appended twice, and a gap in the
// sequence is refused. Internal to kafka/.
//
// Behaviour follows Kafka's ProducerStateManager and librdkafka's mock cluster:
//  - a retry of one of the last 5 appends (same first and last sequence) answers NONE with its first offset;
//  - a sequence older than those 5 answers DUPLICATE_SEQUENCE_NUMBER (the client counts it as written);
//  - any other sequence but last + 1 answers OUT_OF_ORDER_SEQUENCE_NUMBER;
//  - an epoch older than the partition's answers INVALID_PRODUCER_EPOCH; a newer one must start at 0;
//  - an id this broker never handed out answers UNKNOWN_PRODUCER_ID.
// Ids are reserved in durable blocks (the bus's group offset store), so a restarted broker never reuses one.
// Sequence state lives in memory: after a restart a known producer's first append is accepted at any
// sequence (Kafka does the same when a producer's state is gone), so only a retry that straddles the
// restart can be appended twice.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "bus/bus.h"
#include "core/status.h"

namespace sf::kafka {

// Thread-safe.
class ProducerStateTable {
 public:
  explicit ProducerStateTable(bus::Bus& bus) : bus_(bus) {}
  ProducerStateTable(const ProducerStateTable&) = delete;
  ProducerStateTable& operator=(const ProducerStateTable&) = delete;

  struct ProducerIdAndEpoch {
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
  };
  // A fresh producer id with epoch 0. IoError if the id block cannot be reserved durably.
  Result<ProducerIdAndEpoch> new_producer_id();

  struct AppendOutcome {
    int16_t error = 0;         // a Kafka error code
    int64_t base_offset = -1;  // the first record's offset (also for an acknowledged retry)
    bool duplicate = false;    // a retry of an earlier append: acknowledged, not appended again
    Status status;             // why, when the bus refused the append (error is then its Kafka code)
  };
  // Appends `batches` (the RecordBatch v2 bytes of one partition of a Produce request, all of one producer
  // id >= 0) to the bus after the sequence checks above; the check and the append are atomic per partition.
  AppendOutcome append(std::string_view topic, int32_t partition, std::span<char> batches);

  // Whether a partition's request data (its first batch header) comes from an idempotent producer.
  static bool is_idempotent(std::string_view batches);

  static constexpr int kCachedAppends = 5;       // Kafka's NUM_BATCHES_TO_RETAIN
  static constexpr int64_t kIdBlockSize = 1000;  // ids reserved per durable write
  static constexpr std::string_view kIdGroup = "__streamforge-producer-ids";  // where the blocks are kept

 private:
  struct CachedAppend {
    int32_t first_sequence = 0;
    int32_t last_sequence = 0;
    int64_t base_offset = 0;
  };
  struct ProducerEntry {
    int16_t epoch = -1;
    CachedAppend appends[kCachedAppends];  // a ring; `count` used, newest at (next - 1)
    int count = 0;
    int next = 0;
  };
  struct PartitionState {
    std::mutex mu;  // held across check + append, so a producer's batches land in sequence order
    std::map<int64_t, ProducerEntry> producers;
  };

  Status load_locked();
  bool known_producer(int64_t producer_id);
  PartitionState& partition_state(std::string_view topic, int32_t partition);

  bus::Bus& bus_;
  std::mutex ids_mu_;
  bool loaded_ = false;
  int64_t next_id_ = 0;       // the next id to hand out
  int64_t reserved_end_ = 0;  // ids below this are reserved durably
  std::mutex partitions_mu_;
  // topic -> partition index -> state (created on a producer's first append there)
  std::map<std::string, std::map<int32_t, std::unique_ptr<PartitionState>>, std::less<>> partitions_;
};

}  // namespace sf::kafka
