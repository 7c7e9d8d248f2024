// graph-builder: features, edges, masks and labels on a hand-checked case; parameter errors; missing
// symbols; storage layout and read-back; export; the job on simulator data with its telemetry.
#include "analytics/graph/graph.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "analytics/graph/tests/sim_candles.h"
#include "services/job/tests/job_test_util.h"

namespace sf::analytics {
namespace {

using protocol::Json;
using services::testing::TestEnv;

constexpr TimestampMs kDay = 1722470400000;  // 2024-08-01T00:00:00Z
constexpr TimestampMs kHour = 3600000;
const double kLn2 = std::log(2.0);

// Stores one hand-made 1h candle: open 100, close 100 * 2^r, `volume`, taker buys a quarter of it.
void put_candle(store::Store& store, const std::string& symbol, int slot, int r, int volume, int trades = 9) {
  protocol::Kline k;
  k.open_time = kDay + slot * kHour;
  k.close_time = k.open_time + kHour - 1;
  k.symbol = symbol;
  k.interval = "1h";
  k.open = protocol::Decimal::parse("100").value();
  k.close = protocol::Decimal::parse(std::to_string(100.0 * std::pow(2.0, r))).value();
  k.high = k.close;
  k.low = k.open;
  k.volume = protocol::Decimal::parse(std::to_string(volume)).value();
  k.taker_buy_base_asset_volume = protocol::Decimal::parse(std::to_string(volume / 4.0)).value();
  k.number_of_trades = trades;
  std::string doc;
  protocol::append_document(k, doc);
  std::string lower = symbol;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  ASSERT_TRUE(store.upsert(lower + "_api_candles_1h_2024_08_01", std::vector<std::string>{doc}));
}

// Four symbols over six hours (log returns in units of ln 2):
//   AAAUSDT  1 -1  2  1 -1  1      BBBUSDT  1 -1  2 -1  1  1
//   CCCUSDT -1  1 -2 -1  1 -1      DDDUSDT  listed late: candles from hour 3 only (1 1 1)
// Window 3, snapshots at 03:00 and 04:00. At 03:00 A and B move together (corr 1), C mirrors them (-1).
// At 04:00 (hours 1..3): corr(A,B) = 2/sqrt(7), corr(A,C) = -1, corr(B,C) = -2/sqrt(7).
class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int a[] = {1, -1, 2, 1, -1, 1}, b[] = {1, -1, 2, -1, 1, 1}, c[] = {-1, 1, -2, -1, 1, -1};
    for (int slot = 0; slot < 6; ++slot) {
      const int volume = slot == 2 ? 40 : 10;
      put_candle(env_.store(), "AAAUSDT", slot, a[slot], volume);
      put_candle(env_.store(), "BBBUSDT", slot, b[slot], volume);
      put_candle(env_.store(), "CCCUSDT", slot, c[slot], volume);
      if (slot >= 3) put_candle(env_.store(), "DDDUSDT", slot, 1, volume);
    }
  }

  GraphParams params(Json extra = Json::object()) {
    Json fields = {{"symbols", {"AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT"}},
                   {"interval", "1h"},
                   {"window", 3},
                   {"top_k", 0},
                   {"min_coverage", 1.0}};
    for (auto it = extra.begin(); it != extra.end(); ++it) fields[it.key()] = it.value();
    auto p = graph_params_from_json(fields, "2024-08-01T03:00:00Z:2024-08-01T05:00:00Z");
    EXPECT_TRUE(p) << p.status().to_string();
    return *p;
  }

  GraphData build(const GraphParams& p, const std::string& id = "g1") {
    auto stats = build_graph(env_.store(), id, p);
    EXPECT_TRUE(stats) << stats.status().to_string();
    auto graph = load_graph(env_.store(), id);
    EXPECT_TRUE(graph) << graph.status().to_string();
    return std::move(graph).value();
  }

  static std::map<std::string, float> edges_of(const GraphData& g, size_t snapshot) {
    std::map<std::string, float> out;
    for (const Edge& e : g.snapshots[snapshot].edges) {
      out[g.params.symbols[e.from] + "-" + g.params.symbols[e.to]] = e.weight;
    }
    return out;
  }

  TestEnv env_;
};

