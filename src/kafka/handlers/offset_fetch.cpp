// OffsetFetch v0..5: the group's committed offsets (-1 where none), from the bus's durable store.
#include <map>
#include <vector>

#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult OffsetFetchHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  const std::string group_id(in.string());
  // topic -> partitions; null array (v2+) = every committed partition of the group
  std::vector<std::pair<std::string, std::vector<int32_t>>> topics;
  const int32_t n = in.array_length(6);
  for (int32_t i = 0; i < n && in.ok(); ++i) {
    std::string name(in.string());
    std::vector<int32_t> partitions;
    const int32_t m = in.array_length(4);
    for (int32_t j = 0; j < m && in.ok(); ++j) partitions.push_back(in.i32());
    topics.emplace_back(std::move(name), std::move(partitions));
  }
  if (!in.ok()) return HandleResult::kMalformed;
  std::map<bus::TopicPartition, int64_t> committed;
  int16_t error = err::kNone;
  if (!bus::validate_group_id(group_id)) {
    error = err::kInvalidGroupId;
  } else if (auto stored = ctx.bus.group_offsets(group_id)) {
    for (const auto& o : *stored) committed[{o.topic, o.partition}] = o.offset;
  } else {
    error = err::kUnknownServerError;
  }
  if (n < 0) {
    for (const auto& [tp, offset] : committed) {
      if (topics.empty() || topics.back().first != tp.topic)
        topics.emplace_back(tp.topic, std::vector<int32_t>{});
      topics.back().second.push_back(tp.partition);
    }
  }
  if (v >= 3) out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& [name, partitions] : topics) {
    out.string(name);
    out.array_length(static_cast<int32_t>(partitions.size()));
    for (int32_t p : partitions) {
      auto it = committed.find({name, p});
      out.i32(p);
      out.i64(it == committed.end() ? -1 : it->second);
      if (v >= 5) out.i32(-1);                  // committed_leader_epoch
      out.nullable_string(std::string_view());  // metadata
      out.i16(v >= 2 ? err::kNone : error);
    }
  }
  if (v >= 2) out.i16(error);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
