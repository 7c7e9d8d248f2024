// The queue-manager REST API: routes and handlers, request validation, request metrics, the ready-made
// answers of GET /queues/{id}, and the /ws/topic push.
#include "services/manager/http_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>
#include <unordered_map>

#include "protocol/event_message.h"
#include "services/manager/collection_query.h"
#include "services/manager/document_format.h"
#include "services/manager/openapi.h"
#include "services/manager/synthetic_loader.h"

namespace sf::services {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using protocol::Json;

constexpr const char* kJsonType = "application/json";
constexpr const char* kMetricsType = "text/plain; version=0.0.4";

enum class RouteId {
  kIndex,
  kStart,
  kStop,
  kStopById,
  kList,
  kGet,
  kEvents,
  kCollections,
  kCount,
  kDocuments,
  kLive,
  kReady,
  kStartup,
  kMetrics,
  kOpenApi,
  kTopic,
};

struct RouteDef {
  RouteId id;
  const char* method;  // "WS" for the WebSocket route
  const char* pattern;
  const char* summary;
};

constexpr RouteDef kRouteDefs[] = {
    {RouteId::kIndex, "GET", "/", "Service name, version, and where the API is described"},
    {RouteId::kStart, "POST", "/queues/start",
     "Start a workflow (the original full form, or the short form)"},
    {RouteId::kStop, "POST", "/queues/stop",
     "Stop a workflow (queue_id as a query parameter or in a JSON body)"},
    {RouteId::kStopById, "POST", "/queues/{queue_id}/stop", "Stop a workflow"},
    {RouteId::kList, "GET", "/queues", "List workflows, newest first"},
    {RouteId::kGet, "GET", "/queues/{queue_id}",
     "A workflow: status, each service's progress, records, timings"},
    {RouteId::kEvents, "GET", "/queues/{queue_id}/events", "A workflow's queue-events, in order"},
    {RouteId::kCollections, "GET", "/collections", "Stored collections with their document counts"},
    {RouteId::kCount, "GET", "/collections/{name}/count", "Count a collection's documents within bounds"},
    {RouteId::kDocuments, "GET", "/collections/{name}/documents",
     "A collection's documents within bounds, as JSON lines or CSV, in pages"},
    {RouteId::kLive, "GET", "/health/live", "Liveness probe"},
    {RouteId::kReady, "GET", "/health/ready", "Readiness probe (503 while shutting down)"},
    {RouteId::kStartup, "GET", "/health/startup", "Startup probe"},
    {RouteId::kMetrics, "GET", "/metrics", "Prometheus metrics (text format 0.0.4)"},
    {RouteId::kOpenApi, "GET", "/openapi.json", "This API's OpenAPI 3 description"},
    {RouteId::kTopic, "WS", "/ws/topic", "WebSocket: every workflow change and a heartbeat, as JSON"},
};
constexpr size_t kRouteCount = std::size(kRouteDefs);

constexpr size_t route_index(RouteId id) {
  for (size_t i = 0; i < kRouteCount; ++i) {
    if (kRouteDefs[i].id == id) return i;
  }
  return kRouteCount;
}

// Fields of the original API's QueueStartRequest and MicroserviceConfig (extra = "forbid" there too).
constexpr std::array<const char*, 5> kTopLevelFields = {"symbol", "type", "time_range", "microservices",
                                                        "requests"};
constexpr std::array<const char*, 11> kServiceFields = {"target",
                                                        "type",
                                                        "image",
                                                        "collection_name",
                                                        "collection_inputs",
                                                        "collection_output",
                                                        "model_output",
                                                        "graph_collection",
                                                        "inference_interval",
                                                        "source",
                                                        "interval"};

// Parameters of graph_build and gnn_train (analytics/graph/graph.h, analytics/gnn/gnn.h), accepted at
// both levels; their values are checked by plan_workflow().
constexpr std::array<const char*, 26> kAnalyticsFields = {
    "symbols",       "window",     "step",        "horizon",      "top_k",          "threshold",
    "min_coverage",  "graph_id",   "model",       "compare",      "task",           "hidden",
    "layers",        "dropout",    "learning_rate", "weight_decay", "epochs",        "patience",
    "batch_snapshots", "train_fraction", "val_fraction", "seed",   "threads",        "model_id",
    "artifacts",     "interval"};

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json envelope(std::string_view message, Json data) {
  Json j = Json::object();
  j["status"] = "success";
  j["message"] = message;
  j["data"] = std::move(data);
  return j;
}

void reply(HttpResponse& res, int status, const Json& body) {
  res.set(status, kJsonType, dump(body));
}

void reply_error(HttpResponse& res, int status, std::string_view message) {
  Json j = Json::object();
  j["status"] = "error";
  j["message"] = message;
  reply(res, status, j);
}

void reply_status(HttpResponse& res, const Status& status) {
  reply_error(res, http_status_for(status.code()), status.message());
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool pattern_matches(std::string_view pattern, const std::vector<std::string_view>& parts) {
  auto segments = split_path(pattern);
  if (segments.size() != parts.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!segments[i].empty() && segments[i].front() == '{') continue;
    if (segments[i] != parts[i]) return false;
  }
  return true;
}

Result<std::string> required_string(const Json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return Status::invalid_argument(fmt::format("field '{}' is missing", name));
  if (!it->is_string()) {
    return Status::invalid_argument(
        fmt::format("field '{}' must be a string, got {}", name, it->type_name()));
  }
  if (it->get<std::string>().empty())
    return Status::invalid_argument(fmt::format("field '{}' is empty", name));
  return it->get<std::string>();
}

Result<std::optional<int64_t>> query_int(const HttpRequest& req, std::string_view name, int64_t min) {
  auto text = req.query_param(name);
  if (!text) return std::optional<int64_t>{};
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min) {
    return Status::invalid_argument(
        fmt::format("query parameter '{}' must be an integer >= {}, got '{}'", name, min, *text));
  }
  return std::optional<int64_t>{value};
}