TEST_F(GraphTest, HandCheckedFeaturesLabelsAndEdges) {
  GraphData g = build(params());
  ASSERT_EQ(g.snapshots.size(), 2u);
  EXPECT_EQ(g.snapshots[0].time, kDay + 3 * kHour);
  EXPECT_EQ(g.snapshots[1].time, kDay + 4 * kHour);

  const Node& a = g.snapshots[0].nodes[0];
  ASSERT_TRUE(a.mask);
  EXPECT_EQ(a.window_candles, 3);
  EXPECT_NEAR(a.features[0], 2 * kLn2, 1e-5);               // ret_last
  EXPECT_NEAR(a.features[1], 2 * kLn2, 1e-5);               // ret_window: 1 - 1 + 2
  EXPECT_NEAR(a.features[2], std::sqrt(2.0) * kLn2, 1e-5);  // sqrt((1 + 1 + 4) / 3) ln 2
  EXPECT_NEAR(a.features[3], std::sqrt(2.0), 1e-5);         // volume 10, 10, 40: z of the last = sqrt 2
  EXPECT_NEAR(a.features[4], 0.0, 1e-6);                    // constant trade count
  EXPECT_NEAR(a.features[5], -0.25, 1e-6);                  // taker buys a quarter
  EXPECT_TRUE(a.label_mask);
  EXPECT_NEAR(a.label_return, kLn2, 1e-5);  // hour 3 of AAA: +1
  EXPECT_TRUE(g.snapshots[0].nodes[1].label_mask);
  EXPECT_NEAR(g.snapshots[0].nodes[1].label_return, -kLn2, 1e-5);  // BBB falls at hour 3

  // DDD has no candle before hour 3: masked at both snapshots (late listing), no edges; its label at 03:00
  // exists (hour 3 is there).
  for (const auto& s : g.snapshots) EXPECT_FALSE(s.nodes[3].mask);
  EXPECT_EQ(g.snapshots[0].nodes[3].window_candles, 0);
  EXPECT_EQ(g.snapshots[1].nodes[3].window_candles, 1);
  EXPECT_TRUE(g.snapshots[0].nodes[3].label_mask);

  auto e0 = edges_of(g, 0);
  ASSERT_EQ(e0.size(), 3u);
  EXPECT_NEAR(e0["AAAUSDT-BBBUSDT"], 1.0, 1e-5);
  EXPECT_NEAR(e0["AAAUSDT-CCCUSDT"], -1.0, 1e-5);
  EXPECT_NEAR(e0["BBBUSDT-CCCUSDT"], -1.0, 1e-5);
  auto e1 = edges_of(g, 1);
  ASSERT_EQ(e1.size(), 3u);
  EXPECT_NEAR(e1["AAAUSDT-BBBUSDT"], 2 / std::sqrt(7.0), 1e-5);
  EXPECT_NEAR(e1["AAAUSDT-CCCUSDT"], -1.0, 1e-5);
  EXPECT_NEAR(e1["BBBUSDT-CCCUSDT"], -2 / std::sqrt(7.0), 1e-5);
}

TEST_F(GraphTest, ThresholdAndTopKPruneEdges) {
  GraphData strong = build(params({{"threshold", 0.8}}), "g-strong");
  EXPECT_EQ(edges_of(strong, 0).size(), 3u);
  auto e1 = edges_of(strong, 1);
  ASSERT_EQ(e1.size(), 1u);
  EXPECT_TRUE(e1.count("AAAUSDT-CCCUSDT"));

  // top_k 1 at 04:00: A's and C's strongest is A-C (-1); B's is A-B or B-C (both |2/sqrt 7|). Two edges.
  GraphData top1 = build(params({{"top_k", 1}}), "g-top1");
  auto t1 = edges_of(top1, 1);
  EXPECT_EQ(t1.size(), 2u);
  EXPECT_TRUE(t1.count("AAAUSDT-CCCUSDT"));
}

TEST_F(GraphTest, GapsMaskNodesInsteadOfZeroFilling) {
  // Remove AAA's hour 1: its windows at 03:00 and 04:00 both include it, so 2 of 3 candles: masked.
  std::string_view key = "1722474000000";
  ASSERT_TRUE(
      env_.store().remove("aaausdt_api_candles_1h_2024_08_01", std::span<const std::string_view>(&key, 1)));
  GraphData g = build(params());
  EXPECT_FALSE(g.snapshots[0].nodes[0].mask);
  EXPECT_EQ(g.snapshots[0].nodes[0].window_candles, 2);
  EXPECT_EQ(edges_of(g, 0).size(), 1u);  // only B-C
  // Stored as null features, not zeros.
  auto doc = env_.store().get("g1-vertices", "1722481200000-AAAUSDT");
  ASSERT_TRUE(doc && doc->has_value());
  Json v = Json::parse(**doc);
  EXPECT_TRUE(v["features"].is_null());
  EXPECT_EQ(v["mask"], false);
}

