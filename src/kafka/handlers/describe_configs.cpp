// DescribeConfigs v0..2: a topic's retention and segment settings (from the bus) and a few broker settings.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kafka/handlers.h"

namespace sf::kafka {
namespace {

constexpr int8_t kTopic = 2, kBroker = 4;

}  // namespace

HandleResult DescribeConfigsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  struct Resource {
    int8_t type = 0;
    std::string_view name;
    std::optional<std::vector<std::string_view>> keys;  // nullopt: all
  };
  std::vector<Resource> resources(static_cast<std::size_t>(std::max(in.array_length(7), 0)));
  for (auto& r : resources) {
    r.type = in.i8();
    r.name = in.string();
    const int32_t n = in.array_length(2);
    if (n >= 0) {
      r.keys.emplace();
      for (int32_t i = 0; i < n && in.ok(); ++i) r.keys->push_back(in.string());
    }
  }
  if (v >= 1) in.boolean();  // include_synonyms
  if (!in.ok()) return HandleResult::kMalformed;

  out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(resources.size()));
  for (const auto& r : resources) {
    int16_t error = err::kNone;
    std::string message;
    std::vector<std::pair<std::string, std::string>> configs;
    if (r.type == kTopic) {
      if (auto info = ctx.bus.describe_topic(r.name)) {
        configs = {{"cleanup.policy", "delete"},
                   {"retention.ms", std::to_string(info->config.retention_ms)},
                   {"retention.bytes", std::to_string(info->config.retention_bytes)},
                   {"segment.bytes", std::to_string(info->config.segment_bytes)},
                   {"compression.type", "producer"}};
      } else {
        error = err::kUnknownTopicOrPartition;
        message = "unknown topic";
      }
    } else if (r.type == kBroker) {
      configs = {{"auto.create.topics.enable", ctx.options.auto_create_topics ? "true" : "false"},
                 {"num.partitions", std::to_string(ctx.options.default_partitions)},
                 {"default.replication.factor", "1"},
                 {"socket.request.max.bytes", std::to_string(ctx.options.max_request_bytes)}};
    } else {
      error = err::kInvalidRequest;
      message = "only topic (2) and broker (4) resources are described";
    }
    if (r.keys) {
      std::erase_if(configs, [&](const auto& c) {
        return std::find(r.keys->begin(), r.keys->end(), c.first) == r.keys->end();
      });
    }
    out.i16(error);
    out.nullable_string(message.empty() ? std::nullopt : std::optional<std::string_view>(message));
    out.i8(r.type);
    out.string(r.name);
    out.array_length(static_cast<int32_t>(configs.size()));
    for (const auto& [name, value] : configs) {
      out.string(name);
      out.nullable_string(value);
      out.boolean(false);  // read_only
      if (v == 0) {
        out.boolean(false);  // is_default
      } else {
        out.i8(r.type == kTopic ? 1 : 4);  // config_source: DYNAMIC_TOPIC_CONFIG / STATIC_BROKER_CONFIG
      }
      out.boolean(false);               // is_sensitive
      if (v >= 1) out.array_length(0);  // synonyms
    }
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
