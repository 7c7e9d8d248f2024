// Topic lookup with auto-creation (see topics.h).
#include "kafka/topics.h"

#include <spdlog/spdlog.h>

namespace sf::kafka {

Result<bus::TopicInfo> find_or_create_topic(RequestContext& ctx, std::string_view name, bool may_create) {
  auto info = ctx.bus.describe_topic(name);
  if (info || info.status().code() != ErrorCode::kNotFound) return info;
  SF_RETURN_IF_ERROR(bus::validate_topic_name(name));
  if (!may_create || !ctx.options.auto_create_topics) return info;
  bus::TopicConfig config;
  config.partitions = ctx.options.default_partitions;
  SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(name, config));
  spdlog::info("kafka: auto-created topic '{}' ({} partitions) for {}", name, config.partitions,
               ctx.client_address);
  return ctx.bus.describe_topic(name);
}

}  // namespace sf::kafka
