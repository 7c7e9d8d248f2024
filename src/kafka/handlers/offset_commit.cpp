// OffsetCommit v0..7: checked against the group's generation, stored durably in the bus's offset store.
#include <vector>

#include <spdlog/spdlog.h>

#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult OffsetCommitHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  struct Partition {
    int32_t index = 0;
    int64_t offset = 0;
  };
  struct Topic {
    std::string_view name;
    std::vector<Partition> partitions;
  };
  const std::string group_id(in.string());
  const int32_t generation = v >= 1 ? in.i32() : -1;
  const std::string member_id(v >= 1 ? in.string() : std::string_view());
  if (v >= 2 && v <= 4) in.i64();    // retention_time_ms
  if (v >= 7) in.nullable_string();  // group_instance_id
  std::vector<Topic> topics(static_cast<std::size_t>(std::max(in.array_length(6), 0)));
  for (auto& t : topics) {
    t.name = in.string();
    t.partitions.resize(static_cast<std::size_t>(std::max(in.array_length(14), 0)));
    for (auto& p : t.partitions) {
      p.index = in.i32();
      p.offset = in.i64();
      if (v >= 6) in.i32();  // committed_leader_epoch
      if (v == 1) in.i64();  // commit_timestamp
      in.nullable_string();  // committed_metadata: not stored
    }
  }
  if (!in.ok()) return HandleResult::kMalformed;

  int16_t error = ctx.groups.check_commit(group_id, generation, member_id);
  if (error == err::kNone) {
    std::vector<bus::TopicPartitionOffset> offsets;
    for (const auto& t : topics)
      for (const auto& p : t.partitions) {
        if (p.offset >= 0) offsets.push_back({std::string(t.name), p.index, p.offset});
      }
    if (Status s = ctx.bus.commit_group_offsets(group_id, offsets); !s) {
      spdlog::warn("kafka: {}: commit of group '{}': {}", ctx.client_address, group_id, s.to_string());
      error = s.code() == ErrorCode::kInvalidArgument ? err::kInvalidRequest : err::kUnknownServerError;
    }
  }
  if (v >= 3) out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) {
    out.string(t.name);
    out.array_length(static_cast<int32_t>(t.partitions.size()));
    for (const auto& p : t.partitions) {
      out.i32(p.index);
      out.i16(error);
    }
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
