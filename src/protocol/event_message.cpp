// Parsing and printing of `queue-events` telemetry.
#include "protocol/event_message.h"

namespace sf::protocol {
namespace {

constexpr std::string_view kContext = "queue-events message";

}  // namespace

std::string_view status_name(WorkflowStatus status) {
  switch (status) {
    case WorkflowStatus::kPending:
      return "pending";
    case WorkflowStatus::kStarted:
      return "started";
    case WorkflowStatus::kLoading:
      return "loading";
    case WorkflowStatus::kCompleted:
      return "completed";
    case WorkflowStatus::kError:
      return "error";
    case WorkflowStatus::kStopped:
      return "stopped";
  }
  return "?";
}

Result<WorkflowStatus> parse_workflow_status(std::string_view text) {
  if (text == "pending") return WorkflowStatus::kPending;
  if (text == "started") return WorkflowStatus::kStarted;
  if (text == "loading") return WorkflowStatus::kLoading;
  if (text == "completed" || text == "finished") return WorkflowStatus::kCompleted;
  if (text == "error") return WorkflowStatus::kError;
  if (text == "stopped" || text == "interrupted") return WorkflowStatus::kStopped;
  return Status::invalid_argument(
      fmt::format("invalid status '{}'; valid statuses: pending, started, loading, completed (or finished), "
                  "error, stopped "
                  "(or interrupted)",
                  text));
}

bool is_terminal(WorkflowStatus status) {
  return status == WorkflowStatus::kCompleted || status == WorkflowStatus::kError ||
         status == WorkflowStatus::kStopped;
}

Result<EventMessage> event_message_from_json(const Json& json) {
  if (!json.is_object()) {
    return Status::invalid_argument(
        fmt::format("{}: expected a JSON object, got {}", kContext, json.type_name()));
  }
  detail::FieldReader r(json, kContext);
  EventMessage m;
  SF_RETURN_IF_ERROR(r.string("queue_id", true, m.queue_id));
  SF_RETURN_IF_ERROR(r.string("producer", true, m.producer));
  SF_RETURN_IF_ERROR(r.string("symbol", false, m.symbol));
  SF_RETURN_IF_ERROR(r.string("type", false, m.type));
  std::string status;
  SF_RETURN_IF_ERROR(r.string("status", true, status));
  auto parsed = parse_workflow_status(status);
  if (!parsed)
    return Status::invalid_argument(
        fmt::format("{}: field 'status': {}", kContext, parsed.status().message()));
  m.status = *parsed;
  SF_RETURN_IF_ERROR(r.string("message", false, m.message));
  SF_RETURN_IF_ERROR(r.count("records_written", false, m.records_written));
  SF_RETURN_IF_ERROR(r.boolean("finished", false, m.finished));
  std::optional<double> timestamp;
  SF_RETURN_IF_ERROR(r.number("timestamp", true, timestamp));
  m.timestamp = *timestamp;
  m.extra = r.unknown_fields();
  return m;
}

Result<EventMessage> parse_event_message(std::string_view text) {
  auto json = detail::parse_object(text, kContext);
  if (!json) return json.status();
  return event_message_from_json(*json);
}

Json to_json(const EventMessage& m) {
  Json j = Json::object();
  j["queue_id"] = m.queue_id;
  j["producer"] = m.producer;
  if (!m.symbol.empty()) j["symbol"] = m.symbol;
  if (!m.type.empty()) j["type"] = m.type;
  j["status"] = status_name(m.status);
  if (!m.message.empty()) j["message"] = m.message;
  if (m.records_written) j["records_written"] = *m.records_written;
  if (m.finished) j["finished"] = *m.finished;
  j["timestamp"] = m.timestamp;
  if (m.extra.is_object()) {
    for (auto it = m.extra.begin(); it != m.extra.end(); ++it) {
      if (!j.contains(it.key())) j[it.key()] = it.value();
    }
  }
  return j;
}

std::string serialize(const EventMessage& message, int indent) {
  return detail::dump(to_json(message), indent);
}

}  // namespace sf::protocol
