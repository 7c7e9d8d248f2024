// The REST API over a real HttpServer on 127.0.0.1:0, with the embedded bus and store in a temporary
// directory, the real launcher and connector, and a fake loader: workflows start (full and short form) and
// complete with exactly the records published; events, stop, collections, health, metrics, OpenAPI and the
// WebSocket push; every invalid request gets a JSON error naming the field.
#include "services/manager/http_api.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "net/http_client.h"
#include "services/connector/arango_connector_job.h"
#include "services/job/tests/job_test_util.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::Json;
using testing::TestEnv;

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.add(protocol::Worker::kRestLoader, [] { return std::make_unique<testing::FakeLoaderJob>(); });
    registry_.add(protocol::Worker::kConnector, make_arango_connector_job);
  }
  void TearDown() override { close(); }

  void open(HttpApiOptions api_options = {}) {
    JobEnvironment e{env_.bus(), env_.store(), registry_};
    e.settings.poll_interval = 20ms;
    e.telemetry.loading_interval = 20ms;
    e.start_timeout = 5s;
    launcher_ = std::make_unique<InProcessLauncher>(e);
    QueueManagerOptions o;
    o.poll_timeout = 20ms;
    o.metrics = metrics_;
    manager_ = value_or_throw(QueueManager::open(env_.bus(), env_.store(), *launcher_, o));
    api_options.metrics = metrics_;
    api_options.extra_fields = {"fake_records", "fake_delay_ms", "fake_batch"};
    if (api_options.heartbeat_interval == 10s) api_options.heartbeat_interval = 200ms;
    api_ = std::make_unique<HttpApi>(*manager_, env_.store(), api_options);
    server_ = std::make_unique<net::HttpServer>();
    api_->attach(*server_);
    address_ = value_or_throw(server_->listen("127.0.0.1:0"));
    client_ = value_or_throw(net::HttpClient::create("http://" + address_));
  }

  void close() {
    if (server_) server_->stop();
    api_.reset();
    server_.reset();
    manager_.reset();
    launcher_.reset();
  }

  struct Answer {
    int status = 0;
    Json json;
    net::HttpResponse raw;
  };

  Answer call(const std::string& method, const std::string& target, const std::string& body = {}) {
    net::Headers headers;
    if (!body.empty()) headers.set("Content-Type", "application/json");
    auto res = client_->request(method, target, body, headers, 30s);
    EXPECT_TRUE(res) << res.status().to_string();
    Answer a;
    if (!res) return a;
    a.status = res->status;
    a.raw = *res;
    a.json = Json::parse(res->body, nullptr, false);
    return a;
  }

  std::string start_short(const std::string& symbol, int records, const std::string& extra = "") {
    auto a =
        call("POST", "/queues/start",
             fmt::format(R"({{"symbol":"{}","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02",)"
                         R"("fake_records":{}{}}})",
                         symbol, records, extra));
    EXPECT_EQ(a.status, 200) << a.raw.body;
    return a.json.is_object() ? a.json["data"].value("queue_id", "") : "";
  }

  Json wait_finished(const std::string& queue_id, std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Json data;
    while (std::chrono::steady_clock::now() < deadline) {
      auto a = call("GET", "/queues/" + queue_id);
      EXPECT_EQ(a.status, 200) << a.raw.body;
      if (a.status != 200) break;
      data = a.json["data"];
      const std::string status = data.value("status", "");
      if (status == "completed" || status == "error" || status == "stopped") {
        bool all_finished = true;
        for (const auto& s : data["services"]) all_finished &= s.value("finished", false);
        if (all_finished) return data;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "workflow " << queue_id << " did not finish: " << data.dump();
    return data;
  }

  void expect_error(const Answer& a, int status, const std::string& needle) {
    EXPECT_EQ(a.status, status) << a.raw.body;
    ASSERT_TRUE(a.json.is_object()) << a.raw.body;
    EXPECT_EQ(a.json.value("status", ""), "error") << a.raw.body;
    EXPECT_NE(a.json.value("message", "").find(needle), std::string::npos)
        << "message should name '" << needle << "': " << a.raw.body;
    EXPECT_EQ(a.raw.header("Content-Type").value_or(""), "application/json");
  }

  TestEnv env_;
  JobRegistry registry_;
  std::shared_ptr<MetricsRegistry> metrics_ = make_metrics_registry();
  std::unique_ptr<InProcessLauncher> launcher_;
  std::unique_ptr<QueueManager> manager_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<net::HttpServer> server_;
  std::string address_;
  std::unique_ptr<net::HttpClient> client_;
};

const std::regex kQueueIdPattern("^wf-btcusdt-api_candles_5m-20240801-[0-9a-f]{6}$");

TEST_F(HttpApiTest, ShortFormStartsAndCompletesWithEveryRecord) {
  open();
  auto a = call("POST", "/queues/start",
                R"({"symbol":"btcusdt","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02",)"
                R"("fake_records":300})");
  ASSERT_EQ(a.status, 200) << a.raw.body;
  EXPECT_EQ(a.json["status"], "success");
  EXPECT_EQ(a.json["message"], "Queue started");
  const std::string id = a.json["data"]["queue_id"];
  EXPECT_TRUE(std::regex_match(id, kQueueIdPattern)) << id;
  EXPECT_EQ(a.json["data"]["id"], id);
  EXPECT_EQ(a.json["data"]["symbol"], "BTCUSDT");
  EXPECT_EQ(a.json["data"]["collection_name"], "btcusdt_api_candles_5m_2024_08_01");
  EXPECT_EQ(a.json["data"]["kafka_topic"], id + "-data");
  EXPECT_EQ(a.json["data"]["expected_records"], 288);
  ASSERT_EQ(a.json["data"]["services"].size(), 2u);
  EXPECT_EQ(a.json["data"]["services"][0]["target"], "loader-producer");
  EXPECT_EQ(a.json["data"]["services"][1]["target"], "arango-connector");

  Json done = wait_finished(id);
  EXPECT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["records_written"], 300);
  EXPECT_TRUE(done["finished_at"].is_number());
  EXPECT_TRUE(done["duration_seconds"].is_number());
  EXPECT_EQ(done["progress"], 1.0);
  for (const auto& s : done["services"]) {
    EXPECT_EQ(s["status"], "completed") << s.dump();
    EXPECT_EQ(s["records_written"], 300) << s.dump();
    EXPECT_TRUE(s["started_at"].is_number());
  }
  EXPECT_EQ(value_or_throw(env_.store().count("btcusdt_api_candles_5m_2024_08_01")), 300u);
}

