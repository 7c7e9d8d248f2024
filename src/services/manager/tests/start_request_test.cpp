// Start requests: parsing the API body, expanding the short form, and validation errors that name the field.
#include "services/manager/start_request.h"

#include <gtest/gtest.h>

namespace sf::services {
namespace {

Result<WorkflowPlan> plan(std::string_view body) {
  auto request = parse_start_request(body);
  if (!request) return request.status();
  return plan_workflow(*request);
}

// The request is rejected as InvalidArgument with a message naming `field`.
void expect_rejected(std::string_view body, std::string_view field) {
  auto planned = plan(body);
  ASSERT_FALSE(planned) << body;
  EXPECT_EQ(planned.status().code(), ErrorCode::kInvalidArgument) << planned.status().to_string();
  EXPECT_NE(planned.status().message().find(fmt::format("field '{}'", field)), std::string::npos)
      << body << " -> " << planned.status().message();
}

TEST(StartRequestTest, ParsesTheFullForm) {
  auto request = parse_start_request(R"({
    "symbol": "btcusdt", "time_range": "2024-08-01:2024-08-02", "note": "top",
    "microservices": [
      {"target": "loader-producer", "type": "api_candles_5m", "image": "registry/loader:v1"},
      {"target": "arango-connector", "type": "api_candles_5m", "collection_name": "custom_c", "interval": "5m",
       "batch_size": 500}
    ]})");
  ASSERT_TRUE(request) << request.status().to_string();
  EXPECT_EQ(request->symbol, "btcusdt");
  EXPECT_EQ(request->type, "");
  ASSERT_EQ(request->microservices.size(), 2u);
  EXPECT_EQ(request->microservices[0].image, "registry/loader:v1");
  EXPECT_EQ(request->microservices[1].collection_name, "custom_c");
  EXPECT_EQ(request->microservices[1].extra, (protocol::Json{{"batch_size", 500}}));
  EXPECT_EQ(request->extra, (protocol::Json{{"note", "top"}}));

  auto planned = plan_workflow(*request);
  ASSERT_TRUE(planned) << planned.status().to_string();
  EXPECT_EQ(planned->symbol, "BTCUSDT");
  EXPECT_EQ(planned->type.name(), "api_candles_5m");  // the first service's type
  EXPECT_EQ(planned->time_range, "2024-08-01:2024-08-02");
  ASSERT_EQ(planned->services.size(), 2u);
  EXPECT_EQ(planned->services[0].worker, protocol::Worker::kRestLoader);
  EXPECT_EQ(planned->services[1].worker, protocol::Worker::kConnector);
  EXPECT_EQ(planned->services[1].extra["interval"], "5m");
  EXPECT_EQ(planned->services[1].extra["batch_size"], 500);
  EXPECT_EQ(planned->services[1].extra["note"], "top");  // top-level extras reach every service
}

TEST(StartRequestTest, ShortFormExpandsToLoaderAndConnector) {
  auto api = plan(R"({"symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02"})");
  ASSERT_TRUE(api) << api.status().to_string();
  ASSERT_EQ(api->services.size(), 2u);
  EXPECT_EQ(api->services[0].target, "loader-producer");
  EXPECT_EQ(api->services[1].target, "arango-connector");
  EXPECT_EQ(api->services[1].type.name(), "api_candles_5m");

  auto ws = plan(R"({"symbol":"ETHUSDT","type":"ws_trades","time_range":"2024-08-01T12:00:00Z:"})");
  ASSERT_TRUE(ws) << ws.status().to_string();
  EXPECT_EQ(ws->services[0].target, "loader-ws");
  EXPECT_FALSE(ws->range.end_ms);

  auto graph = plan(R"({"symbol":"BTCUSDT","type":"gnn_graph","symbols":["BTCUSDT","ETHUSDT"],
                         "time_range":"2024-08-01:2024-08-02"})");
  ASSERT_TRUE(graph) << graph.status().to_string();
  ASSERT_EQ(graph->services.size(), 1u);
  EXPECT_EQ(graph->services[0].target, "graph-builder");
  EXPECT_EQ(graph->type.name(), "graph_build");
}

TEST(StartRequestTest, RejectionsNameTheField) {
  EXPECT_EQ(parse_start_request("not json").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_start_request("[1]").status().code(), ErrorCode::kInvalidArgument);
  expect_rejected(R"({"symbol": 5})", "symbol");
  expect_rejected(R"({"type":"api_trades","time_range":"2024-08-01:2024-08-02"})", "symbol");
  expect_rejected(R"({"symbol":"BTC-USDT","type":"api_trades","time_range":"2024-08-01:2024-08-02"})",
                  "symbol");
  expect_rejected(R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02"})", "type");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_candles_7m","time_range":"2024-08-01:2024-08-02"})",
                  "type");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades"})", "time_range");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-02:2024-08-01"})",
                  "time_range");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:"})", "time_range");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": {}})",
                  "microservices");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": []})",
                  "microservices");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-producer"}, {"target": 3}]})",
                  "microservices[1].target");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"type":"api_trades"}]})",
                  "microservices[0].target");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-magic"}]})",
                  "microservices[0].target");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-producer"}, {"target":"gnn-trainer"}]})",
                  "microservices[1]");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_trades","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-producer"}, {"target":"loader-producer"}]})",
                  "microservices[1].target");
  expect_rejected(R"({"symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-producer", "type":"api_kandles"}]})",
                  "microservices[0].type");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_candles_1m","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-producer", "interval":"7m"}]})",
                  "microservices[0].interval");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_candles_1m","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"arango-connector", "collection_name":"9 bad"}]})",
                  "microservices[0].collection_name");
  expect_rejected(R"({"symbol":"BTCUSDT","type":"api_candles_1m","time_range":"2024-08-01:2024-08-02",
                      "microservices": [{"target":"loader-producer", "image": 12}]})",
                  "microservices[0].image");
}

}  // namespace
}  // namespace sf::services
