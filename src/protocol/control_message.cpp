// Parsing, printing and validation of `queue-control` commands.
#include "protocol/control_message.h"

#include "core/time_range.h"
#include "protocol/workflow_type.h"

namespace sf::protocol {
namespace {

constexpr std::string_view kContext = "queue-control message";

}  // namespace

std::string_view command_name(Command command) {
  switch (command) {
    case Command::kStart:
      return "start";
    case Command::kStop:
      return "stop";
  }
  return "?";
}

Result<Command> parse_command(std::string_view text) {
  if (text == "start") return Command::kStart;
  if (text == "stop") return Command::kStop;
  return Status::invalid_argument(
      fmt::format("{}: field 'command' must be one of start, stop, got '{}'", kContext, text));
}

Result<ControlMessage> control_message_from_json(const Json& json) {
  if (!json.is_object()) {
    return Status::invalid_argument(
        fmt::format("{}: expected a JSON object, got {}", kContext, json.type_name()));
  }
  detail::FieldReader r(json, kContext);
  ControlMessage m;
  std::string command;
  SF_RETURN_IF_ERROR(r.string("command", true, command));
  auto parsed = parse_command(command);
  if (!parsed) return parsed.status();
  m.command = *parsed;
  const bool start = m.command == Command::kStart;

  SF_RETURN_IF_ERROR(r.string("queue_id", true, m.queue_id));
  SF_RETURN_IF_ERROR(r.string("target", start, m.target));
  SF_RETURN_IF_ERROR(r.string("symbol", start, m.symbol));
  SF_RETURN_IF_ERROR(r.string("type", start, m.type));
  SF_RETURN_IF_ERROR(r.string("time_range", start, m.time_range));
  SF_RETURN_IF_ERROR(r.string("kafka_topic", start, m.kafka_topic));
  SF_RETURN_IF_ERROR(r.string("collection_name", start, m.collection_name));
  SF_RETURN_IF_ERROR(r.string("telemetry_id", start, m.telemetry_id));
  SF_RETURN_IF_ERROR(r.string("image", false, m.image));
  SF_RETURN_IF_ERROR(r.number("timestamp", start, m.timestamp));
  m.extra = r.unknown_fields();
  return m;
}

Result<ControlMessage> parse_control_message(std::string_view text) {
  auto json = detail::parse_object(text, kContext);
  if (!json) return json.status();
  return control_message_from_json(*json);
}

Json to_json(const ControlMessage& m) {
  Json j = Json::object();
  j["command"] = command_name(m.command);
  j["queue_id"] = m.queue_id;
  auto put = [&j](const char* name, const std::string& value) {
    if (!value.empty()) j[name] = value;
  };
  put("target", m.target);
  put("symbol", m.symbol);
  put("type", m.type);
  put("time_range", m.time_range);
  put("kafka_topic", m.kafka_topic);
  put("collection_name", m.collection_name);
  put("telemetry_id", m.telemetry_id);
  put("image", m.image);
  if (m.timestamp) j["timestamp"] = *m.timestamp;
  if (m.extra.is_object()) {
    for (auto it = m.extra.begin(); it != m.extra.end(); ++it) {
      if (!j.contains(it.key())) j[it.key()] = it.value();  // a known field always wins over an extra
    }
  }
  return j;
}

std::string serialize(const ControlMessage& message, int indent) {
  return detail::dump(to_json(message), indent);
}

Status validate(const ControlMessage& m) {
  auto fail = [](const std::string& why) {
    return Status::invalid_argument(fmt::format("{}: {}", kContext, why));
  };
  if (m.queue_id.empty()) return fail("field 'queue_id' is missing");
  if (m.command == Command::kStop) return Status::ok();
  if (!is_valid_symbol(m.symbol)) {
    return fail(fmt::format("field 'symbol': '{}' is not an upper-case Binance symbol", m.symbol));
  }
  auto type = parse_workflow_type(m.type);
  if (!type) return fail(fmt::format("field 'type': {}", type.status().message()));
  auto target = parse_target(m.target);
  if (!target) return fail(fmt::format("field 'target': {}", target.status().message()));
  auto worker = route(*target, *type);
  if (!worker) return fail(worker.status().message());
  auto range = parse_time_range(m.time_range);
  if (!range) return fail(fmt::format("field 'time_range': {}", range.status().message()));
  if (!m.timestamp) return fail("field 'timestamp' is missing");
  return Status::ok();
}

}  // namespace sf::protocol
