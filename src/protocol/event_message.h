// `queue-events` telemetry: every job reports its lifecycle; the manager folds these into workflow state.
// Wire form, fields in this order (the seed's), then any extra fields:
//   {"queue_id":"wf-...","producer":"arango-connector__a1b2c3","symbol":"BTCUSDT","type":"api_candles_5m",
//    "status":"loading","message":"Saved 15000 records","records_written":15000,"finished":false,
//    "timestamp":1722500125.456}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "protocol/json_fields.h"

namespace sf::protocol {

enum class WorkflowStatus { kPending, kStarted, kLoading, kCompleted, kError, kStopped };

// "pending", "started", "loading", "completed", "error", "stopped".
std::string_view status_name(WorkflowStatus status);
// Exact, lower case. The original workers' aliases are normalised: "finished" -> completed,
// "interrupted" -> stopped. Anything else is an error listing the valid statuses.
Result<WorkflowStatus> parse_workflow_status(std::string_view text);
// completed, error and stopped end a job: nothing follows them.
bool is_terminal(WorkflowStatus status);

// Required: queue_id, producer, status, timestamp. Optional: symbol, type, message (strings; "" means
// absent), records_written (a non-negative integer), finished (a boolean). Absent optional fields stay
// absent when written back; unknown fields are kept in `extra` and written back after the known ones.
// The status is written in its canonical name (an alias does not survive a round trip, by design).
struct EventMessage {
  std::string queue_id;
  std::string producer;  // the sender's telemetry id, "arango-connector__a1b2c3"
  std::string symbol;
  std::string type;
  WorkflowStatus status = WorkflowStatus::kPending;
  std::string message;
  std::optional<int64_t> records_written;
  std::optional<bool> finished;
  double timestamp = 0;  // epoch seconds (fractional)
  Json extra = Json::object();

  // `finished` when sent, otherwise whether the status is terminal.
  bool is_finished() const { return finished.value_or(is_terminal(status)); }

  template <typename T>
  Result<std::optional<T>> extra_field(std::string_view name) const {
    return protocol::extra_field<T>(extra, name, "queue-events message");
  }

  bool operator==(const EventMessage&) const = default;
};

// Same rules as parse_control_message: errors name the field
// ("queue-events message: field 'records_written' must be a non-negative integer, got string").
Result<EventMessage> parse_event_message(std::string_view text);
Result<EventMessage> event_message_from_json(const Json& json);

Json to_json(const EventMessage& message);
std::string serialize(const EventMessage& message, int indent = -1);

}  // namespace sf::protocol