Result<std::optional<TimestampMs>> query_time(const HttpRequest& req, std::string_view name) {
  auto text = req.query_param(name);
  if (!text || text->empty()) return std::optional<TimestampMs>{};
  auto t = parse_utc_time(*text);
  if (!t)
    return Status::invalid_argument(fmt::format("query parameter '{}': {}", name, t.status().message()));
  return std::optional<TimestampMs>{*t};
}

std::optional<std::string> query_string(const HttpRequest& req, std::string_view name) {
  auto text = req.query_param(name);
  if (!text || text->empty()) return std::nullopt;
  return std::string(*text);
}

Result<DocumentQuery> document_query(const HttpRequest& req) {
  DocumentQuery q;
  auto from = query_time(req, "from");
  if (!from) return from.status();
  auto to = query_time(req, "to");
  if (!to) return to.status();
  q.from_ms = *from;
  q.to_ms = *to;
  q.from_key = query_string(req, "from_key");
  q.to_key = query_string(req, "to_key");
  q.after = query_string(req, "after");
  auto limit = query_int(req, "limit", 0);
  if (!limit) return limit.status();
  q.limit = static_cast<size_t>(limit->value_or(0));
  return q;
}

Json event_view(const StoredEvent& stored) {
  Json out = Json::object();
  out["offset"] = stored.offset;
  Json event = protocol::to_json(stored.event);
  for (auto it = event.begin(); it != event.end(); ++it) out[it.key()] = it.value();
  return out;
}

