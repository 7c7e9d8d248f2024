// Produce v0..7: each partition's RecordBatch v2 bytes are appended as received; only baseOffset changes.
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "bus/record_batch.h"
#include "kafka/handlers.h"
#include "kafka/producer_state.h"
#include "kafka/topics.h"

namespace sf::kafka {
namespace {

int64_t read_i64(std::string_view bytes, std::size_t at) {
  uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return static_cast<int64_t>(v);
}
int32_t read_i32(std::string_view bytes, std::size_t at) {
  uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return static_cast<int32_t>(v);
}

// BrokerOptions::test_drop_produce_response_every: whether the just appended batches (their baseOffsets
// rewritten by the bus) hold an offset that is a multiple of it.
bool crosses_drop_mark(const BrokerOptions& options, std::string_view batches) {
  const int64_t every = options.test_drop_produce_response_every;
  if (every <= 0) return false;
  int64_t first = -1, last = -1;
  while (batches.size() >= bus::kBatchHeaderSize) {
    const int64_t base = read_i64(batches, bus::batch_offsets::kBaseOffset);
    if (first < 0) first = base;
    last = base + read_i32(batches, bus::batch_offsets::kLastOffsetDelta);
    const auto size =
        bus::kLogOverhead + static_cast<uint32_t>(read_i32(batches, bus::batch_offsets::kBatchLength));
    if (size > batches.size()) break;
    batches.remove_prefix(size);
  }
  return first >= 0 && (first % every == 0 || last / every > first / every);
}

}  // namespace

HandleResult ProduceHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  struct PartitionData {
    int32_t index = 0;
    std::optional<std::string_view> records;
  };
  struct TopicData {
    std::string_view name;
    std::vector<PartitionData> partitions;
  };
  if (v >= 3) in.nullable_string();  // transactional_id
  const int16_t acks = in.i16();
  in.i32();  // timeout_ms: appends are synchronous
  std::vector<TopicData> topics(static_cast<std::size_t>(std::max(in.array_length(6), 0)));
  for (auto& t : topics) {
    t.name = in.string();
    t.partitions.resize(static_cast<std::size_t>(std::max(in.array_length(8), 0)));
    for (auto& p : t.partitions) {
      p.index = in.i32();
      p.records = in.nullable_bytes();
    }
  }
  if (!in.ok()) return HandleResult::kMalformed;

  bool drop_response = false;
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) {
    out.string(t.name);
    out.array_length(static_cast<int32_t>(t.partitions.size()));
    auto info = find_or_create_topic(ctx, t.name, /*may_create=*/true);
    for (const auto& p : t.partitions) {
      int16_t error = err::kNone;
      int64_t base_offset = -1;
      int64_t log_start = -1;
      if (!info) {
        error = info.status().code() == ErrorCode::kInvalidArgument ? err::kInvalidTopic
                                                                    : err::kUnknownTopicOrPartition;
      } else if (p.index < 0 || p.index >= info->config.partitions) {
        error = err::kUnknownTopicOrPartition;
      } else if (!p.records || p.records->empty()) {
        error = err::kCorruptMessage;
      } else {
        // The request frame is a writable buffer owned by the connection (dispatch_request's contract):
        // the bus rewrites baseOffset in place.
        std::span<char> bytes(const_cast<char*>(p.records->data()), p.records->size());
        Status failure;
        bool retried = false;
        if (ctx.producers != nullptr && ProducerStateTable::is_idempotent(*p.records)) {
          // Sequence-checked: a retry is acknowledged with its first offset rather than appended again.
          const auto outcome = ctx.producers->append(t.name, p.index, bytes);
          error = outcome.error;
          base_offset = outcome.base_offset;
          failure = outcome.status;
          retried = outcome.duplicate;
        } else if (auto appended = ctx.bus.append_raw_batches(t.name, p.index, bytes)) {
          base_offset = *appended;
        } else {
          error = error_code_for(appended.status());
          failure = appended.status();
        }
        if (!failure.is_ok()) {
          spdlog::warn("kafka: {}: produce to '{}' partition {}: {}", ctx.client_address, t.name, p.index,
                       failure.to_string());
        }
        if (error == err::kNone) {
          log_start = info->partitions[static_cast<std::size_t>(p.index)].log_start_offset;
          if (!retried) drop_response = drop_response || crosses_drop_mark(ctx.options, *p.records);
        }
      }
      out.i32(p.index);
      out.i16(error);
      out.i64(base_offset);
      if (v >= 2) out.i64(-1);  // log_append_time_ms: -1 = CreateTime
      if (v >= 5) out.i64(log_start);
    }
  }
  if (v >= 1) out.i32(0);  // throttle_time_ms
  if (drop_response) {
    spdlog::warn("kafka: {}: test hook: closing the connection instead of answering a Produce",
                 ctx.client_address);
    return HandleResult::kMalformed;  // closes the connection; the records stay appended
  }
  return acks == 0 ? HandleResult::kNoResponse : HandleResult::kRespond;
}

}  // namespace sf::kafka