TEST_F(HttpApiTest, FullFormAndTheDocsRequestsNameStartWorkflows) {
  open();
  auto full = call("POST", "/queues/start", R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
      "microservices":[{"target":"loader-producer","type":"api_candles_5m","interval":"5m","fake_records":120},
                       {"target":"arango-connector","type":"api_candles_5m"}]})");
  ASSERT_EQ(full.status, 200) << full.raw.body;
  const std::string id = full.json["data"]["queue_id"];
  EXPECT_TRUE(std::regex_match(id, kQueueIdPattern)) << id;
  Json done = wait_finished(id);
  EXPECT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["records_written"], 120);
  EXPECT_EQ(value_or_throw(env_.store().count(done["collection_name"].get<std::string>())), 120u);

  auto docs_form = call("POST", "/queues/start", R"({"symbol":"ETHUSDT","time_range":"2024-08-01:2024-08-02",
      "requests":[{"target":"loader-producer","type":"api_candles_5m","fake_records":10},
                  {"target":"arango-connector","type":"api_candles_5m","collection_name":"eth_custom"}]})");
  ASSERT_EQ(docs_form.status, 200) << docs_form.raw.body;
  Json eth = wait_finished(docs_form.json["data"]["queue_id"]);
  EXPECT_EQ(eth["status"], "completed") << eth.dump();
  EXPECT_EQ(value_or_throw(env_.store().count("eth_custom")), 10u);
}

