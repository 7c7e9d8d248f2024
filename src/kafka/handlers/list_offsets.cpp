// ListOffsets v0..2: -1 = latest (log end), -2 = earliest (log start), otherwise the first offset whose
// timestamp is at or after the given one (a scan; -1 if none).
#include <vector>

#include "kafka/handlers.h"

namespace sf::kafka {
namespace {

int64_t offset_for_time(RequestContext& ctx, std::string_view topic, int32_t partition, int64_t start,
                        int64_t timestamp) {
  bus::FetchBatch batch;
  bus::FetchOptions options;
  int64_t offset = start;
  for (;;) {
    if (!ctx.bus.fetch(topic, partition, offset, options, batch) || batch.empty()) return -1;
    for (const auto& r : batch) {
      if (r.timestamp_ms >= timestamp) return r.offset;
      offset = r.offset + 1;
    }
  }
}

}  // namespace

HandleResult ListOffsetsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  struct Partition {
    int32_t index = 0;
    int64_t timestamp = 0;
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  in.i32();             // replica_id
  if (v >= 2) in.i8();  // isolation_level
  std::vector<Topic> topics(static_cast<std::size_t>(std::max(in.array_length(6), 0)));
  for (auto& t : topics) {
    t.name = in.string();
    t.partitions.resize(static_cast<std::size_t>(std::max(in.array_length(12), 0)));
    for (auto& p : t.partitions) {
      p.index = in.i32();
      p.timestamp = in.i64();
      if (v == 0) in.i32();  // max_num_offsets
    }
  }
  if (!in.ok()) return HandleResult::kMalformed;

  if (v >= 2) out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) {
    out.string(t.name);
    out.array_length(static_cast<int32_t>(t.partitions.size()));
    auto info = ctx.bus.describe_topic(t.name);
    for (const auto& p : t.partitions) {
      int16_t error = err::kNone;
      int64_t offset = -1;
      if (!info || p.index < 0 || p.index >= static_cast<int32_t>(info->partitions.size())) {
        error = err::kUnknownTopicOrPartition;
      } else {
        const auto& part = info->partitions[static_cast<std::size_t>(p.index)];
        if (p.timestamp == -1) {
          offset = part.log_end_offset;
        } else if (p.timestamp == -2) {
          offset = part.log_start_offset;
        } else {
          offset = offset_for_time(ctx, t.name, p.index, part.log_start_offset, p.timestamp);
        }
      }
      out.i32(p.index);
      out.i16(error);
      if (v == 0) {
        if (offset >= 0) {
          out.array_length(1);
          out.i64(offset);
        } else {
          out.array_length(0);
        }
      } else {
        out.i64(-1);  // timestamp
        out.i64(offset);
      }
    }
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
