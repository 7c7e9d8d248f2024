// Workflow documents and the fold of telemetry into them.
#include "services/manager/workflow_state.h"

#include <fmt/format.h>

#include <algorithm>

namespace sf::services {
namespace {

using protocol::Json;
using protocol::WorkflowStatus;

Json optional_number(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

template <typename T>
Status read(const Json& j, const char* name, T& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Status::ok();
  try {
    out = it->get<T>();
  } catch (const std::exception& e) {
    return Status::corruption(fmt::format("queue_state document: field '{}': {}", name, e.what()));
  }
  return Status::ok();
}

template <typename T>
Status read(const Json& j, const char* name, std::optional<T>& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return Status::ok();
  T value{};
  SF_RETURN_IF_ERROR(read(j, name, value));
  out = value;
  return Status::ok();
}

Status read_status(const Json& j, const char* name, WorkflowStatus& out) {
  std::string text;
  SF_RETURN_IF_ERROR(read(j, name, text));
  if (text.empty()) return Status::ok();
  auto parsed = protocol::parse_workflow_status(text);
  if (!parsed) return Status::corruption(fmt::format("queue_state document: {}", parsed.status().message()));
  out = *parsed;
  return Status::ok();
}

}  // namespace

bool WorkflowState::finished() const {
  return !services.empty() &&
         std::all_of(services.begin(), services.end(), [](const auto& s) { return s.terminal(); });
}

ServiceState* WorkflowState::find_service(std::string_view producer) {
  for (auto& s : services) {
    if (s.telemetry_id == producer) return &s;
  }
  // An old-style worker may name itself by its target only ("loader-producer", "loader-producer__xyz").
  std::string_view target = producer.substr(0, producer.find("__"));
  for (auto& s : services) {
    if (s.target == target) return &s;
  }
  return nullptr;
}

Json WorkflowState::to_json() const {
  Json j = Json::object();
  j["queue_id"] = queue_id;
  j["symbol"] = symbol;
  j["type"] = type;
  j["time_range"] = time_range;
  j["status"] = protocol::status_name(status);
  Json list = Json::array();
  for (const auto& s : services) {
    Json o = Json::object();
    o["target"] = s.target;
    o["type"] = s.type;
    o["telemetry_id"] = s.telemetry_id;
    o["status"] = protocol::status_name(s.status);
    o["records_written"] = s.records_written;
    o["message"] = s.message;
    o["started_at"] = optional_number(s.started_at);
    o["updated_at"] = s.updated_at;
    o["finished"] = s.finished;
    o["finished_at"] = optional_number(s.finished_at);
    o["collection_name"] = s.collection_name;
    o["image"] = s.image;
    o["control_partition"] = s.control_partition ? Json(*s.control_partition) : Json(nullptr);
    o["control_offset"] = s.control_offset ? Json(*s.control_offset) : Json(nullptr);
    o["extra"] = s.extra;
    list.push_back(std::move(o));
  }
  j["services"] = std::move(list);
  j["created_at"] = created_at;
  j["updated_at"] = updated_at;
  j["finished_at"] = optional_number(finished_at);
  j["collection_name"] = collection_name;
  j["kafka_topic"] = kafka_topic;
  j["error"] = error.empty() ? Json(nullptr) : Json(error);
  j["stop_requested"] = stop_requested;
  j["stop_requested_at"] = optional_number(stop_requested_at);
  j["records_written"] = records_written;
  j["duration_seconds"] = finished_at ? Json(*finished_at - created_at) : Json(nullptr);
  j["events_offset"] = events_offset;
  j["last_event_offset"] = last_event_offset;
  return j;
}

Result<WorkflowState> workflow_state_from_json(const Json& j) {
  if (!j.is_object()) return Status::corruption("queue_state document: not a JSON object");
  WorkflowState w;
  SF_RETURN_IF_ERROR(read(j, "queue_id", w.queue_id));
  if (w.queue_id.empty()) return Status::corruption("queue_state document: field 'queue_id' is missing");
  SF_RETURN_IF_ERROR(read(j, "symbol", w.symbol));
  SF_RETURN_IF_ERROR(read(j, "type", w.type));
  SF_RETURN_IF_ERROR(read(j, "time_range", w.time_range));
  SF_RETURN_IF_ERROR(read_status(j, "status", w.status));
  if (auto it = j.find("services"); it != j.end() && it->is_array()) {
    for (const auto& o : *it) {
      ServiceState s;
      SF_RETURN_IF_ERROR(read(o, "target", s.target));
      SF_RETURN_IF_ERROR(read(o, "type", s.type));
      SF_RETURN_IF_ERROR(read(o, "telemetry_id", s.telemetry_id));
      SF_RETURN_IF_ERROR(read_status(o, "status", s.status));
      SF_RETURN_IF_ERROR(read(o, "records_written", s.records_written));
      SF_RETURN_IF_ERROR(read(o, "message", s.message));
      SF_RETURN_IF_ERROR(read(o, "started_at", s.started_at));
      SF_RETURN_IF_ERROR(read(o, "updated_at", s.updated_at));
      SF_RETURN_IF_ERROR(read(o, "finished", s.finished));
      SF_RETURN_IF_ERROR(read(o, "finished_at", s.finished_at));
      SF_RETURN_IF_ERROR(read(o, "collection_name", s.collection_name));
      SF_RETURN_IF_ERROR(read(o, "image", s.image));
      SF_RETURN_IF_ERROR(read(o, "control_partition", s.control_partition));
      SF_RETURN_IF_ERROR(read(o, "control_offset", s.control_offset));
      if (auto e = o.find("extra"); e != o.end() && e->is_object()) s.extra = *e;
      w.services.push_back(std::move(s));
    }
  }
  SF_RETURN_IF_ERROR(read(j, "created_at", w.created_at));
  SF_RETURN_IF_ERROR(read(j, "updated_at", w.updated_at));
  SF_RETURN_IF_ERROR(read(j, "finished_at", w.finished_at));
  SF_RETURN_IF_ERROR(read(j, "collection_name", w.collection_name));
  SF_RETURN_IF_ERROR(read(j, "kafka_topic", w.kafka_topic));
  SF_RETURN_IF_ERROR(read(j, "error", w.error));
  SF_RETURN_IF_ERROR(read(j, "stop_requested", w.stop_requested));
  SF_RETURN_IF_ERROR(read(j, "stop_requested_at", w.stop_requested_at));
  SF_RETURN_IF_ERROR(read(j, "records_written", w.records_written));
  SF_RETURN_IF_ERROR(read(j, "events_offset", w.events_offset));
  SF_RETURN_IF_ERROR(read(j, "last_event_offset", w.last_event_offset));
  return w;
}

bool apply_event(WorkflowState& state, const protocol::EventMessage& event, int64_t offset) {
  if (offset <= state.last_event_offset) return false;  // a replay after a restart: already folded in
  state.last_event_offset = offset;
  ServiceState* service = state.find_service(event.producer);
  if (!service || service->terminal()) return true;  // only the offset moved
  service->status = event.status;
  if (event.records_written) service->records_written = *event.records_written;
  if (!event.message.empty()) service->message = event.message;
  service->updated_at = event.timestamp;
  if (!service->started_at && event.status != WorkflowStatus::kPending) service->started_at = event.timestamp;
  service->finished = service->terminal() || event.finished.value_or(false);
  if (service->terminal()) service->finished_at = event.timestamp;
  return true;
}

void recompute_status(WorkflowState& w, double now) {
  bool any_error = false, any_stopped = false, any_progress = false, any_started = false;
  const ServiceState* connector = nullptr;
  int64_t most = 0;
  for (const auto& s : w.services) {
    any_error |= s.status == WorkflowStatus::kError;
    any_stopped |= s.status == WorkflowStatus::kStopped;
    any_progress |= s.status == WorkflowStatus::kLoading || s.terminal();
    any_started |= s.status == WorkflowStatus::kStarted;
    if (s.status == WorkflowStatus::kError && w.error.empty())
      w.error = fmt::format("{}: {}", s.telemetry_id, s.message);
    if (s.target == "arango-connector") connector = &s;
    most = std::max(most, s.records_written);
  }
  w.records_written = connector ? connector->records_written : most;
  if (any_error) {
    w.status = WorkflowStatus::kError;
  } else if (w.finished()) {
    w.status = any_stopped ? WorkflowStatus::kStopped : WorkflowStatus::kCompleted;
  } else if (any_progress) {
    w.status = WorkflowStatus::kLoading;
  } else if (any_started) {
    w.status = WorkflowStatus::kStarted;
  } else {
    w.status = WorkflowStatus::kPending;
  }
  if (w.finished() && !w.finished_at) w.finished_at = now;
  w.updated_at = now;
}

}  // namespace sf::services