TEST_F(HttpApiTest, ListAndEvents) {
  open();
  const std::string first = start_short("BTCUSDT", 50);
  wait_finished(first);
  const std::string second = start_short("ETHUSDT", 20);
  wait_finished(second);

  auto list = call("GET", "/queues");
  ASSERT_EQ(list.status, 200) << list.raw.body;
  EXPECT_EQ(list.json["message"], "Queues fetched");
  ASSERT_EQ(list.json["data"].size(), 2u);
  EXPECT_EQ(list.json["data"][0]["queue_id"], second);  // newest first
  EXPECT_EQ(list.json["data"][1]["queue_id"], first);
  EXPECT_EQ(call("GET", "/queues?status=completed&limit=1").json["data"].size(), 1u);
  EXPECT_EQ(call("GET", "/queues?status=error").json["data"].size(), 0u);
  expect_error(call("GET", "/queues?status=bogus"), 400, "status");
  expect_error(call("GET", "/queues?limit=-1"), 400, "limit");

  auto events = call("GET", "/queues/" + first + "/events");
  ASSERT_EQ(events.status, 200) << events.raw.body;
  const Json& list_events = events.json["data"];
  ASSERT_GE(list_events.size(), 4u) << events.raw.body;  // started + completed for two services at least
  std::set<std::string> completed;
  int64_t last_offset = -1;
  for (const auto& e : list_events) {
    EXPECT_EQ(e["queue_id"], first);
    EXPECT_GT(e["offset"].get<int64_t>(), last_offset);
    last_offset = e["offset"];
    if (e["status"] == "completed") completed.insert(e["producer"].get<std::string>());
  }
  const std::string suffix = first.substr(first.size() - 6);
  EXPECT_EQ(completed, (std::set<std::string>{"loader-producer__" + suffix, "arango-connector__" + suffix}));
}

TEST_F(HttpApiTest, StopByQueryBodyAndPath) {
  open();
  const std::string slow = R"(,"fake_delay_ms":20,"fake_batch":5)";
  const std::string a = start_short("BTCUSDT", 1'000'000, slow);
  const std::string b = start_short("ETHUSDT", 1'000'000, slow);
  const std::string c = start_short("BNBUSDT", 1'000'000, slow);

  auto by_query = call("POST", "/queues/stop?queue_id=" + a);
  ASSERT_EQ(by_query.status, 200) << by_query.raw.body;
  EXPECT_EQ(by_query.json["message"], "Queue stopped");
  EXPECT_EQ(by_query.json["data"]["queue_id"], a);
  EXPECT_EQ(by_query.json["data"]["stop_requested"], true);
  auto by_body = call("POST", "/queues/stop", Json{{"queue_id", b}}.dump());
  ASSERT_EQ(by_body.status, 200) << by_body.raw.body;
  auto by_path = call("POST", "/queues/" + c + "/stop");
  ASSERT_EQ(by_path.status, 200) << by_path.raw.body;

  for (const auto& id : {a, b, c}) {
    Json done = wait_finished(id);
    EXPECT_EQ(done["status"], "stopped") << done.dump();
    EXPECT_LT(done["records_written"].get<int64_t>(), 1'000'000);
  }
  expect_error(call("POST", "/queues/stop?queue_id=" + a), 409, "already finished");
  expect_error(call("POST", "/queues/stop"), 400, "queue_id");
  expect_error(call("POST", "/queues/stop", R"({"queue":"x"})"), 400, "queue");
  expect_error(call("POST", "/queues/stop", R"({"queue_id":5})"), 400, "queue_id");
  expect_error(call("POST", "/queues/stop", "{oops"), 400, "JSON");
}

TEST_F(HttpApiTest, InvalidStartRequestsAreRejectedNamingTheField) {
  open();
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"type":"api_candles_5m","time_range":"2024-08-01:2024-08-02"})", "symbol"},
      {R"({"symbol":"BTC-USDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02"})", "symbol"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-02:2024-08-01"})", "time_range"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"yesterday"})", "time_range"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_5m"})", "time_range"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_7m","time_range":"2024-08-01:2024-08-02"})", "type"},
      {R"({"symbol":"BTCUSDT","type":"api_sandwiches","time_range":"2024-08-01:2024-08-02"})", "type"},
      {R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02"})", "type"},
      {R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
          "microservices":[{"target":"loader-nope","type":"api_candles_5m"}]})",
       "microservices[0].target"},
      {R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02","microservices":[{"type":"api_candles_5m"}]})",
       "microservices[0].target"},
      {R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
          "microservices":[{"target":"loader-producer","type":"api_candles_5m","colour":"red"}]})",
       "microservices[0].colour"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02","colour":"red"})",
       "colour"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02","target":"x"})",
       "target"},
      {R"({"symbol":42,"type":"api_candles_5m","time_range":"2024-08-01:2024-08-02"})", "symbol"},
      {R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02","microservices":"loader-producer"})",
       "microservices"},
      {R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02","microservices":[],"requests":[]})",
       "requests"},
      {R"({"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02")", "JSON"},
      {"not json at all", "JSON"},
      {"", "body"},
      {"[1,2]", "object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    expect_error(call("POST", "/queues/start", c.body), 400, c.field);
  }
  EXPECT_EQ(call("GET", "/queues").json["data"].size(), 0u);  // nothing was registered
}

