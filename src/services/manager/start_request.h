// The body of `POST /queues/start` (the original queue-manager's API) and its validation into a plan.
//   full form:  {"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
//                "microservices":[{"target":"loader-producer","type":"api_candles_5m"},
//                                 {"target":"arango-connector","type":"api_candles_5m",
//                                  "collection_name":"...", "interval":"5m", "image":"...", ...extra}]}
//   short form: {"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02"}
//               = a loader (loader-producer; loader-ws for ws_ types) + arango-connector for market data,
//                 graph-builder for graph_build, gnn-trainer for gnn_train.
// Unknown fields of a service ride in its `start` command's extra fields; unknown top-level fields go to
// every service's start (a service's own field wins).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time_range.h"
#include "protocol/json_fields.h"
#include "protocol/workflow_type.h"

namespace sf::services {

struct ServiceRequest {
  std::string target;           // required: "loader-producer", "arango-connector", ...
  std::string type;             // empty = the request's type
  std::string interval;         // optional candle interval override, passed on as extra field `interval`
  std::string collection_name;  // optional; default: the workflow's collection
  std::string image;            // optional; default: QueueManagerOptions::default_image
  protocol::Json extra = protocol::Json::object();
};

struct StartRequest {
  std::string symbol;      // required; any case ("btcusdt" becomes "BTCUSDT")
  std::string type;        // required in the short form; else defaults to the first service's type
  std::string time_range;  // required: "START:END" (END may be omitted only for ws_ live types)
  std::vector<ServiceRequest> microservices;  // empty = the short form
  protocol::Json extra = protocol::Json::object();
};

// Structural parse of a JSON body: field presence and JSON types. InvalidArgument naming the field:
// "field 'microservices[1].target' must be a string, got number". Values are checked by plan_workflow().
Result<StartRequest> parse_start_request(std::string_view body);
Result<StartRequest> start_request_from_json(const protocol::Json& body);

struct PlannedService {
  std::string target;  // canonical target name
  protocol::WorkflowType type;
  protocol::Worker worker;
  std::string collection_name;                      // "" = the workflow's
  std::string image;                                // "" = the default image
  protocol::Json extra = protocol::Json::object();  // for its start command (interval included)
};

struct WorkflowPlan {
  std::string symbol;  // upper case
  protocol::WorkflowType type;
  TimeRange range;
  std::string time_range;  // canonical text of `range`
  std::vector<PlannedService> services;
};

// Validates everything and expands the short form. InvalidArgument naming the field: symbol, type,
// time_range, microservices, microservices[i].target / .type / .interval / .collection_name; a (target, type)
// pair no worker can run; a target listed twice (telemetry ids must be unique in a workflow).
Result<WorkflowPlan> plan_workflow(const StartRequest& request);

}  // namespace sf::services