Json progress_of(int64_t records, const std::optional<int64_t>& expected, bool completed) {
  if (completed) return 1.0;
  if (!expected || *expected <= 0) return nullptr;
  return std::min(1.0, static_cast<double>(records) / static_cast<double>(*expected));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

Result<StartRequest> parse_api_start_request(std::string_view body,
                                             const std::vector<std::string>& extra_fields) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::invalid_argument("request body is empty; expected a JSON object");
  }
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::invalid_argument("request body is not valid JSON");
  if (!json.is_object()) {
    return Status::invalid_argument(
        fmt::format("request body must be a JSON object, got {}", json.type_name()));
  }
  auto allowed = [&](std::string_view name, const auto& known) {
    return std::find(known.begin(), known.end(), name) != known.end() ||
           std::find(kAnalyticsFields.begin(), kAnalyticsFields.end(), name) != kAnalyticsFields.end() ||
           std::find(extra_fields.begin(), extra_fields.end(), name) != extra_fields.end();
  };
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (!allowed(it.key(), kTopLevelFields)) {
      return Status::invalid_argument(
          fmt::format("field '{}' is not allowed (accepted: symbol, type, time_range, microservices and the "
                      "graph_build / gnn_train parameters)",
                      it.key()));
    }
  }
  if (json.contains("requests")) {
    if (json.contains("microservices")) {
      return Status::invalid_argument(
          "field 'requests' is another name of 'microservices': send one of them");
    }
    json["microservices"] = std::move(json["requests"]);
    json.erase("requests");
  }
  if (auto services = json.find("microservices"); services != json.end() && services->is_array()) {
    for (size_t i = 0; i < services->size(); ++i) {
      const Json& service = (*services)[i];
      if (!service.is_object()) continue;  // start_request_from_json names the type error
      for (auto it = service.begin(); it != service.end(); ++it) {
        if (!allowed(it.key(), kServiceFields)) {
          return Status::invalid_argument(
              fmt::format("field 'microservices[{}].{}' is not allowed (accepted: target, type, image, "
                          "collection_name, collection_inputs, collection_output, model_output, "
                          "graph_collection, inference_interval, source, interval)",
                          i, it.key()));
        }
      }
    }
  }
  return start_request_from_json(json);
}

Json workflow_view(const WorkflowState& state) {
  Json body = state.to_json();
  Json out = Json::object();
  out["queue_id"] = state.queue_id;
  out["id"] = state.queue_id;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "queue_id") out[it.key()] = it.value();
  }
  const auto expected = expected_records(state.type, state.time_range);
  out["expected_records"] = expected ? Json(*expected) : Json(nullptr);
  out["progress"] =
      progress_of(state.records_written, expected, state.status == protocol::WorkflowStatus::kCompleted);
  for (size_t i = 0; i < state.services.size() && i < out["services"].size(); ++i) {
    const ServiceState& s = state.services[i];
    const auto own = s.type == state.type ? expected : expected_records(s.type, state.time_range);
    out["services"][i]["progress"] =
        progress_of(s.records_written, own, s.status == protocol::WorkflowStatus::kCompleted);
  }
  return out;
}

const std::vector<ApiRoute>& HttpApi::routes() {
  static const std::vector<ApiRoute> list = [] {
    std::vector<ApiRoute> out;
    for (const auto& def : kRouteDefs) out.push_back({def.method, def.pattern, def.summary});
    return out;
  }();
  return list;
}

// ---------------------------------------------------------------------------------------------------------

struct HttpApi::Impl {
  QueueManager& manager;
  store::Store& store;
  HttpApiOptions options;
  std::atomic<bool> ready{true};
  uint64_t listener_token = 0;

  // Request metrics: per route, a latency histogram and a counter per status (created on first use).
  struct RouteMetrics {
    std::string method;
    std::string route;
    prometheus::Histogram* latency = nullptr;
    std::mutex mu;
    std::map<int, prometheus::Counter*> by_status;  // guarded by mu
  };
  std::shared_ptr<MetricsRegistry> metrics;
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Gauge* ws_clients_gauge = nullptr;
  std::array<RouteMetrics, kRouteCount + 1> route_metrics;  // the last: requests no route matched

  // Ready answers of GET /queues/{id}, refreshed on every change the manager reports.
  struct Cached {
    double updated_at = 0;
    std::shared_ptr<const std::string> body;
  };
  std::mutex cache_mu;
  std::unordered_map<std::string, Cached> cache;  // guarded by cache_mu

  // /ws/topic clients.
  struct Client {
    std::weak_ptr<net::WebSocketConnection> connection;
    std::string queue_id;  // only this workflow's changes; empty = all
  };
  mutable std::mutex ws_mu;
  std::map<uint64_t, Client> clients;  // guarded by ws_mu
  uint64_t next_client = 1;
  std::jthread heartbeat;

