// The queue-manager's REST API (`streamforge serve`): the original StreamForge queue-manager's routes and
// response shapes over the QueueManager, plus collection queries, health, metrics, OpenAPI and WebSocket
// push.
//
// Routes (every JSON answer is {"status":"success","message":..,"data":..} or
// {"status":"error","message":..}):
//   POST /queues/start               body: the original API's full form or the short form (start_request.h)
//   POST /queues/stop?queue_id=ID    (or a JSON body {"queue_id":ID}); POST /queues/{queue_id}/stop
//   GET  /queues                     every workflow, newest first (?status=, ?limit=)
//   GET  /queues/{queue_id}          status, each service's progress, records written, timings
//   GET  /queues/{queue_id}/events   the workflow's queue-events, in order
//   GET  /collections                collections with document counts
//   GET  /collections/{name}/count   ?from=&to= (times) or ?from_key=&to_key=
//   GET  /collections/{name}/documents  ?from=&to=&from_key=&to_key=&after=&limit=&format=jsonl|csv
//   GET  /health/live|ready|startup  probes ({"status":"live"} ...; ready is 503 while shutting down)
//   GET  /metrics                    Prometheus text (version 0.0.4)
//   GET  /openapi.json               OpenAPI 3 description of all of this
//   WS   /ws/topic                   JSON pushes: every workflow change, and a heartbeat (?queue_id= filters)
// Errors: the Status code through http_status_for (invalid -> 400 naming the field, unknown id -> 404,
// already finished -> 409); wrong method 405 with Allow; unknown path 404.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "net/http_server.h"
#include "services/manager/queue_manager.h"
#include "store/store.h"

namespace sf::services {

struct HttpApiOptions {
  std::chrono::milliseconds heartbeat_interval{10'000};  // /ws/topic heartbeat period; default 10 s
  // Start-request fields accepted beside the original API's (top level and per service), passed on in the
  // start commands' extra fields. Empty by default: the original API forbids unknown fields. Test hooks.
  std::vector<std::string> extra_fields;
  size_t max_page_documents = 10'000;        // documents in one answer of .../documents; more -> X-Next-After
  size_t state_cache_entries = 10'000;       // GET /queues/{id} answers kept ready (dropped wholesale beyond)
  std::string version = "dev";               // reported by GET / and /openapi.json
  std::shared_ptr<MetricsRegistry> metrics;  // rendered by /metrics; request metrics go here; null = own one
};

// One route as registered (and as /openapi.json lists it).
struct ApiRoute {
  std::string method;   // "GET", "POST", or "WS" for the WebSocket route
  std::string pattern;  // "/queues/{queue_id}"
  std::string summary;
};

// Thread-safety: handlers run concurrently on the server's threads; everything here is safe for that.
// Lifetime: `manager` and `store` must outlive the HttpApi; stop the HttpServer it is attached to before
// destroying it (handlers capture it).
class HttpApi {
 public:
  HttpApi(QueueManager& manager, store::Store& store, HttpApiOptions options = {});
  ~HttpApi();  // unsubscribes from the manager and stops the heartbeat thread
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Registers every route on `server` (before its listen()) and starts the WebSocket heartbeat.
  void attach(net::HttpServer& server);

  // Readiness as /health/ready reports it; set false when shutting down.
  void set_ready(bool ready);

  // Every route, in registration order.
  static const std::vector<ApiRoute>& routes();

  // The OpenAPI 3 document served at /openapi.json.
  std::string openapi_json() const;

  // WebSocket clients connected now.
  size_t websocket_clients() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the manager listener, which may outlive unsubscribe briefly
};

// The body of POST /queues/start as the original API takes it: a JSON object with only known fields — top
// level symbol, type, time_range, microservices ("requests", the original docs' name, is accepted for it);
// per service the original MicroserviceConfig's target, type, image, collection_name, collection_inputs,
// collection_output, model_output, graph_collection, inference_interval, source, interval — plus
// `extra_fields` at both levels. InvalidArgument naming the field.
Result<StartRequest> parse_api_start_request(std::string_view body,
                                             const std::vector<std::string>& extra_fields = {});

// The JSON the API gives for a workflow: WorkflowState::to_json() with `id` (the original API's name for
// queue_id), `expected_records` (candles over a closed range; else null) and `progress` (0..1 or null) for
// the workflow and each service.
protocol::Json workflow_view(const WorkflowState& state);

}  // namespace sf::services
