#include "protocol/naming.h"

#include <random>

#include <gtest/gtest.h>

#include "protocol/control_message.h"

namespace sf::protocol {
namespace {

constexpr TimestampMs kAug1 = 1722470400000;  // 2024-08-01T00:00:00Z
constexpr std::string_view kSeedId = "wf-btcusdt-api_candles_5m-20240801-a1b2c3";

WorkflowType type_of(std::string_view text) {
  auto t = parse_workflow_type(text);
  EXPECT_TRUE(t) << text;
  return *t;
}

TEST(Naming, SeedExampleNames) {
  WorkflowType t = type_of("api_candles_5m");
  auto id = make_workflow_id("BTCUSDT", t, kAug1, "a1b2c3");
  ASSERT_TRUE(id) << id.status().to_string();
  EXPECT_EQ(*id, kSeedId);
  EXPECT_EQ(data_topic(*id), "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data");
  EXPECT_EQ(dead_letter_topic(*id), "wf-btcusdt-api_candles_5m-20240801-a1b2c3-dlq");
  auto collection = collection_name("BTCUSDT", t, kAug1);
  ASSERT_TRUE(collection);
  EXPECT_EQ(*collection, "btcusdt_api_candles_5m_2024_08_01");
  EXPECT_EQ(telemetry_id("loader-producer", *id), "loader-producer__a1b2c3");
  EXPECT_EQ(telemetry_id("arango-connector", *id), "arango-connector__a1b2c3");  // the seed event's producer
}

TEST(Naming, NamesAgreeWithTheSeedControlMessage) {
  auto m = parse_control_message(R"({"command":"start","queue_id":"wf-btcusdt-api_candles_5m-20240801-a1b2c3",
    "target":"loader-producer","symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02",
    "kafka_topic":"wf-btcusdt-api_candles_5m-20240801-a1b2c3-data","collection_name":"btcusdt_api_candles_5m_2024_08_01",
    "telemetry_id":"loader-producer__a1b2c3","image":"registry.dmz.home/streamforge/loader-producer:v0.2.0",
    "timestamp":1722500000.123})");
  ASSERT_TRUE(m);
  auto range = parse_time_range(m->time_range);
  ASSERT_TRUE(range);
  WorkflowType t = type_of(m->type);
  EXPECT_EQ(*make_workflow_id(m->symbol, t, range->start_ms, "a1b2c3"), m->queue_id);
  EXPECT_EQ(data_topic(m->queue_id), m->kafka_topic);
  EXPECT_EQ(*collection_name(m->symbol, t, range->start_ms), m->collection_name);
  EXPECT_EQ(telemetry_id(m->target, m->queue_id), m->telemetry_id);
}

TEST(Naming, DateIsTheUtcDayOfTheStartAndSymbolCaseIsNormalised) {
  WorkflowType t = type_of("ws_trades");
  TimestampMs late = kAug1 + 86'400'000 - 1;  // 2024-08-01T23:59:59.999Z
  EXPECT_EQ(*make_workflow_id("ethbtc", t, late, "00ff00"), "wf-ethbtc-ws_trades-20240801-00ff00");
  EXPECT_EQ(*collection_name("EthBtc", t, late), "ethbtc_ws_trades_2024_08_01");
  EXPECT_EQ(*make_workflow_id("ETHBTC", t, late + 1, "00ff00"), "wf-ethbtc-ws_trades-20240802-00ff00");
  // The alias is written under its canonical name.
  EXPECT_EQ(*collection_name("BTCUSDT", type_of("gnn_graph"), kAug1), "btcusdt_graph_build_2024_08_01");
}

TEST(Naming, InvalidInputsAreErrors) {
  WorkflowType t = type_of("api_trades");
  for (std::string_view suffix : {"", "a1b2c", "a1b2c3d", "A1B2C3", "g1b2c3", "a1-2c3"}) {
    auto id = make_workflow_id("BTCUSDT", t, kAug1, suffix);
    ASSERT_FALSE(id) << suffix;
    EXPECT_NE(id.status().message().find("suffix"), std::string::npos);
  }
  EXPECT_FALSE(make_workflow_id("BTC-USDT", t, kAug1, "a1b2c3"));
  EXPECT_FALSE(collection_name("", t, kAug1));
}

TEST(Naming, RandomSuffixIsDeterministicWithASeededRng) {
  std::mt19937_64 a(42), b(42), c(43);
  std::string sa = random_workflow_suffix(a);
  EXPECT_EQ(sa, random_workflow_suffix(b));
  EXPECT_TRUE(is_valid_workflow_suffix(sa)) << sa;
  EXPECT_NE(random_workflow_suffix(a), sa);  // the generator advanced
  std::string sc = random_workflow_suffix(c);
  EXPECT_TRUE(is_valid_workflow_suffix(sc));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(is_valid_workflow_suffix(random_workflow_suffix()));
}

TEST(Naming, ParseWorkflowId) {
  auto parts = parse_workflow_id(kSeedId);
  ASSERT_TRUE(parts) << parts.status().to_string();
  EXPECT_EQ(parts->symbol, "BTCUSDT");
  EXPECT_EQ(parts->type.name(), "api_candles_5m");
  EXPECT_EQ(parts->start_date, kAug1);
  EXPECT_EQ(parts->suffix, "a1b2c3");
  EXPECT_EQ(*make_workflow_id(parts->symbol, parts->type, parts->start_date, parts->suffix), kSeedId);

  auto gnn = parse_workflow_id("wf-1000satsusdt-gnn_train-20250101-ffffff");
  ASSERT_TRUE(gnn) << gnn.status().to_string();
  EXPECT_EQ(gnn->symbol, "1000SATSUSDT");
  EXPECT_EQ(gnn->type.kind, DataKind::kGnnTrain);
}

TEST(Naming, ParseWorkflowIdRejectsMalformedIds) {
  for (std::string_view bad :
       {"", "wf", "wf-btcusdt-api_candles_5m-20240801", "wf-btcusdt-api_candles_5m-20240801-a1b2c3-x",
        "xx-btcusdt-api_candles_5m-20240801-a1b2c3", "wf-BTCUSDT-api_candles_5m-20240801-a1b2c3",
        "wf--api_candles_5m-20240801-a1b2c3", "wf-btcusdt-api_candles_7m-20240801-a1b2c3",
        "wf-btcusdt-api_candles_5m-2024081-a1b2c3", "wf-btcusdt-api_candles_5m-20240231-a1b2c3",
        "wf-btcusdt-api_candles_5m-2024-08-01-a1b2c3", "wf-btcusdt-api_candles_5m-20240801-A1B2C3",
        "wf-btcusdt-api_candles_5m-20240801-a1b2c"}) {
    auto parts = parse_workflow_id(bad);
    ASSERT_FALSE(parts) << bad;
    EXPECT_EQ(parts.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parts.status().message().find("invalid workflow id"), std::string::npos);
  }
}

TEST(Naming, TelemetryIdOfAnIdWithoutDashes) {
  EXPECT_EQ(telemetry_id("dummy-service", "abc123"), "dummy-service__abc123");
}

}  // namespace
}  // namespace sf::protocol
