// ApiVersions v0..3 (v3's request is flexible; its response header never is): the APIs of handlers.h.
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult ApiVersionsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  if (v >= 3) {
    in.compact_string();  // client_software_name
    in.compact_string();  // client_software_version
    in.skip_tagged_fields();
  }
  if (!in.ok()) return HandleResult::kMalformed;
  const auto table = handler_table();
  out.i16(err::kNone);
  if (v >= 3) {
    out.compact_array_length(static_cast<int32_t>(table.size()));
  } else {
    out.array_length(static_cast<int32_t>(table.size()));
  }
  for (const auto& e : table) {
    out.i16(e.api_key);
    out.i16(e.min_version);
    out.i16(e.max_version);
    if (v >= 3) out.empty_tagged_fields();
  }
  if (v >= 1) out.i32(0);  // throttle_time_ms
  if (v >= 3) out.empty_tagged_fields();
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
