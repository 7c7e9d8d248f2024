// Produce v0..7: each partition's RecordBatch v2 bytes are appended as received; only baseOffset changes.
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "kafka/handlers.h"
#include "kafka/topics.h"

namespace sf::kafka {

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
        auto appended = ctx.bus.append_raw_batches(t.name, p.index, bytes);
        if (appended) {
          base_offset = *appended;
          log_start = info->partitions[static_cast<std::size_t>(p.index)].log_start_offset;
        } else {
          error = error_code_for(appended.status());
          spdlog::warn("kafka: {}: produce to '{}' partition {}: {}", ctx.client_address, t.name, p.index,
                       appended.status().to_string());
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
  return acks == 0 ? HandleResult::kNoResponse : HandleResult::kRespond;
}

}  // namespace sf::kafka