TEST_F(HttpApiTest, UnknownIdsWrongMethodsAndUnknownPaths) {
  open();
  const std::string unknown = "wf-btcusdt-api_candles_5m-20240801-000000";
  expect_error(call("GET", "/queues/" + unknown), 404, unknown);
  expect_error(call("GET", "/queues/" + unknown + "/events"), 404, unknown);
  expect_error(call("POST", "/queues/stop?queue_id=" + unknown), 404, unknown);
  expect_error(call("POST", "/queues/" + unknown + "/stop"), 404, unknown);
  expect_error(call("GET", "/queues/not%20a%20real%20id"), 404, "not a real id");

  auto get_start = call("GET", "/queues/start");  // matches GET /queues/{queue_id}: an unknown workflow
  EXPECT_EQ(get_start.status, 404);
  auto wrong = call("DELETE", "/queues");
  expect_error(wrong, 405, "DELETE");
  EXPECT_EQ(wrong.raw.header("Allow").value_or(""), "GET");
  auto put_start = call("PUT", "/queues/start");
  expect_error(put_start, 405, "PUT");
  EXPECT_EQ(put_start.raw.header("Allow").value_or(""), "POST, GET");  // GET matches /queues/{queue_id}
  auto post_get = call("POST", "/queues/" + unknown);
  expect_error(post_get, 405, "POST");
  EXPECT_EQ(post_get.raw.header("Allow").value_or(""), "GET");
  expect_error(call("POST", "/metrics"), 405, "POST");
  expect_error(call("GET", "/nowhere"), 404, "/nowhere");
  expect_error(call("GET", "/collections/nope/count"), 404, "nope");
}

TEST_F(HttpApiTest, HealthProbes) {
  open();
  EXPECT_EQ(call("GET", "/health/live").json, (Json{{"status", "live"}}));
  EXPECT_EQ(call("GET", "/health/ready").json, (Json{{"status", "ready"}}));
  EXPECT_EQ(call("GET", "/health/startup").json, (Json{{"status", "started"}}));
  auto index = call("GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.json["data"]["openapi"], "/openapi.json");
  api_->set_ready(false);
  EXPECT_EQ(call("GET", "/health/ready").status, 503);
  EXPECT_EQ(call("GET", "/health/live").status, 200);
}

// A basic check of the Prometheus text format: comments are HELP/TYPE lines, samples are
// `name{labels} value`, and every sample belongs to a declared family.
void check_prometheus_text(const std::string& text) {
  const std::regex sample(
      R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? )re"
      R"re(([-+]?[0-9.eE+-]+|NaN|[+-]Inf)( [0-9]+)?$)re");
  const std::regex type_line(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  const std::regex help_line(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::set<std::string> families;
  std::istringstream in(text);
  std::string line;
  size_t samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::smatch m;
    if (line.rfind("# TYPE", 0) == 0) {
      ASSERT_TRUE(std::regex_match(line, m, type_line)) << line;
      families.insert(m[1]);
    } else if (line.rfind("#", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, help_line)) << line;
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
      std::string name = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (!families.count(name) && name.size() > strlen(suffix) &&
            name.compare(name.size() - strlen(suffix), strlen(suffix), suffix) == 0)
          name = name.substr(0, name.size() - strlen(suffix));
      }
      EXPECT_TRUE(families.count(name)) << "sample of an undeclared family: " << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 0u);
}

