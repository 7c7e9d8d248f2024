// CreateTopics v0..4: one partition replica (this broker); retention.ms, retention.bytes and segment.bytes
// configs map onto the bus's TopicConfig, other configs are accepted and ignored.
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kafka/handlers.h"

namespace sf::kafka {
namespace {

bool parse_i64(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

HandleResult CreateTopicsHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  struct Topic {
    std::string_view name;
    int32_t partitions = -1;
    int16_t replication_factor = -1;
    int32_t assignments = 0;
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> configs;
  };
  std::vector<Topic> topics(static_cast<std::size_t>(std::max(in.array_length(16), 0)));
  for (auto& t : topics) {
    t.name = in.string();
    t.partitions = in.i32();
    t.replication_factor = in.i16();
    t.assignments = std::max(in.array_length(8), 0);
    for (int32_t i = 0; i < t.assignments && in.ok(); ++i) {
      in.i32();
      const int32_t brokers = in.array_length(4);
      for (int32_t j = 0; j < brokers && in.ok(); ++j) in.i32();
    }
    const int32_t configs = in.array_length(4);
    for (int32_t i = 0; i < configs && in.ok(); ++i) {
      auto name = in.string();
      auto value = in.nullable_string();
      t.configs.emplace_back(name, value);
    }
  }
  in.i32();  // timeout_ms
  const bool validate_only = v >= 1 ? in.boolean() : false;
  if (!in.ok()) return HandleResult::kMalformed;

  if (v >= 2) out.i32(0);  // throttle_time_ms
  out.array_length(static_cast<int32_t>(topics.size()));
  for (const auto& t : topics) {
    int16_t error = err::kNone;
    std::string message;
    bus::TopicConfig config;
    config.partitions = t.partitions == -1 ? ctx.options.default_partitions : t.partitions;
    if (Status valid = bus::validate_topic_name(t.name); !valid) {
      error = err::kInvalidTopic;
      message = valid.message();
    } else if (t.assignments > 0 || config.partitions < 1 ||
               config.partitions > ctx.options.max_topic_partitions) {
      error = err::kInvalidPartitions;
      message = fmt::format("partitions must be -1 or 1..{}, without manual assignments",
                            ctx.options.max_topic_partitions);
    } else if (t.replication_factor != -1 && t.replication_factor != 1) {
      error = err::kInvalidReplicationFactor;
      message = "a single broker: replication factor must be 1 (or -1)";
    }
    for (const auto& [name, value] : t.configs) {
      if (error != err::kNone || !value) break;
      int64_t number = 0;
      int64_t* target = name == "retention.ms"      ? &config.retention_ms
                        : name == "retention.bytes" ? &config.retention_bytes
                        : name == "segment.bytes"   ? &config.segment_bytes
                                                    : nullptr;
      if (target == nullptr) continue;
      if (!parse_i64(*value, &number)) {
        error = 40;  // INVALID_CONFIG
        message = "config " + std::string(name) + " must be an integer";
      } else {
        *target = number;
      }
    }
    if (error == err::kNone) {
      if (validate_only) {
        if (ctx.bus.describe_topic(t.name)) error = err::kTopicAlreadyExists;
      } else if (Status created = ctx.bus.create_topic(t.name, config); !created) {
        error = error_code_for(created);
        message = created.message();
      } else {
        spdlog::info("kafka: created topic '{}' ({} partitions) for {}", t.name, config.partitions,
                     ctx.client_address);
      }
    }
    out.string(t.name);
    out.i16(error);
    if (v >= 1)
      out.nullable_string(message.empty() ? std::nullopt : std::optional<std::string_view>(message));
  }
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
