// Parsing and validation of start requests.
#include "services/manager/start_request.h"

#include <fmt/format.h>

#include <set>

#include "analytics/gnn/gnn.h"
#include "analytics/graph/graph.h"
#include "protocol/naming.h"
#include "store/store.h"

namespace sf::services {
namespace {

Status field_error(std::string_view field, std::string_view why) {
  return Status::invalid_argument(fmt::format("field '{}': {}", field, why));
}

// Reads an optional string field; removes it from `rest` (what is left is extra).
Status take_string(protocol::Json& rest, std::string_view name, std::string_view path, std::string& out) {
  auto it = rest.find(name);
  if (it == rest.end()) return Status::ok();
  if (!it->is_null()) {
    if (!it->is_string()) {
      return Status::invalid_argument(
          fmt::format("field '{}' must be a string, got {}", path, it->type_name()));
    }
    out = it->get<std::string>();
  }
  rest.erase(it);
  return Status::ok();
}

}  // namespace

Result<StartRequest> start_request_from_json(const protocol::Json& body) {
  if (!body.is_object()) {
    return Status::invalid_argument(
        fmt::format("request body must be a JSON object, got {}", body.type_name()));
  }
  StartRequest request;
  protocol::Json rest = body;
  SF_RETURN_IF_ERROR(take_string(rest, "symbol", "symbol", request.symbol));
  SF_RETURN_IF_ERROR(take_string(rest, "type", "type", request.type));
  SF_RETURN_IF_ERROR(take_string(rest, "time_range", "time_range", request.time_range));
  if (auto it = rest.find("microservices"); it != rest.end()) {
    if (!it->is_null()) {
      if (!it->is_array()) {
        return Status::invalid_argument(
            fmt::format("field 'microservices' must be an array, got {}", it->type_name()));
      }
      for (size_t i = 0; i < it->size(); ++i) {
        const protocol::Json& item = (*it)[i];
        const std::string path = fmt::format("microservices[{}]", i);
        if (!item.is_object()) {
          return Status::invalid_argument(
              fmt::format("field '{}' must be an object, got {}", path, item.type_name()));
        }
        ServiceRequest service;
        protocol::Json fields = item;
        SF_RETURN_IF_ERROR(take_string(fields, "target", path + ".target", service.target));
        SF_RETURN_IF_ERROR(take_string(fields, "type", path + ".type", service.type));
        SF_RETURN_IF_ERROR(take_string(fields, "interval", path + ".interval", service.interval));
        SF_RETURN_IF_ERROR(
            take_string(fields, "collection_name", path + ".collection_name", service.collection_name));
        SF_RETURN_IF_ERROR(take_string(fields, "image", path + ".image", service.image));
        service.extra = std::move(fields);
        request.microservices.push_back(std::move(service));
      }
      if (it->empty()) return field_error("microservices", "must list at least one service");
    }
    rest.erase(it);
  }
  request.extra = std::move(rest);
  return request;
}

Result<StartRequest> parse_start_request(std::string_view body) {
  protocol::Json json = protocol::Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::invalid_argument("request body is not valid JSON");
  return start_request_from_json(json);
}

namespace {

// Analytics workflows span many symbols (graph_build: `symbols`) or none of their own (gnn_train on a graph
// id): the workflow's `symbol`, which names its id and collection, defaults to the first of `symbols`, else
// to the symbol in a graph id made by make_workflow_id.
std::string analytics_symbol(const StartRequest& request) {
  auto symbols = request.extra.find("symbols");
  if (symbols != request.extra.end() && symbols->is_array() && !symbols->empty() && symbols->front().is_string())
    return symbols->front().get<std::string>();
  for (const char* field : {"graph_id", "graph_collection"}) {
    auto id = request.extra.find(field);
    if (id == request.extra.end() || !id->is_string()) continue;
    if (auto parts = protocol::parse_workflow_id(id->get<std::string>())) return parts->symbol;
  }
  return {};
}

}  // namespace

Result<WorkflowPlan> plan_workflow(const StartRequest& request) {
  WorkflowPlan plan;
  const std::string symbol_text = request.symbol.empty() ? analytics_symbol(request) : request.symbol;
  if (symbol_text.empty()) return field_error("symbol", "is missing");
  auto symbol = protocol::normalize_symbol(symbol_text);
  if (!symbol) return field_error("symbol", symbol.status().message());
  plan.symbol = std::move(symbol).value();

  std::string type_text = request.type;
  if (type_text.empty() && !request.microservices.empty()) type_text = request.microservices.front().type;
  if (type_text.empty()) return field_error("type", "is missing");
  auto type = protocol::parse_workflow_type(type_text);
  if (!type)
    return field_error(request.type.empty() ? "microservices[0].type" : "type", type.status().message());
  plan.type = *type;

  if (request.time_range.empty()) return field_error("time_range", "is missing");
  auto range = parse_time_range(request.time_range);
  if (!range) return field_error("time_range", range.status().message());
  plan.range = *range;
  plan.time_range = format_time_range(plan.range);

  std::vector<ServiceRequest> services = request.microservices;
  if (services.empty()) {
    switch (plan.type.source) {
      case protocol::Source::kApi:
      case protocol::Source::kBulk:
        services.push_back({.target = "loader-producer"});
        services.push_back({.target = "arango-connector"});
        break;
      case protocol::Source::kWs:
        services.push_back({.target = "loader-ws"});
        services.push_back({.target = "arango-connector"});
        break;
      case protocol::Source::kGraph:
        services.push_back({.target = "graph-builder"});
        break;
      case protocol::Source::kGnn:
        services.push_back({.target = "gnn-trainer"});
        break;
    }
  }

  std::set<std::string> targets;
  for (size_t i = 0; i < services.size(); ++i) {
    const ServiceRequest& service = services[i];
    const std::string path = fmt::format("microservices[{}]", i);
    PlannedService planned;
    if (service.target.empty()) return field_error(path + ".target", "is missing");
    auto target = protocol::parse_target(service.target);
    if (!target) return field_error(path + ".target", target.status().message());
    planned.target = std::string(protocol::target_name(*target));
    if (!targets.insert(planned.target).second) {
      return field_error(
          path + ".target",
          fmt::format("'{}' is listed twice; a workflow runs each target once", planned.target));
    }
    planned.type = plan.type;
    if (!service.type.empty()) {
      auto own = protocol::parse_workflow_type(service.type);
      if (!own) return field_error(path + ".type", own.status().message());
      planned.type = *own;
    }
    auto worker = protocol::route(*target, planned.type);
    if (!worker) return field_error(path, worker.status().message());
    planned.worker = *worker;
    if (!plan.range.end_ms && planned.type.source != protocol::Source::kWs) {
      return field_error("time_range",
                         fmt::format("'{}' has no end; only live ws_ types may be open-ended, not '{}'",
                                     request.time_range, planned.type.name()));
    }
    if (!service.interval.empty()) {
      auto interval = protocol::parse_interval(service.interval);
      if (!interval) return field_error(path + ".interval", interval.status().message());
    }
    if (!service.collection_name.empty()) {
      if (Status valid = store::validate_collection_name(service.collection_name); !valid) {
        return field_error(path + ".collection_name", valid.message());
      }
    }
    planned.collection_name = service.collection_name;
    planned.image = service.image;
    planned.extra = request.extra.is_object() ? request.extra : protocol::Json::object();
    for (auto it = service.extra.begin(); it != service.extra.end(); ++it)
      planned.extra[it.key()] = it.value();
    if (!service.interval.empty()) planned.extra["interval"] = service.interval;
    // Analytics parameters are checked here so a bad request is a 400 naming the field, not a failed job.
    if (planned.worker == protocol::Worker::kGraphBuilder) {
      auto graph = analytics::graph_params_from_json(planned.extra, plan.time_range);
      if (!graph) return graph.status();
    } else if (planned.worker == protocol::Worker::kGnnTrainer) {
      auto train = analytics::TrainParams::from_json(planned.extra);
      if (!train) return train.status();
    }
    plan.services.push_back(std::move(planned));
  }
  return plan;
}

}  // namespace sf::services
