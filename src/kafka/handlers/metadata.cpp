// Metadata v0..5: this one broker, and the requested (or all) topics with their partitions, all led by it.
#include <optional>
#include <string>
#include <vector>

#include "kafka/handlers.h"
#include "kafka/topics.h"

namespace sf::kafka {

HandleResult MetadataHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  std::optional<std::vector<std::string_view>> requested;  // nullopt: all topics
  const int32_t n = in.array_length(2);
  if (n >= 0 && !(v == 0 && n == 0)) {  // v0: an empty array means all topics
    requested.emplace();
    for (int32_t i = 0; i < n && in.ok(); ++i) requested->push_back(in.string());
  }
  const bool allow_auto_create = v >= 4 ? in.boolean() : true;
  if (!in.ok()) return HandleResult::kMalformed;

  std::vector<std::pair<std::string, Result<bus::TopicInfo>>> topics;
  if (requested) {
    for (auto name : *requested)
      topics.emplace_back(std::string(name), find_or_create_topic(ctx, name, allow_auto_create));
  } else if (auto names = ctx.bus.list_topics()) {
    for (auto& name : *names) topics.emplace_back(name, ctx.bus.describe_topic(name));
  }

  if (v >= 3) out.i32(0);  // throttle_time_ms
  out.array_length(1);     // brokers
  out.i32(ctx.options.node_id);
  out.string(ctx.advertised_host);
  out.i32(ctx.advertised_port);
  if (v >= 1) out.nullable_string(std::nullopt);  // rack
  if (v >= 2) out.nullable_string(ctx.options.cluster_id);
  if (v >= 1) out.i32(ctx.options.node_id);  // controller_id
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& [name, info] : topics) {
    int16_t error = err::kNone;
    if (!info) {
      error = info.status().code() == ErrorCode::kInvalidArgument ? err::kInvalidTopic
                                                                  : err::kUnknownTopicOrPartition;
    }
    out.i16(error);
    out.string(name);
    if (v >= 1) out.boolean(false);  // is_internal
    if (!info) {
      out.array_length(0);
      continue;
    }
    out.array_length(static_cast<int32_t>(info->partitions.size()));
    for (const auto& p : info->partitions) {
      out.i16(err::kNone);
      out.i32(p.partition);
      out.i32(ctx.options.node_id);  // leader
      out.array_length(1);           // replicas
      out.i32(ctx.options.node_id);
      out.array_length(1);  // isr
      out.i32(ctx.options.node_id);
      if (v >= 5) out.array_length(0);  // offline_replicas
    }
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
