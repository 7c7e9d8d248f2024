// DescribeGroups v0..4: state, protocol and members (with metadata and assignment) of each group.
#include <string>
#include <vector>

#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult DescribeGroupsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  std::vector<std::string> ids;
  const int32_t n = in.array_length(2);
  for (int32_t i = 0; i < n && in.ok(); ++i) ids.emplace_back(in.string());
  if (v >= 3) in.boolean();  // include_authorized_operations
  if (!in.ok()) return HandleResult::kMalformed;
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(ids.size()));
  for (const auto& id : ids) {
    const auto d = ctx.groups.describe(id);
    out.i16(err::kNone);
    out.string(id);
    out.string(d.state);
    out.string(d.protocol_type);
    out.string(d.protocol_name);
    out.array_length(static_cast<int32_t>(d.members.size()));
    for (const auto& m : d.members) {
      out.string(m.member_id);
      if (v >= 4) out.nullable_string(std::nullopt);  // group_instance_id
      out.string(m.client_id);
      out.string(m.client_host);
      out.bytes(m.metadata);
      out.bytes(m.assignment);
    }
    if (v >= 3) out.i32(INT32_MIN);  // authorized_operations: not requested/known
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