TEST_F(GraphTest, StoredArangoStyleWithMetadata) {
  ASSERT_TRUE(build_graph(env_.store(), "g1", params()));
  auto edge = env_.store().get("g1-edges", "1722481200000-AAAUSDT-BBBUSDT");
  ASSERT_TRUE(edge && edge->has_value());
  Json e = Json::parse(**edge);
  EXPECT_EQ(e["_from"], "g1-vertices/1722481200000-AAAUSDT");
  EXPECT_EQ(e["_to"], "g1-vertices/1722481200000-BBBUSDT");
  EXPECT_EQ(e["snapshot"], 1722481200000);
  EXPECT_NEAR(e["weight"].get<double>(), 1.0, 1e-6);
  auto meta = graph_metadata(env_.store(), "g1");
  ASSERT_TRUE(meta && meta->has_value());
  const Json& m = **meta;
  EXPECT_EQ(m["status"], "complete");
  EXPECT_EQ(m["snapshots"], 2);
  EXPECT_EQ(m["vertices"], 8);
  EXPECT_EQ(m["masked_vertices"], 2);
  EXPECT_EQ(m["edges"], 6);
  EXPECT_EQ(m["parameters"]["window"], 3);
  EXPECT_EQ(m["feature_names"].size(), kFeatureCount);
  EXPECT_EQ(m["candles"]["DDDUSDT"]["candles"],
            2);  // hours 3 and 4: the loaded span ends with the last label
  EXPECT_EQ(*env_.store().count("g1-vertices"), 8u);
}

TEST_F(GraphTest, RebuildReplacesThePreviousGraph) {
  build(params(), "g1");
  GraphData g = build(params({{"threshold", 0.8}}), "g1");
  EXPECT_EQ(*env_.store().count("g1-edges"), 4u);  // 3 + 1, nothing left from the first build
  EXPECT_EQ(g.metadata["parameters"]["threshold"], 0.8);
}

TEST_F(GraphTest, ExportEdgeListAndJson) {
  GraphData g = build(params());
  std::ostringstream edgelist;
  ASSERT_TRUE(export_graph(g, ExportFormat::kEdgeList, edgelist));
  std::istringstream lines(edgelist.str());
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 7u);  // header + 6 edges
  EXPECT_EQ(rows[0][0], '#');
  EXPECT_EQ(rows[1].rfind("2024-08-01T03:00:00.000Z AAAUSDT BBBUSDT ", 0), 0u) << rows[1];

  std::ostringstream json;
  ASSERT_TRUE(export_graph(g, ExportFormat::kJson, json));
  Json j = Json::parse(json.str());
  ASSERT_EQ(j["snapshots"].size(), 2u);
  EXPECT_EQ(j["snapshots"][0]["nodes"][3]["mask"], false);
  EXPECT_TRUE(j["snapshots"][0]["nodes"][3]["features"].is_null());
  EXPECT_EQ(j["snapshots"][0]["nodes"][0]["label"], 1);
  EXPECT_EQ(j["snapshots"][1]["edges"].size(), 3u);
  EXPECT_FALSE(parse_export_format("csv"));
}

TEST_F(GraphTest, SymbolWithoutCandlesIsNamed) {
  Json fields = {{"symbols", {"AAAUSDT", "EEEUSDT"}}, {"window", 3}};
  auto p = graph_params_from_json(fields, "2024-08-01T03:00:00Z:2024-08-01T05:00:00Z");
  ASSERT_TRUE(p);
  auto stats = build_graph(env_.store(), "g2", *p);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(stats.status().message().find("EEEUSDT"), std::string::npos) << stats.status().message();
  EXPECT_EQ(stats.status().message().find("AAAUSDT"), std::string::npos) << stats.status().message();
  EXPECT_EQ(load_graph(env_.store(), "g2").status().code(), ErrorCode::kNotFound);
}

TEST(GraphParamsTest, ErrorsNameTheField) {
  const std::string range = "2024-08-01:2024-08-02";
  auto error_of = [&](Json fields, std::string tr = "2024-08-01:2024-08-02") {
    auto p = graph_params_from_json(fields, tr);
    EXPECT_FALSE(p);
    return p ? std::string() : p.status().message();
  };
  const Json two = {"BTCUSDT", "ETHUSDT"};
  EXPECT_NE(error_of(Json::object()).find("'symbols'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", {"BTCUSDT"}}}).find("at least two"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", {"BTCUSDT", "btc-usdt"}}}).find("'symbols[1]'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", {"BTCUSDT", "btcusdt"}}}).find("twice"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"window", 2}}).find("'window'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"window", "24"}}).find("'window'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"step", 0}}).find("'step'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"threshold", 1.5}}).find("'threshold'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"min_coverage", 0}}).find("'min_coverage'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"interval", "1M"}}).find("'interval'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}, {"interval", "7m"}}).find("'interval'"), std::string::npos);
  EXPECT_NE(error_of({{"symbols", two}}, "2024-08-01:").find("'time_range'"), std::string::npos);
  auto ok = graph_params_from_json({{"symbols", two}, {"step", 6}}, range);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->snapshot_times().size(), 4u);  // 24 hours every 6
  EXPECT_EQ(ok->symbols[0], "BTCUSDT");
}