  Impl(QueueManager& m, store::Store& s, HttpApiOptions o) : manager(m), store(s), options(std::move(o)) {
    metrics = options.metrics ? options.metrics : make_metrics_registry();
    requests = &prometheus::BuildCounter()
                    .Name("streamforge_api_requests_total")
                    .Help("REST API requests by method, route and HTTP status")
                    .Register(*metrics);
    auto& latency = prometheus::BuildHistogram()
                        .Name("streamforge_api_request_duration_seconds")
                        .Help("REST API request handling time by method and route")
                        .Register(*metrics);
    ws_clients_gauge = &prometheus::BuildGauge()
                            .Name("streamforge_api_websocket_clients")
                            .Help("Clients connected to /ws/topic")
                            .Register(*metrics)
                            .Add({});
    const prometheus::Histogram::BucketBoundaries buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                             0.01,   0.025,   0.05,   0.1,   0.25,   1.0};
    for (size_t i = 0; i <= kRouteCount; ++i) {
      RouteMetrics& m = route_metrics[i];
      m.method = i < kRouteCount
                     ? (std::string_view(kRouteDefs[i].method) == "WS" ? "GET" : kRouteDefs[i].method)
                     : "any";
      m.route = i < kRouteCount ? kRouteDefs[i].pattern : "unmatched";
      m.latency = &latency.Add({{"method", m.method}, {"route", m.route}}, buckets);
    }
  }

  ~Impl() {
    heartbeat.request_stop();
    if (heartbeat.joinable()) heartbeat.join();
  }

  void record(size_t route, int status, std::chrono::steady_clock::duration elapsed) {
    RouteMetrics& m = route_metrics[route];
    m.latency->Observe(std::chrono::duration<double>(elapsed).count());
    prometheus::Counter* counter = nullptr;
    {
      std::lock_guard lock(m.mu);
      auto it = m.by_status.find(status);
      if (it == m.by_status.end()) {
        it = m.by_status
                 .emplace(status,
                          &requests->Add(
                              {{"method", m.method}, {"route", m.route}, {"status", std::to_string(status)}}))
                 .first;
      }
      counter = it->second;
    }
    counter->Increment();
  }

  // --- the GET /queues/{id} answers
  // -------------------------------------------------------------------------

  static std::shared_ptr<const std::string> render_state(const WorkflowState& w) {
    return std::make_shared<const std::string>(dump(envelope("Queue status", workflow_view(w))));
  }

  void remember(const WorkflowState& w, std::shared_ptr<const std::string> body, bool overwrite) {
    std::lock_guard lock(cache_mu);
    if (cache.size() >= std::max<size_t>(options.state_cache_entries, 1) && !cache.count(w.queue_id))
      cache.clear();
    Cached& entry = cache[w.queue_id];
    if (!entry.body || (overwrite && w.updated_at >= entry.updated_at))
      entry = {w.updated_at, std::move(body)};
  }

  std::shared_ptr<const std::string> cached(std::string_view queue_id) {
    std::lock_guard lock(cache_mu);
    auto it = cache.find(std::string(queue_id));
    return it == cache.end() ? nullptr : it->second.body;
  }

  // Called by the manager after every change of a workflow.
  void on_change(const WorkflowState& w) {
    Json view = workflow_view(w);
    remember(w, std::make_shared<const std::string>(dump(envelope("Queue status", view))),
             /*overwrite=*/true);
    if (websocket_clients() == 0) return;
    Json message = Json::object();
    message["type"] = "workflow";
    message["queue_id"] = w.queue_id;
    message["status"] = protocol::status_name(w.status);
    message["records_written"] = w.records_written;
    message["message"] = fmt::format("Queue {} -> {} ({} records)", w.queue_id,
                                     protocol::status_name(w.status), w.records_written);
    message["timestamp"] = epoch_seconds_now();
    message["data"] = std::move(view);
    broadcast(dump(message), &w.queue_id);
  }

  // --- WebSocket
  // ---------------------------------------------------------------------------------------------

  size_t websocket_clients() const {
    std::lock_guard lock(ws_mu);
    return clients.size();
  }

  // Sends to every client, or to those following `queue_id` (and those following everything).
  void broadcast(const std::string& text, const std::string* queue_id) {
    std::vector<std::shared_ptr<net::WebSocketConnection>> targets;
    {
      std::lock_guard lock(ws_mu);
      for (auto it = clients.begin(); it != clients.end();) {
        auto connection = it->second.connection.lock();
        if (!connection) {
          it = clients.erase(it);
          continue;
        }
        if (!queue_id || it->second.queue_id.empty() || it->second.queue_id == *queue_id)
          targets.push_back(std::move(connection));
        ++it;
      }
    }
    for (auto& connection : targets) {
      if (connection->is_open()) connection->send_text(text);
    }
  }

  void open_websocket(const HttpRequest& req, const std::shared_ptr<net::WebSocketConnection>& connection) {
    const auto start = std::chrono::steady_clock::now();
    std::string filter(req.query_param("queue_id").value_or(""));
    uint64_t id = 0;
    {
      std::lock_guard lock(ws_mu);
      id = next_client++;
      clients[id] = {connection, filter};
    }
    connection->on_message([](net::WebSocketConnection& c, std::string_view message, bool) {
      if (message == "ping") c.send_text(R"({"type":"pong"})");
    });
    connection->on_close([this, id](net::WebSocketConnection&) {
      std::lock_guard lock(ws_mu);
      clients.erase(id);
    });
    Json hello = Json::object();
    hello["type"] = "connected";
    hello["message"] = "WebSocket connected";
    hello["queue_id"] = filter.empty() ? Json(nullptr) : Json(filter);
    hello["heartbeat_seconds"] = std::chrono::duration<double>(options.heartbeat_interval).count();
    hello["timestamp"] = epoch_seconds_now();
    connection->send_text(dump(hello));
    record(route_index(RouteId::kTopic), 101, std::chrono::steady_clock::now() - start);
  }

  void start_heartbeat() {
    if (options.heartbeat_interval.count() <= 0) return;
    heartbeat = std::jthread([this](std::stop_token stop) {
      std::mutex mu;
      std::condition_variable_any wake;
      std::unique_lock lock(mu);
      while (!stop.stop_requested()) {
        if (wake.wait_for(lock, stop, options.heartbeat_interval, [] { return false; })) break;
        if (stop.stop_requested()) break;
        Json beat = Json::object();
        beat["type"] = "heartbeat";
        beat["timestamp"] = epoch_seconds_now();
        broadcast(dump(beat), nullptr);
      }
    });
  }

  // --- handlers
  // ----------------------------------------------------------------------------------------------

  void handle(size_t route, const HttpRequest& req, HttpResponse& res) {
    const auto start = std::chrono::steady_clock::now();
    try {
      dispatch(kRouteDefs[route].id, req, res);
    } catch (const std::exception& e) {
      spdlog::error("api: {} {} failed: {}", req.method, req.target, e.what());
      reply_error(res, 500, fmt::format("internal error: {}", e.what()));
    }
    record(route, res.status, std::chrono::steady_clock::now() - start);
  }

  void dispatch(RouteId id, const HttpRequest& req, HttpResponse& res) {
    switch (id) {
      case RouteId::kIndex:
        return index(res);
      case RouteId::kStart:
        return start(req, res);
      case RouteId::kStop:
      case RouteId::kStopById:
        return stop(id, req, res);
      case RouteId::kList:
        return list(req, res);
      case RouteId::kGet:
        return get(req, res);
      case RouteId::kEvents:
        return events(req, res);
      case RouteId::kCollections:
        return collections(res);
      case RouteId::kCount:
        return count(req, res);
      case RouteId::kDocuments:
        return documents(req, res);
      case RouteId::kLive:
        return reply(res, 200, Json{{"status", "live"}});
      case RouteId::kReady:
        if (ready.load()) return reply(res, 200, Json{{"status", "ready"}});
        return reply(res, 503, Json{{"status", "not ready"}, {"message", "shutting down"}});
      case RouteId::kStartup:
        return reply(res, 200, Json{{"status", "started"}});
      case RouteId::kMetrics:
        ws_clients_gauge->Set(static_cast<double>(websocket_clients()));
        return res.set(200, kMetricsType, render_metrics(*metrics));
      case RouteId::kOpenApi:
        return res.set(200, kJsonType, dump(openapi_document(options.version)));
      case RouteId::kTopic:
        break;
    }
    reply_error(res, 500, "internal error: unrouted request");
  }

  void index(HttpResponse& res) {
    Json routes = Json::array();
    for (const auto& def : kRouteDefs) {
      routes.push_back(Json{{"method", def.method}, {"path", def.pattern}, {"summary", def.summary}});
    }
    Json data = Json::object();
    data["service"] = "queue-manager";
    data["version"] = options.version;
    data["openapi"] = "/openapi.json";
    data["routes"] = std::move(routes);
    reply(res, 200, envelope("StreamForge queue-manager", std::move(data)));
  }

  void start(const HttpRequest& req, HttpResponse& res) {
    auto request = parse_api_start_request(req.body, options.extra_fields);
    if (!request) return reply_status(res, request.status());
    auto started = manager.start(*request);
    if (!started) return reply_status(res, started.status());
    reply(res, 200, envelope("Queue started", workflow_view(*started)));
  }

  void stop(RouteId id, const HttpRequest& req, HttpResponse& res) {
    std::string queue_id;
    if (id == RouteId::kStopById) {
      queue_id = std::string(req.path_param("queue_id").value_or(""));
    } else if (auto param = req.query_param("queue_id"); param && !param->empty()) {
      queue_id = std::string(*param);
    } else if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      Json body = Json::parse(req.body, nullptr, false);
      if (body.is_discarded()) return reply_error(res, 400, "request body is not valid JSON");
      if (!body.is_object()) {
        return reply_error(res, 400,
                           fmt::format("request body must be a JSON object, got {}", body.type_name()));
      }
      for (auto it = body.begin(); it != body.end(); ++it) {
        if (it.key() != "queue_id") {
          return reply_error(res, 400,
                             fmt::format("field '{}' is not allowed (accepted: queue_id)", it.key()));
        }
      }
      auto text = required_string(body, "queue_id");
      if (!text) return reply_status(res, text.status());
      queue_id = *text;
    } else {
      return reply_error(res, 400,
                         "field 'queue_id' is missing (give it as a query parameter or in a JSON body)");
    }
    auto stopped = manager.stop(queue_id);
    if (!stopped) return reply_status(res, stopped.status());
    reply(res, 200, envelope("Queue stopped", workflow_view(*stopped)));
  }

  void list(const HttpRequest& req, HttpResponse& res) {
    std::optional<protocol::WorkflowStatus> status;
    if (auto text = req.query_param("status"); text && !text->empty()) {
      auto parsed = protocol::parse_workflow_status(*text);
      if (!parsed) {
        return reply_error(res, 400, fmt::format("query parameter 'status': {}", parsed.status().message()));
      }
      status = *parsed;
    }
    auto limit = query_int(req, "limit", 0);
    if (!limit) return reply_status(res, limit.status());
    auto all = manager.list();
    if (!all) return reply_status(res, all.status());
    Json data = Json::array();
    for (const auto& w : *all) {
      if (status && w.status != *status) continue;
      if (*limit && **limit > 0 && data.size() >= static_cast<size_t>(**limit)) break;
      data.push_back(workflow_view(w));
    }
    reply(res, 200, envelope("Queues fetched", std::move(data)));
  }

  void get(const HttpRequest& req, HttpResponse& res) {
    const std::string_view queue_id = req.path_param("queue_id").value_or("");
    std::shared_ptr<const std::string> body = cached(queue_id);
    if (!body) {
      auto state = manager.get(queue_id);
      if (!state) return reply_status(res, state.status());
      body = render_state(*state);
      remember(*state, body, /*overwrite=*/false);
    }
    res.set(200, kJsonType, *body);
  }

  void events(const HttpRequest& req, HttpResponse& res) {
    auto events = manager.events(req.path_param("queue_id").value_or(""));
    if (!events) return reply_status(res, events.status());
    Json data = Json::array();
    for (const auto& e : *events) data.push_back(event_view(e));
    reply(res, 200, envelope("Queue events", std::move(data)));
  }

  void collections(HttpResponse& res) {
    auto list = store.list_collections();
    if (!list) return reply_status(res, list.status());
    Json data = Json::array();
    for (const auto& c : *list) data.push_back(Json{{"name", c.name}, {"count", c.count}});
    reply(res, 200, envelope("Collections fetched", std::move(data)));
  }

  void count(const HttpRequest& req, HttpResponse& res) {
    const std::string name(req.path_param("name").value_or(""));
    auto query = document_query(req);
    if (!query) return reply_status(res, query.status());
    auto n = count_documents(store, name, *query);
    if (!n) return reply_status(res, n.status());
    reply(res, 200, envelope("Collection count", Json{{"collection", name}, {"count", *n}}));
  }

  void documents(const HttpRequest& req, HttpResponse& res) {
    const std::string name(req.path_param("name").value_or(""));
    auto query = document_query(req);
    if (!query) return reply_status(res, query.status());
    const std::string format(req.query_param("format").value_or("jsonl"));
    if (format != "jsonl" && format != "csv") {
      return reply_error(res, 400,
                         fmt::format("query parameter 'format' must be jsonl or csv, not '{}'", format));
    }
    auto page = query_documents(store, name, *query, options.max_page_documents);
    if (!page) return reply_status(res, page.status());
    std::string body;
    if (format == "csv") {
      CsvWriter csv;
      std::string rows;
      for (const auto& doc : page->documents) {
        if (Status added = csv.add(doc, rows); !added)
          return reply_status(res, Status::corruption(added.message()));
      }
      // A page after the first carries no header (its client already has one).
      if (query->after && !rows.empty()) rows.erase(0, rows.find('\n') + 1);
      body = std::move(rows);
      res.set(200, "text/csv; charset=utf-8", std::move(body));
    } else {
      size_t bytes = 0;
      for (const auto& doc : page->documents) bytes += doc.size() + 1;
      body.reserve(bytes);
      for (const auto& doc : page->documents) {
        body += doc;
        body += '\n';
      }
      res.set(200, "application/x-ndjson", std::move(body));
    }
    res.headers.set("X-Document-Count", std::to_string(page->documents.size()));
    if (page->next_after) res.headers.set("X-Next-After", *page->next_after);
  }

  // 404 for a path no route has; 405 (with Allow) for a path that exists with other methods.
  void unmatched(const HttpRequest& req, net::Responder responder) {
    const auto start = std::chrono::steady_clock::now();
    const auto parts = split_path(req.path);
    std::string allow;
    for (const auto& def : kRouteDefs) {
      if (!pattern_matches(def.pattern, parts)) continue;
      std::string_view method = std::string_view(def.method) == "WS" ? "GET" : def.method;
      if (allow.find(method) != std::string::npos) continue;
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    HttpResponse res;
    if (!allow.empty()) {
      reply_error(res, 405,
                  fmt::format("method {} is not allowed on {} (allowed: {})", req.method, req.path, allow));
      res.headers.set("Allow", allow);
    } else {
      reply_error(res, 404, fmt::format("no route for {} {}", req.method, req.path));
    }
    record(kRouteCount, res.status, std::chrono::steady_clock::now() - start);
    responder.send(std::move(res));
  }
};

