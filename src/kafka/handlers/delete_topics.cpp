// DeleteTopics v0..3 (non-flexible): deletes topics of the bus, their data and their committed offsets.
#include <spdlog/spdlog.h>

#include <string_view>
#include <vector>

#include "kafka/handlers.h"

namespace sf::kafka {

HandleResult DeleteTopicsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  std::vector<std::string_view> names(static_cast<std::size_t>(std::max(in.array_length(2), 0)));
  for (auto& name : names) name = in.string();
  in.i32();  // timeout_ms: deletion is synchronous here
  if (!in.ok()) return HandleResult::kMalformed;
  if (v >= 1) out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(names.size()));
  for (const auto name : names) {
    int16_t error = err::kNone;
    if (Status valid = bus::validate_topic_name(name); !valid) {
      error = err::kInvalidTopic;
    } else if (Status deleted = ctx.bus.delete_topic(name); !deleted) {
      error = error_code_for(deleted);
    } else {
      spdlog::info("kafka: deleted topic '{}' for {}", name, ctx.client_address);
    }
    out.string(name);
    out.i16(error);
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