TEST(GraphSimTest, JobBuildsFromSimulatorCandlesWithTelemetry) {
  TestEnv env;
  ASSERT_TRUE(services::ensure_service_topics(env.bus()));
  const std::vector<std::string> symbols = testing::sim_symbols(5);
  auto written =
      testing::store_sim_candles(env.store(), symbols, protocol::Interval::k1h, kDay, kDay + 3 * 24 * kHour);
  ASSERT_TRUE(written) << written.status().to_string();
  ASSERT_EQ(*written, 5 * 72);

  auto start =
      services::testing::make_start("wf-btcusdt-graph_build-20240802-a1b2c3", "graph-builder", "graph_build");
  start.time_range = "2024-08-02:2024-08-03";
  start.extra["symbols"] = symbols;
  start.extra["window"] = 12;
  start.extra["top_k"] = 2;
  services::JobRegistry registry;
  registry.add(protocol::Worker::kGraphBuilder, make_graph_builder_job);
  services::JobEnvironment job_env{env.bus(), env.store(), registry};
  job_env.start_timeout = std::chrono::seconds(5);
  job_env.telemetry.loading_interval = std::chrono::milliseconds(0);
  const int64_t offset = services::testing::publish_command(env.bus(), start);
  ASSERT_TRUE(services::run_job(job_env, services::testing::spec_for(start, offset)));

  auto graph = load_graph(env.store(), start.queue_id);
  ASSERT_TRUE(graph) << graph.status().to_string();
  ASSERT_EQ(graph->snapshots.size(), 24u);
  for (const auto& s : graph->snapshots) {
    EXPECT_GE(s.edges.size(), 5u);  // 5 nodes, each keeps its 2 strongest: at least 5 distinct pairs
    EXPECT_LE(s.edges.size(), 10u);
    for (const auto& n : s.nodes) {
      EXPECT_TRUE(n.mask);  // simulator data has no gaps
      EXPECT_TRUE(n.label_mask);
    }
  }
  // The same graph through the pure functions: same edges (the job adds nothing of its own).
  auto grid = load_candles(env.store(), symbols, protocol::Interval::k1h, kDay, kDay + 3 * 24 * kHour);
  ASSERT_TRUE(grid);
  Snapshot direct;
  build_snapshot(*grid, graph->params, graph->snapshots[5].time, direct);
  // Stored edges come back in key order (by symbol name), built ones in node order: compare as maps.
  auto by_pair = [](const std::vector<Edge>& edges) {
    std::map<std::pair<uint32_t, uint32_t>, float> out;
    for (const Edge& e : edges) out[{e.from, e.to}] = e.weight;
    return out;
  };
  EXPECT_EQ(by_pair(direct.edges), by_pair(graph->snapshots[5].edges));
  EXPECT_FALSE(direct.edges.empty());

  auto events = services::testing::read_events(env.bus(), start.queue_id, start.telemetry_id);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().event.status, protocol::WorkflowStatus::kStarted);
  EXPECT_EQ(events.back().event.status, protocol::WorkflowStatus::kCompleted);
  EXPECT_NE(events.back().event.message.find("24 snapshots"), std::string::npos)
      << events.back().event.message;
  EXPECT_EQ(events.back().event.records_written,
            static_cast<int64_t>(graph->metadata["vertices"].get<int64_t>() +
                                 graph->metadata["edges"].get<int64_t>()));
}

TEST(GraphSimTest, JobFailsNamingTheMissingSymbol) {
  TestEnv env;
  ASSERT_TRUE(services::ensure_service_topics(env.bus()));
  ASSERT_TRUE(
      testing::store_sim_candles(env.store(), {"BTCUSDT"}, protocol::Interval::k1h, kDay, kDay + 24 * kHour));
  auto start =
      services::testing::make_start("wf-btcusdt-graph_build-20240801-a1b2c3", "graph-builder", "graph_build");
  start.extra["symbols"] = {"BTCUSDT", "ETHUSDT"};
  services::JobRegistry registry;
  registry.add(protocol::Worker::kGraphBuilder, make_graph_builder_job);
  services::JobEnvironment job_env{env.bus(), env.store(), registry};
  job_env.start_timeout = std::chrono::seconds(5);
  services::testing::publish_command(env.bus(), start);
  Status status = services::run_job(job_env, services::testing::spec_for(start));
  ASSERT_FALSE(status);
  auto events = services::testing::read_events(env.bus(), start.queue_id, start.telemetry_id);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event.status, protocol::WorkflowStatus::kError);
  EXPECT_NE(events.back().event.message.find("ETHUSDT"), std::string::npos) << events.back().event.message;
  EXPECT_NE(events.back().event.message.find("backfill"), std::string::npos);
}

}  // namespace
}  // namespace sf::analytics