// ---------------------------------------------------------------------------------------------------------

HttpApi::HttpApi(QueueManager& manager, store::Store& store, HttpApiOptions options)
    : impl_(std::make_shared<Impl>(manager, store, std::move(options))) {
  std::weak_ptr<Impl> weak = impl_;
  impl_->listener_token = manager.subscribe([weak](const WorkflowState& w) {
    if (auto impl = weak.lock()) impl->on_change(w);
  });
}

HttpApi::~HttpApi() {
  impl_->manager.unsubscribe(impl_->listener_token);
}

void HttpApi::attach(net::HttpServer& server) {
  Impl* impl = impl_.get();
  for (size_t i = 0; i < kRouteCount; ++i) {
    const RouteDef& def = kRouteDefs[i];
    if (def.id == RouteId::kTopic) {
      server.websocket(def.pattern,
                       [impl](const HttpRequest& req, std::shared_ptr<net::WebSocketConnection> c) {
                         impl->open_websocket(req, c);
                       });
      continue;
    }
    server.route(def.method, def.pattern,
                 [impl, i](const HttpRequest& req, HttpResponse& res) { impl->handle(i, req, res); });
  }
  server.set_fallback([impl](const HttpRequest& req, net::Responder responder) {
    impl->unmatched(req, std::move(responder));
  });
  impl->start_heartbeat();
}

void HttpApi::set_ready(bool ready) {
  impl_->ready.store(ready);
}

std::string HttpApi::openapi_json() const {
  return dump(openapi_document(impl_->options.version));
}

size_t HttpApi::websocket_clients() const {
  return impl_->websocket_clients();
}

}  // namespace sf::services
