// Heartbeat v0..3: keeps the member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult HeartbeatHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  const std::string group_id(in.string());
  const int32_t generation = in.i32();
  const std::string member_id(in.string());
  if (v >= 3) in.nullable_string();  // group_instance_id
  if (!in.ok()) return HandleResult::kMalformed;
  const int16_t error = ctx.groups.heartbeat(group_id, generation, member_id);
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.i16(error);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
