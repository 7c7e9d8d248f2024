// The OpenAPI 3.0 document of the queue-manager API, written out by hand from the handlers' contracts.
#include "services/manager/openapi.h"

#include <string>

namespace sf::services {
namespace {

using protocol::Json;

Json ref(std::string_view name) {
  return Json{{"$ref", "#/components/schemas/" + std::string(name)}};
}

Json json_content(Json schema) {
  return Json{{"application/json", Json{{"schema", std::move(schema)}}}};
}

// {"status":"success","message":..,"data":<data>}
Json success(std::string_view description, Json data) {
  Json schema = Json::object();
  schema["type"] = "object";
  schema["required"] = Json::array({"status", "message", "data"});
  schema["properties"] = Json{{"status", Json{{"type", "string"}, {"enum", Json::array({"success"})}}},
                              {"message", Json{{"type", "string"}}},
                              {"data", std::move(data)}};
  return Json{{"description", description}, {"content", json_content(std::move(schema))}};
}

Json error(std::string_view description) {
  return Json{{"description", description}, {"content", json_content(ref("Error"))}};
}

Json param(std::string_view name, std::string_view in, std::string_view description, bool required = false,
           Json schema = Json{{"type", "string"}}) {
  return Json{{"name", name},
              {"in", in},
              {"required", required},
              {"description", description},
              {"schema", std::move(schema)}};
}

Json queue_id_param() {
  return param("queue_id", "path", "Workflow id, e.g. wf-btcusdt-api_candles_5m-20240801-a1b2c3", true);
}

Json bounds_params() {
  return Json::array({
      param("from", "query",
            "Inclusive lower time bound (UTC): YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z] or epoch "
            "milliseconds"),
      param("to", "query", "Exclusive upper time bound, same forms as `from`"),
      param("from_key", "query", "Inclusive lower key bound (not with from/to)"),
      param("to_key", "query", "Exclusive upper key bound (not with from/to)"),
  });
}

Json operation(std::string_view summary, std::string_view tag, Json responses,
               Json parameters = Json::array()) {
  Json op = Json::object();
  op["summary"] = summary;
  op["tags"] = Json::array({tag});
  if (!parameters.empty()) op["parameters"] = std::move(parameters);
  op["responses"] = std::move(responses);
  return op;
}

Json schemas() {
  Json s = Json::object();
  s["Error"] =
      Json{{"type", "object"},
           {"required", Json::array({"status", "message"})},
           {"properties",
            Json{{"status", Json{{"type", "string"}, {"enum", Json::array({"error"})}}},
                 {"message", Json{{"type", "string"}, {"description", "What is wrong; names the field"}}}}}};
  s["Microservice"] = Json{
      {"type", "object"},
      {"additionalProperties", false},
      {"required", Json::array({"target"})},
      {"properties",
       Json{{"target",
             Json{{"type", "string"},
                  {"enum", Json::array({"loader-producer", "loader-api", "loader-ws", "arango-connector",
                                        "graph-builder", "gnn-trainer", "dummy-service"})}}},
            {"type", Json{{"type", "string"}, {"description", "Workflow type; default: the request's type"}}},
            {"image", Json{{"type", "string"}}},
            {"collection_name", Json{{"type", "string"}}},
            {"collection_inputs", Json{{"type", "array"}, {"items", Json{{"type", "string"}}}}},
            {"collection_output", Json{{"type", "string"}}},
            {"model_output", Json{{"type", "string"}}},
            {"graph_collection", Json{{"type", "string"}}},
            {"inference_interval", Json{{"type", "string"}}},
            {"source", Json{{"type", "string"}}},
            {"interval", Json{{"type", "string"}, {"description", "Candle interval override, e.g. 5m"}}}}}};
  s["StartRequest"] = Json{
      {"type", "object"},
      {"additionalProperties", false},
      {"required", Json::array({"symbol", "time_range"})},
      {"description",
       "Full form: symbol, time_range, microservices. Short form: symbol, type, time_range (a loader and "
       "arango-connector for market data, graph-builder for graph_build, gnn-trainer for gnn_train)."},
      {"properties",
       Json{{"symbol", Json{{"type", "string"}, {"example", "BTCUSDT"}}},
            {"type",
             Json{{"type", "string"},
                  {"example", "api_candles_5m"},
                  {"description",
                   "api_candles_<interval>, api_trades, api_agg_trades, ws_candles_<interval>, ws_trades, "
                   "ws_agg_trades, ws_depth, ws_orderbook, bulk_candles_<interval>, bulk_trades, "
                   "bulk_agg_trades, graph_build (alias gnn_graph), gnn_train"}}},
            {"time_range",
             Json{{"type", "string"},
                  {"example", "2024-08-01:2024-08-02"},
                  {"description", "START:END, UTC, half-open; END may be omitted for live ws_ types"}}},
            {"microservices", Json{{"type", "array"}, {"items", ref("Microservice")}}},
            {"requests", Json{{"type", "array"},
                              {"items", ref("Microservice")},
                              {"description", "The original docs' name of `microservices`"}}}}}};
  const Json number_or_null = Json{{"type", "number"}, {"nullable", true}};
  s["Service"] = Json{
      {"type", "object"},
      {"properties",
       Json{{"target", Json{{"type", "string"}}},
            {"type", Json{{"type", "string"}}},
            {"telemetry_id", Json{{"type", "string"}}},
            {"status", ref("Status")},
            {"records_written", Json{{"type", "integer"}}},
            {"progress", Json{{"type", "number"}, {"nullable", true}, {"description", "0..1 when known"}}},
            {"message", Json{{"type", "string"}}},
            {"started_at", number_or_null},
            {"updated_at", Json{{"type", "number"}}},
            {"finished", Json{{"type", "boolean"}}},
            {"finished_at", number_or_null},
            {"collection_name", Json{{"type", "string"}}},
            {"image", Json{{"type", "string"}}}}}};
  s["Status"] =
      Json{{"type", "string"},
           {"enum", Json::array({"pending", "started", "loading", "completed", "error", "stopped"})}};
  s["Workflow"] = Json{
      {"type", "object"},
      {"description", "Times are epoch seconds"},
      {"properties",
       Json{{"queue_id", Json{{"type", "string"}}},
            {"id", Json{{"type", "string"}, {"description", "Same as queue_id (the original API's name)"}}},
            {"symbol", Json{{"type", "string"}}},
            {"type", Json{{"type", "string"}}},
            {"time_range", Json{{"type", "string"}}},
            {"status", ref("Status")},
            {"services", Json{{"type", "array"}, {"items", ref("Service")}}},
            {"created_at", Json{{"type", "number"}}},
            {"updated_at", Json{{"type", "number"}}},
            {"finished_at", number_or_null},
            {"duration_seconds", number_or_null},
            {"collection_name", Json{{"type", "string"}}},
            {"kafka_topic", Json{{"type", "string"}}},
            {"error", Json{{"type", "string"}, {"nullable", true}}},
            {"stop_requested", Json{{"type", "boolean"}}},
            {"records_written", Json{{"type", "integer"}}},
            {"expected_records", Json{{"type", "integer"}, {"nullable", true}}},
            {"progress", Json{{"type", "number"}, {"nullable", true}}}}}};
  s["Event"] = Json{{"type", "object"},
                    {"properties", Json{{"offset", Json{{"type", "integer"}}},
                                        {"queue_id", Json{{"type", "string"}}},
                                        {"producer", Json{{"type", "string"}}},
                                        {"symbol", Json{{"type", "string"}}},
                                        {"type", Json{{"type", "string"}}},
                                        {"status", ref("Status")},
                                        {"message", Json{{"type", "string"}}},
                                        {"records_written", Json{{"type", "integer"}}},
                                        {"finished", Json{{"type", "boolean"}}},
                                        {"timestamp", Json{{"type", "number"}}}}}};
  s["Probe"] = Json{{"type", "object"}, {"properties", Json{{"status", Json{{"type", "string"}}}}}};
  return s;
}

}  // namespace

Json openapi_document(std::string_view version) {
  Json doc = Json::object();
  doc["openapi"] = "3.0.3";
  doc["info"] =
      Json{{"title", "StreamForge Queue Manager"},
           {"version", std::string(version)},
           {"description",
            "Starts, stops and tracks StreamForge workflows; compatible with the original Python "
            "queue-manager's routes and response envelopes. Errors: 400 invalid request (the message "
            "names the field), 404 unknown workflow or collection, 405 wrong method, 409 already "
            "finished."}};
  Json paths = Json::object();

  paths["/"]["get"] = operation("Service name, version and routes", "meta",
                                Json{{"200", success("The service", Json{{"type", "object"}})}});

  Json start = operation("Start a workflow", "queues",
                         Json{{"200", success("Started", ref("Workflow"))},
                              {"400", error("Invalid request; the message names the field")}});
  start["requestBody"] = Json{{"required", true}, {"content", json_content(ref("StartRequest"))}};
  paths["/queues/start"]["post"] = std::move(start);

  Json stop = operation(
      "Stop a workflow", "queues",
      Json{{"200", success("Stop requested; the services report `stopped`", ref("Workflow"))},
           {"400", error("queue_id missing")},
           {"404", error("Unknown workflow")},
           {"409", error("Already finished")}},
      Json::array(
          {param("queue_id", "query", "Workflow id (or give it in a JSON body {\"queue_id\": ...})")}));
  stop["requestBody"] =
      Json{{"required", false},
           {"content", json_content(Json{{"type", "object"},
                                         {"additionalProperties", false},
                                         {"properties", Json{{"queue_id", Json{{"type", "string"}}}}}})}};
  paths["/queues/stop"]["post"] = std::move(stop);

  paths["/queues/{queue_id}/stop"]["post"] =
      operation("Stop a workflow", "queues",
                Json{{"200", success("Stop requested", ref("Workflow"))},
                     {"404", error("Unknown workflow")},
                     {"409", error("Already finished")}},
                Json::array({queue_id_param()}));

  paths["/queues"]["get"] = operation(
      "List workflows, newest first", "queues",
      Json{{"200", success("Workflows", Json{{"type", "array"}, {"items", ref("Workflow")}})},
           {"400", error("Bad status or limit")}},
      Json::array(
          {param("status", "query", "Only workflows with this status"),
           param("limit", "query", "At most this many", false, Json{{"type", "integer"}, {"minimum", 0}})}));

  paths["/queues/{queue_id}"]["get"] =
      operation("A workflow: status, each service's progress, records written, timings", "queues",
                Json{{"200", success("The workflow", ref("Workflow"))}, {"404", error("Unknown workflow")}},
                Json::array({queue_id_param()}));

  paths["/queues/{queue_id}/events"]["get"] =
      operation("A workflow's queue-events, in order", "queues",
                Json{{"200", success("Events", Json{{"type", "array"}, {"items", ref("Event")}})},
                     {"404", error("Unknown workflow")}},
                Json::array({queue_id_param()}));

  paths["/collections"]["get"] = operation(
      "Stored collections with their document counts", "collections",
      Json{{"200",
            success("Collections",
                    Json{{"type", "array"},
                         {"items", Json{{"type", "object"},
                                        {"properties", Json{{"name", Json{{"type", "string"}}},
                                                            {"count", Json{{"type", "integer"}}}}}}}})}});

  Json count_params = bounds_params();
  count_params.insert(count_params.begin(), param("name", "path", "Collection name", true));
  paths["/collections/{name}/count"]["get"] = operation(
      "Count a collection's documents within bounds", "collections",
      Json{{"200", success("The count", Json{{"type", "object"},
                                             {"properties", Json{{"collection", Json{{"type", "string"}}},
                                                                 {"count", Json{{"type", "integer"}}}}}})},
           {"400", error("Bad bounds")},
           {"404", error("Unknown collection")}},
      std::move(count_params));

  Json doc_params = bounds_params();
  doc_params.insert(doc_params.begin(), param("name", "path", "Collection name", true));
  doc_params.push_back(
      param("after", "query", "Resume after this key (the X-Next-After of the previous page)"));
  doc_params.push_back(param("limit", "query", "At most this many documents", false,
                             Json{{"type", "integer"}, {"minimum", 0}}));
  doc_params.push_back(param("format", "query", "jsonl (default) or csv", false,
                             Json{{"type", "string"}, {"enum", Json::array({"jsonl", "csv"})}}));
  Json documents_ok = Json::object();
  documents_ok["description"] =
      "Documents in key order (candles: open time). When the page size cut the answer, the X-Next-After "
      "header "
      "holds the key to pass as `after` for the next page.";
  documents_ok["headers"] = Json{{"X-Next-After", Json{{"schema", Json{{"type", "string"}}}}},
                                 {"X-Document-Count", Json{{"schema", Json{{"type", "integer"}}}}}};
  documents_ok["content"] = Json{{"application/x-ndjson", Json{{"schema", Json{{"type", "string"}}}}},
                                 {"text/csv", Json{{"schema", Json{{"type", "string"}}}}}};
  paths["/collections/{name}/documents"]["get"] =
      operation("A collection's documents within bounds, as JSON lines or CSV", "collections",
                Json{{"200", std::move(documents_ok)},
                     {"400", error("Bad bounds or format")},
                     {"404", error("Unknown collection")}},
                std::move(doc_params));

  auto probe = [](std::string_view summary, bool can_fail) {
    Json responses = Json{{"200", Json{{"description", "OK"}, {"content", json_content(ref("Probe"))}}}};
    if (can_fail)
      responses["503"] = Json{{"description", "Shutting down"}, {"content", json_content(ref("Probe"))}};
    return operation(summary, "health", std::move(responses));
  };
  paths["/health/live"]["get"] = probe("Liveness probe", false);
  paths["/health/ready"]["get"] = probe("Readiness probe", true);
  paths["/health/startup"]["get"] = probe("Startup probe", false);

  paths["/metrics"]["get"] = operation(
      "Prometheus metrics", "meta",
      Json{{"200", Json{{"description", "Prometheus text format 0.0.4"},
                        {"content",
                         Json{{"text/plain; version=0.0.4", Json{{"schema", Json{{"type", "string"}}}}}}}}}});
  paths["/openapi.json"]["get"] =
      operation("This document", "meta",
                Json{{"200", Json{{"description", "OpenAPI 3 document"},
                                  {"content", json_content(Json{{"type", "object"}})}}}});

  Json ws = operation(
      "WebSocket: workflow changes and heartbeats", "queues",
      Json{{"101",
            Json{{"description",
                  "Switching protocols. Text messages, each a JSON object with `type`: `connected` (once), "
                  "`workflow` (after every change of a workflow: queue_id, status, records_written, "
                  "message, timestamp, data = the workflow), `heartbeat` (every heartbeat interval). Send "
                  "`ping` to get `{\"type\":\"pong\"}`."}}},
           {"426", Json{{"description", "Upgrade required (a plain GET)"}}}},
      Json::array({param("queue_id", "query", "Only this workflow's changes")}));
  ws["x-websocket"] = true;
  paths["/ws/topic"]["get"] = std::move(ws);

  doc["paths"] = std::move(paths);
  doc["components"] = Json{{"schemas", schemas()}};
  return doc;
}

}  // namespace sf::services