TEST_F(HttpApiTest, MetricsAreValidPrometheusText) {
  open();
  wait_finished(start_short("BTCUSDT", 30));
  call("GET", "/queues/nope");
  call("DELETE", "/queues");
  auto m = call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.raw.header("Content-Type").value_or(""), "text/plain; version=0.0.4");
  const std::string& text = m.raw.body;
  check_prometheus_text(text);
  EXPECT_NE(
      text.find(R"(streamforge_api_requests_total{method="POST",route="/queues/start",status="200"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(streamforge_api_requests_total{method="GET",route="/queues/{queue_id}",status="404"})"),
      std::string::npos);
  EXPECT_NE(text.find(R"(streamforge_api_requests_total{method="any",route="unmatched",status="405"} 1)"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "streamforge_api_request_duration_seconds_bucket{method=\"GET\",route=\"/queues/{queue_id}\""),
      std::string::npos);
  EXPECT_NE(text.find("streamforge_manager_workflows_started_total 1"), std::string::npos);

  // promtool, when the prometheus package is installed, lints the same text.
  if (std::filesystem::exists("/usr/bin/promtool")) {
    const auto path = env_.dir() / "metrics.txt";
    std::ofstream(path) << text;
    const std::string command = "/usr/bin/promtool check metrics < " + path.string() + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
    const int rc = ::pclose(pipe);
    EXPECT_EQ(rc, 0) << output;
  }
}

