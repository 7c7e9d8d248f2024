// graph_build / gnn_train requests as the manager plans them: 400 messages naming the bad field,
// the workflow symbol of multi-symbol requests, and the parameters reaching the start commands.
#include <gtest/gtest.h>

#include "services/manager/start_request.h"

namespace sf::services {
namespace {

Result<WorkflowPlan> plan(std::string_view body) {
  auto request = parse_start_request(body);
  if (!request) return request.status();
  return plan_workflow(*request);
}

std::string error_of(std::string_view body) {
  auto p = plan(body);
  EXPECT_FALSE(p) << body;
  return p ? std::string() : p.status().message();
}

TEST(AnalyticsRequestTest, GraphBuildTakesSymbolsAndParameters) {
  auto p = plan(R"({"type":"graph_build","symbols":["btcusdt","ETHUSDT","SOLUSDT"],"interval":"1h",
                   "time_range":"2024-08-01:2024-09-01","window":48,"step":4,"top_k":3,"threshold":0.2})");
  ASSERT_TRUE(p) << p.status().to_string();
  EXPECT_EQ(p->symbol, "BTCUSDT");  // the first of `symbols` names the workflow
  ASSERT_EQ(p->services.size(), 1u);
  EXPECT_EQ(p->services[0].target, "graph-builder");
  EXPECT_EQ(p->services[0].extra["window"], 48);
  EXPECT_EQ(p->services[0].extra["symbols"].size(), 3u);
}

TEST(AnalyticsRequestTest, GraphBuildErrorsNameTheField) {
  EXPECT_NE(error_of(R"({"type":"graph_build","time_range":"2024-08-01:2024-08-02"})").find("'symbol"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"graph_build","symbols":["BTCUSDT","ETHUSDT"],"window":1,
                        "time_range":"2024-08-01:2024-08-02"})")
                .find("'window'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"graph_build","symbols":["BTCUSDT","ETH-USDT"],
                        "time_range":"2024-08-01:2024-08-02"})")
                .find("'symbols[1]'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"graph_build","symbols":["BTCUSDT","ETHUSDT"],"top_k":-1,
                        "time_range":"2024-08-01:2024-08-02"})")
                .find("'top_k'"),
            std::string::npos);
}

TEST(AnalyticsRequestTest, GnnTrainAndTheChainedForm) {
  auto p = plan(R"({"type":"gnn_train","graph_id":"wf-ethusdt-graph_build-20240801-a1b2c3",
                   "time_range":"2024-08-01:2024-09-01","model":"sage","hidden":64,"epochs":50})");
  ASSERT_TRUE(p) << p.status().to_string();
  EXPECT_EQ(p->symbol, "ETHUSDT");  // from the graph id
  EXPECT_EQ(p->services[0].target, "gnn-trainer");
  EXPECT_NE(error_of(R"({"type":"gnn_train","symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
                        "learning_rate":-1})")
                .find("'learning_rate'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"gnn_train","symbol":"BTCUSDT","time_range":"2024-08-01:2024-08-02",
                        "model":"gat"})")
                .find("'model'"),
            std::string::npos);
  // Build then train in one workflow: the trainer waits for the builder's graph (same workflow id).
  auto chained = plan(R"({"symbols":["BTCUSDT","ETHUSDT"],"time_range":"2024-08-01:2024-09-01",
                         "microservices":[{"target":"graph-builder","type":"graph_build"},
                                          {"target":"gnn-trainer","type":"gnn_train"}],"epochs":20})");
  ASSERT_TRUE(chained) << chained.status().to_string();
  ASSERT_EQ(chained->services.size(), 2u);
  EXPECT_EQ(chained->services[1].extra["epochs"], 20);
}

}  // namespace
}  // namespace sf::services
