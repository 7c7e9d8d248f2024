// Producer ids and per-partition sequence checks of idempotent producers (see producer_state.h).
#include "kafka/producer_state.h"

#include <fmt/format.h>

#include <limits>
#include <vector>

#include "bus/record_batch.h"
#include "kafka/protocol.h"

namespace sf::kafka {
namespace {

constexpr std::string_view kIdTopic = "producer-id-blocks";  // the one "partition" of the id group

int32_t next_sequence(int32_t sequence) {
  // Sequences wrap to 0 after INT32_MAX, as the Java producer and librdkafka do.
  return sequence == std::numeric_limits<int32_t>::max() ? 0 : sequence + 1;
}

int32_t add_sequence(int32_t sequence, int32_t increment) {
  const int64_t sum = static_cast<int64_t>(sequence) + increment;
  return static_cast<int32_t>(
      sum > std::numeric_limits<int32_t>::max() ? sum - std::numeric_limits<int32_t>::max() - 1 : sum);
}

// The producer fields of the batches of one partition's request: one producer, one epoch, one contiguous
// range of sequences.
struct BatchSequences {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t first_sequence = -1;
  int32_t last_sequence = -1;
};

Result<BatchSequences> read_sequences(std::string_view bytes) {
  BatchSequences out;
  bool first = true;
  while (!bytes.empty()) {
    auto header = bus::parse_batch_header(bytes);
    if (!header) return header.status();
    if (header->total_size() > bytes.size())
      return Status::corruption("a record batch is cut short in the produce request");
    if (first) {
      out.producer_id = header->producer_id;
      out.producer_epoch = header->producer_epoch;
      out.first_sequence = header->base_sequence;
      first = false;
    } else if (header->producer_id != out.producer_id || header->producer_epoch != out.producer_epoch ||
               header->base_sequence != next_sequence(out.last_sequence)) {
      return Status::corruption("the batches of one partition mix producers or skip sequences");
    }
    if (header->base_sequence < 0) return Status::corruption("an idempotent batch has no base sequence");
    out.last_sequence = add_sequence(header->base_sequence, header->last_offset_delta);
    bytes.remove_prefix(header->total_size());
  }
  return out;
}

}  // namespace

bool ProducerStateTable::is_idempotent(std::string_view batches) {
  if (batches.size() < bus::kBatchHeaderSize) return false;
  // producerId is big-endian at its fixed place; -1 (every bit set) for a plain producer, so the top byte's
  // sign tells.
  return static_cast<signed char>(batches[bus::batch_offsets::kProducerId]) >= 0;
}

Status ProducerStateTable::load_locked() {
  if (loaded_) return Status::ok();
  auto offsets = bus_.group_offsets(kIdGroup);
  if (!offsets) return offsets.status();
  for (const auto& o : *offsets) {
    if (o.topic == kIdTopic && o.partition == 0) reserved_end_ = o.offset;
  }
  // Whatever the last run did not hand out of its block is skipped: ids are only ever reserved forward.
  next_id_ = reserved_end_;
  loaded_ = true;
  return Status::ok();
}

Result<ProducerStateTable::ProducerIdAndEpoch> ProducerStateTable::new_producer_id() {
  std::lock_guard lock(ids_mu_);
  SF_RETURN_IF_ERROR(load_locked());
  if (next_id_ >= reserved_end_) {
    const bus::TopicPartitionOffset block{std::string(kIdTopic), 0, next_id_ + kIdBlockSize};
    SF_RETURN_IF_ERROR(bus_.commit_group_offsets(kIdGroup, std::span(&block, 1)));
    reserved_end_ = block.offset;
  }
  return ProducerIdAndEpoch{next_id_++, 0};
}

bool ProducerStateTable::known_producer(int64_t producer_id) {
  std::lock_guard lock(ids_mu_);
  if (!load_locked()) return false;
  return producer_id >= 0 && producer_id < next_id_;
}

ProducerStateTable::PartitionState& ProducerStateTable::partition_state(std::string_view topic,
                                                                        int32_t partition) {
  std::lock_guard lock(partitions_mu_);
  auto topic_it = partitions_.find(topic);
  if (topic_it == partitions_.end()) topic_it = partitions_.try_emplace(std::string(topic)).first;
  auto& slot = topic_it->second[partition];
  if (!slot) slot = std::make_unique<PartitionState>();
  return *slot;
}

ProducerStateTable::AppendOutcome ProducerStateTable::append(std::string_view topic, int32_t partition,
                                                             std::span<char> batches) {
  AppendOutcome outcome;
  auto sequences = read_sequences(std::string_view(batches.data(), batches.size()));
  if (!sequences) {
    outcome.error = err::kCorruptMessage;
    outcome.status = sequences.status();
    return outcome;
  }
  const BatchSequences& s = *sequences;
  if (!known_producer(s.producer_id)) {
    outcome.error = err::kUnknownProducerId;
    return outcome;
  }
  PartitionState& state = partition_state(topic, partition);
  std::lock_guard lock(state.mu);
  auto [it, created] = state.producers.try_emplace(s.producer_id);
  ProducerEntry& entry = it->second;
  if (!created) {
    if (s.producer_epoch < entry.epoch) {
      outcome.error = err::kInvalidProducerEpoch;
      return outcome;
    }
    if (s.producer_epoch > entry.epoch) {
      // A bumped epoch starts its sequences again at 0.
      if (s.first_sequence != 0) {
        outcome.error = err::kOutOfOrderSequenceNumber;
        return outcome;
      }
      entry = ProducerEntry{};
    }
  }
  if (entry.count > 0) {
    for (int i = 0; i < entry.count; ++i) {
      const CachedAppend& cached = entry.appends[i];
      if (cached.first_sequence == s.first_sequence && cached.last_sequence == s.last_sequence) {
        outcome.base_offset = cached.base_offset;  // a retry: acknowledged, not appended again
        outcome.duplicate = true;
        return outcome;
      }
    }
    const CachedAppend& newest = entry.appends[(entry.next + kCachedAppends - 1) % kCachedAppends];
    if (s.first_sequence != next_sequence(newest.last_sequence)) {
      const CachedAppend& oldest = entry.appends[entry.count < kCachedAppends ? 0 : entry.next];
      outcome.error = s.first_sequence < oldest.first_sequence && s.last_sequence < oldest.first_sequence
                          ? err::kDuplicateSequenceNumber
                          : err::kOutOfOrderSequenceNumber;
      return outcome;
    }
  }
  // No state for this producer here (new, or the broker restarted): any sequence starts it, as in Kafka.
  auto appended = bus_.append_raw_batches(topic, partition, batches);
  if (!appended) {
    outcome.error = error_code_for(appended.status());
    outcome.status = appended.status();
    if (created) state.producers.erase(it);
    return outcome;
  }
  entry.epoch = s.producer_epoch;
  entry.appends[entry.next] = CachedAppend{s.first_sequence, s.last_sequence, *appended};
  entry.next = (entry.next + 1) % kCachedAppends;
  if (entry.count < kCachedAppends) ++entry.count;
  outcome.base_offset = *appended;
  return outcome;
}

}  // namespace sf::kafka
