// LeaveGroup v0..1: the member leaves at once; the others rebalance.
#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult LeaveGroupHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  const std::string group_id(in.string());
  const std::string member_id(in.string());
  if (!in.ok()) return HandleResult::kMalformed;
  const int16_t error = ctx.groups.leave(group_id, member_id);
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.i16(error);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
