// FindCoordinator v0..2: this broker coordinates every group (and would every transaction).
#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult FindCoordinatorHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  in.string();          // key
  if (v >= 1) in.i8();  // key_type
  if (!in.ok()) return HandleResult::kMalformed;
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.i16(err::kNone);
  if (v >= 1) out.nullable_string(std::nullopt);  // error_message
  out.i32(ctx.options.node_id);
  out.string(ctx.advertised_host);
  out.i32(ctx.advertised_port);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
