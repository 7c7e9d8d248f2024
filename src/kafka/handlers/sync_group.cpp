// SyncGroup v0..3: the leader hands in the assignment; every member waits for its own.
#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult SyncGroupHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  const std::string group_id(in.string());
  const int32_t generation = in.i32();
  const std::string member_id(in.string());
  if (v >= 3) in.nullable_string();  // group_instance_id
  std::vector<std::pair<std::string, std::string>> assignments;
  const int32_t n = in.array_length(6);
  for (int32_t i = 0; i < n && in.ok(); ++i) {
    std::string id(in.string());
    std::string assignment(in.bytes());
    assignments.emplace_back(std::move(id), std::move(assignment));
  }
  if (!in.ok()) return HandleResult::kMalformed;
  const auto r = ctx.groups.sync(group_id, generation, member_id, assignments);
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.i16(r.error);
  out.bytes(r.assignment);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
