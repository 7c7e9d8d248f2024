// A workflow as the queue-manager tracks it: the document kept in the store's `queue_state` collection
// (keyed by queue_id) and the fold of `queue-events` telemetry into it.
//
// Document (times are epoch seconds, like the seed's `timestamp`; null when not yet known):
//   {"queue_id","symbol","type","time_range","status","services":[{"target","type","telemetry_id","status",
//    "records_written","message","started_at","updated_at","finished","finished_at","collection_name","image",
//    "control_partition","control_offset","extra"}],"created_at","updated_at","finished_at","collection_name",
//    "kafka_topic","error","stop_requested","stop_requested_at","records_written","duration_seconds",
//    "events_offset","last_event_offset"}
// Workflow status: error as soon as a service reports error; completed when every service completed;
// stopped when every service ended and some stopped; otherwise loading once a service loads or ended,
// started once one started, else pending. `finished_at` is set when every service has ended.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "protocol/event_message.h"
#include "protocol/json_fields.h"

namespace sf::services {

struct ServiceState {
  std::string target;
  std::string type;
  std::string telemetry_id;
  protocol::WorkflowStatus status = protocol::WorkflowStatus::kPending;
  int64_t records_written = 0;
  std::string message;
  std::optional<double> started_at;
  double updated_at = 0;
  bool finished = false;
  std::optional<double> finished_at;
  std::string collection_name;
  std::string image;
  std::optional<int32_t> control_partition;  // where its `start` command is on queue-control
  std::optional<int64_t> control_offset;
  protocol::Json extra = protocol::Json::object();  // extra fields of its start command

  bool terminal() const { return protocol::is_terminal(status); }
};

struct WorkflowState {
  std::string queue_id;
  std::string symbol;
  std::string type;
  std::string time_range;
  protocol::WorkflowStatus status = protocol::WorkflowStatus::kPending;
  std::vector<ServiceState> services;
  double created_at = 0;
  double updated_at = 0;
  std::optional<double> finished_at;
  std::string collection_name;
  std::string kafka_topic;
  std::string error;  // "<telemetry_id>: <message>" of the first service that failed
  bool stop_requested = false;
  std::optional<double> stop_requested_at;
  int64_t records_written = 0;     // the connector's count (documents stored), else the largest service count
  int64_t events_offset = 0;       // queue-events offset (the workflow's partition) when it was created
  int64_t last_event_offset = -1;  // the last queue-events offset folded in (replays below it are skipped)

  // Every service has ended (completed, error or stopped).
  bool finished() const;
  ServiceState* find_service(std::string_view producer);

  protocol::Json to_json() const;
};

Result<WorkflowState> workflow_state_from_json(const protocol::Json& json);

// Folds the event read at `offset` into `state` (the event's queue_id must be the workflow's). Skips offsets
// already folded in, events of unknown producers (apart from moving last_event_offset) and anything after a
// service's first terminal status. Returns whether the state changed. Call recompute_status() afterwards.
bool apply_event(WorkflowState& state, const protocol::EventMessage& event, int64_t offset);

// Derives the workflow status, error, records_written and finished_at from the services (see the top).
void recompute_status(WorkflowState& state, double now);

}  // namespace sf::services
