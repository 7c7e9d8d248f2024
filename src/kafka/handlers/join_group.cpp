// JoinGroup v0..5: blocks until the rebalance's join phase completes (group_coordinator.h).
#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult JoinGroupHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  GroupCoordinator::JoinRequest request;
  request.group_id = in.string();
  request.session_timeout_ms = in.i32();
  request.rebalance_timeout_ms = v >= 1 ? in.i32() : request.session_timeout_ms;
  request.member_id = in.string();
  if (v >= 5) in.nullable_string();  // group_instance_id: static membership is not implemented
  request.protocol_type = in.string();
  const int32_t n = in.array_length(6);
  for (int32_t i = 0; i < n && in.ok(); ++i) {
    GroupCoordinator::Protocol p;
    p.name = in.string();
    p.metadata = in.bytes();
    request.protocols.push_back(std::move(p));
  }
  if (!in.ok()) return HandleResult::kMalformed;
  request.client_id = std::string(ctx.header.client_id.value_or(""));
  request.client_host = std::string(ctx.client_address);
  request.require_known_member_id = v >= 4;
  const auto r = ctx.groups.join(request);
  if (v >= 2) out.i32(0);  // throttle_time_ms
  out.i16(r.error);
  out.i32(r.generation_id);
  out.string(r.protocol_name);
  out.string(r.leader_id);
  out.string(r.member_id);
  out.array_length(static_cast<int32_t>(r.members.size()));
  for (const auto& m : r.members) {
    out.string(m.member_id);
    if (v >= 5) out.nullable_string(std::nullopt);
    out.bytes(m.metadata);
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
