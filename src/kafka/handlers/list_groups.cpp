// ListGroups v0..2: live groups of the coordinator and groups that only have committed offsets.
#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult ListGroupsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  if (!in.ok()) return HandleResult::kMalformed;
  const auto groups = ctx.groups.list_groups();
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.i16(err::kNone);
  out.array_length(static_cast<int32_t>(groups.size()));
  for (const auto& g : groups) {
    out.string(g.group_id);
    out.string(g.protocol_type);
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