TEST_F(HttpApiTest, OpenApiDocumentListsEveryRoute) {
  open();
  auto a = call("GET", "/openapi.json");
  ASSERT_EQ(a.status, 200);
  ASSERT_TRUE(a.json.is_object()) << a.raw.body;
  EXPECT_EQ(a.json["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(a.json["info"]["title"].is_string());
  const Json& paths = a.json["paths"];
  ASSERT_EQ(HttpApi::routes().size(), 16u);
  size_t operations = 0;
  for (const auto& route : HttpApi::routes()) {
    std::string method = route.method == "WS" ? "get" : route.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    ASSERT_TRUE(paths.contains(route.pattern)) << route.pattern;
    EXPECT_TRUE(paths[route.pattern].contains(method)) << route.method << " " << route.pattern;
    EXPECT_TRUE(paths[route.pattern][method].contains("responses")) << route.pattern;
  }
  for (auto it = paths.begin(); it != paths.end(); ++it) operations += it->size();
  EXPECT_EQ(operations, HttpApi::routes().size());  // nothing described that does not exist
  // Every $ref resolves.
  std::function<void(const Json&)> check_refs = [&](const Json& j) {
    if (j.is_object()) {
      if (auto r = j.find("$ref"); r != j.end()) {
        const std::string name = r->get<std::string>().substr(std::string("#/components/schemas/").size());
        EXPECT_TRUE(a.json["components"]["schemas"].contains(name)) << *r;
      }
      for (const auto& v : j) check_refs(v);
    } else if (j.is_array()) {
      for (const auto& v : j) check_refs(v);
    }
  };
  check_refs(a.json);
}

TEST_F(HttpApiTest, WebSocketPushesStatusChangesAndHeartbeats) {
  open();
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  using Socket = websocket::stream<boost::asio::ip::tcp::socket>;
  boost::asio::io_context ioc;
  auto connect = [&](Socket& ws, const std::string& target) {
    ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
    ws.handshake("127.0.0.1", target);
    timeval tv{10, 0};  // never hang: reads give up after 10 s
    setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  };
  auto next = [&](Socket& ws) -> Json {
    beast::flat_buffer buf;
    beast::error_code ec;
    ws.read(buf, ec);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) return Json();
    Json j = Json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
    EXPECT_TRUE(j.is_object());
    return j;
  };
  Socket all(ioc), other(ioc);
  connect(all, "/ws/topic");
  connect(other, "/ws/topic?queue_id=wf-ethusdt-api_candles_5m-20240801-000000");  // another workflow only
  EXPECT_EQ(next(all)["type"], "connected");
  Json hello = next(other);
  EXPECT_EQ(hello["type"], "connected");
  EXPECT_EQ(hello["queue_id"], "wf-ethusdt-api_candles_5m-20240801-000000");
  ASSERT_TRUE(testing::wait_until([&] { return api_->websocket_clients() == 2; }));

  const std::string id = start_short("BTCUSDT", 40);
  std::set<std::string> statuses;
  bool heartbeat = false;
  for (int i = 0; i < 200 && !(statuses.count("completed") && heartbeat); ++i) {
    Json m = next(all);
    if (m.is_null()) break;
    if (m["type"] == "heartbeat") heartbeat = true;
    if (m["type"] == "workflow") {
      EXPECT_EQ(m["queue_id"], id);
      EXPECT_EQ(m["data"]["queue_id"], id);
      statuses.insert(m["status"].get<std::string>());
    }
  }
  EXPECT_TRUE(statuses.count("pending") || statuses.count("started")) << statuses.size();
  EXPECT_TRUE(statuses.count("completed"));
  EXPECT_TRUE(heartbeat);
  // The filtered client got heartbeats only.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(next(other)["type"], "heartbeat");
  all.write(boost::asio::buffer(std::string("ping")));
  for (int i = 0; i < 10; ++i) {
    if (next(all)["type"] == "pong") break;
    EXPECT_LT(i, 9) << "no pong";
  }
  all.close(websocket::close_code::normal);
  other.close(websocket::close_code::normal);
  EXPECT_TRUE(testing::wait_until([&] { return api_->websocket_clients() == 0; }));
}

TEST_F(HttpApiTest, CollectionsCountAndDocumentsInPages) {
  HttpApiOptions options;
  options.max_page_documents = 100;
  open(options);
  const std::string id = start_short("BTCUSDT", 250);
  Json done = wait_finished(id);
  const std::string collection = done["collection_name"];

  auto list = call("GET", "/collections");
  ASSERT_EQ(list.status, 200);
  bool found = false;
  for (const auto& c : list.json["data"]) {
    if (c["name"] == collection) {
      found = true;
      EXPECT_EQ(c["count"], 250);
    }
  }
  EXPECT_TRUE(found) << list.raw.body;

  EXPECT_EQ(call("GET", "/collections/" + collection + "/count").json["data"]["count"], 250);
  // The fake loader's candles are 1m candles from 2024-08-01T00:00Z: the first hour holds 60.
  EXPECT_EQ(call("GET", "/collections/" + collection + "/count?from=2024-08-01&to=2024-08-01T01:00:00Z")
                .json["data"]["count"],
            60);
  EXPECT_EQ(call("GET", "/collections/" + collection + "/count?from=1722474000000").json["data"]["count"],
            190);
  expect_error(call("GET", "/collections/" + collection + "/count?from=tomorrowish"), 400, "from");
  expect_error(call("GET", "/collections/" + collection + "/documents?format=xml"), 400, "format");
  expect_error(call("GET", "/collections/" + collection + "/documents?from=2024-08-01&from_key=1"), 400,
               "from_key");

  auto few = call("GET", "/collections/" + collection + "/documents?limit=5");
  ASSERT_EQ(few.status, 200);
  EXPECT_EQ(few.raw.header("Content-Type").value_or(""), "application/x-ndjson");
  EXPECT_EQ(std::count(few.raw.body.begin(), few.raw.body.end(), '\n'), 5);
  EXPECT_FALSE(few.raw.header("X-Next-After"));

  // All of it, page by page.
  std::vector<int64_t> open_times;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page =
        call("GET", "/collections/" + collection + "/documents" + (after.empty() ? "" : "?after=" + after));
    ASSERT_EQ(page.status, 200);
    ++pages;
    std::istringstream lines(page.raw.body);
    std::string line;
    while (std::getline(lines, line)) open_times.push_back(Json::parse(line)["open_time"].get<int64_t>());
    auto next = page.raw.header("X-Next-After");
    if (!next) break;
    after = std::string(*next);
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(open_times.size(), 250u);
  for (size_t i = 0; i < open_times.size(); ++i) EXPECT_EQ(open_times[i], 1722470400000 + int64_t(i) * 60000);

  auto csv =
      call("GET", "/collections/" + collection + "/documents?format=csv&limit=3&from=2024-08-01T00:10Z");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.raw.header("Content-Type").value_or(""), "text/csv; charset=utf-8");
  std::istringstream rows(csv.raw.body);
  std::string header, row;
  std::getline(rows, header);
  EXPECT_EQ(header.rfind("_key,open_time,open,high,low,close,volume,close_time,", 0), 0u) << header;
  std::getline(rows, row);
  EXPECT_EQ(row.rfind("1722471000000,1722471000000,60010.10,", 0), 0u) << row;
}

}  // namespace
}  // namespace sf::services
