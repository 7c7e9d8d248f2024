#include "protocol/workflow_type.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace sf::protocol {
namespace {

constexpr TimestampMs kAug1 = 1722470400000;  // 2024-08-01T00:00:00Z

TimestampMs utc(std::string_view text) {
  auto t = parse_utc_time(text);
  EXPECT_TRUE(t) << text;
  return t ? *t : 0;
}

TEST(Interval, NamesRoundTripAndLengths) {
  const std::vector<std::string> names = {"1s", "1m", "3m", "5m",  "15m", "30m", "1h", "2h",
                                          "4h", "6h", "8h", "12h", "1d",  "3d",  "1w", "1M"};
  ASSERT_EQ(all_intervals().size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto iv = parse_interval(names[i]);
    ASSERT_TRUE(iv) << names[i];
    EXPECT_EQ(*iv, all_intervals()[i]);
    EXPECT_EQ(interval_name(*iv), names[i]);
  }
  EXPECT_EQ(interval_ms(Interval::k1s), 1000);
  EXPECT_EQ(interval_ms(Interval::k1m), 60'000);
  EXPECT_EQ(interval_ms(Interval::k5m), 300'000);
  EXPECT_EQ(interval_ms(Interval::k15m), 900'000);
  EXPECT_EQ(interval_ms(Interval::k12h), 43'200'000);
  EXPECT_EQ(interval_ms(Interval::k1d), 86'400'000);
  EXPECT_EQ(interval_ms(Interval::k3d), 3 * 86'400'000LL);
  EXPECT_EQ(interval_ms(Interval::k1w), 7 * 86'400'000LL);
  EXPECT_FALSE(interval_ms(Interval::k1M).has_value());
}

TEST(Interval, InvalidIntervalsListTheValidOnes) {
  for (std::string_view bad : {"", "7m", "1H", "1D", "5M", "m", "60s", " 1m"}) {
    auto iv = parse_interval(bad);
    ASSERT_FALSE(iv) << bad;
    EXPECT_EQ(iv.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(
        iv.status().message().find("valid intervals: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M"),
        std::string::npos)
        << iv.status().message();
  }
  // "1m" is a minute and "1M" a month: case matters.
  EXPECT_EQ(*parse_interval("1m"), Interval::k1m);
  EXPECT_EQ(*parse_interval("1M"), Interval::k1M);
}

TEST(Interval, NextOpenTime) {
  EXPECT_EQ(next_open_time(Interval::k5m, kAug1), kAug1 + 300'000);
  EXPECT_EQ(next_open_time(Interval::k1d, kAug1), kAug1 + 86'400'000);
  // Months vary: 31, 30, 29 (leap February), 28 days; December rolls the year.
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2024-08-01")), utc("2024-09-01"));
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2024-09-01")), utc("2024-10-01"));
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2024-01-01")), utc("2024-02-01"));
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2024-02-01")), utc("2024-03-01"));
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2023-02-01")), utc("2023-03-01"));
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2024-12-01")), utc("2025-01-01"));
  EXPECT_EQ(utc("2024-03-01") - utc("2024-02-01"), 29 * 86'400'000LL);
  // From inside a month: the start of the next one.
  EXPECT_EQ(next_open_time(Interval::k1M, utc("2024-08-31T23:59:59.999Z")), utc("2024-09-01"));
}

TEST(WorkflowType, EveryValidTypeParsesAndNamesBack) {
  std::vector<std::string> valid = {"api_trades",  "api_agg_trades", "ws_trades",   "ws_agg_trades",
                                    "ws_depth",    "ws_orderbook",   "bulk_trades", "bulk_agg_trades",
                                    "graph_build", "gnn_train"};
  for (const char* source : {"api", "ws", "bulk"}) {
    for (Interval iv : all_intervals())
      valid.push_back(fmt::format("{}_candles_{}", source, interval_name(iv)));
  }
  for (const std::string& name : valid) {
    auto t = parse_workflow_type(name);
    ASSERT_TRUE(t) << name << ": " << t.status().to_string();
    EXPECT_EQ(t->name(), name);
    EXPECT_EQ(t->interval.has_value(), t->kind == DataKind::kCandles) << name;
  }
}

TEST(WorkflowType, ParsedParts) {
  auto t = parse_workflow_type("api_candles_5m");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->source, Source::kApi);
  EXPECT_EQ(t->kind, DataKind::kCandles);
  EXPECT_EQ(t->interval, Interval::k5m);
  EXPECT_TRUE(t->is_market_data());

  t = parse_workflow_type("bulk_agg_trades");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->source, Source::kBulk);
  EXPECT_EQ(t->kind, DataKind::kAggTrades);
  EXPECT_FALSE(t->interval.has_value());

  t = parse_workflow_type("ws_candles_1M");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->source, Source::kWs);
  EXPECT_EQ(t->interval, Interval::k1M);

  t = parse_workflow_type("gnn_train");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->source, Source::kGnn);
  EXPECT_EQ(t->kind, DataKind::kGnnTrain);
  EXPECT_FALSE(t->is_market_data());
}

TEST(WorkflowType, GnnGraphIsGraphBuild) {
  auto t = parse_workflow_type("gnn_graph");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->source, Source::kGraph);
  EXPECT_EQ(t->kind, DataKind::kGraphBuild);
  EXPECT_EQ(t->name(), "graph_build");
  EXPECT_EQ(*t, *parse_workflow_type("graph_build"));
}

TEST(WorkflowType, InvalidTypes) {
  for (std::string_view bad : {"", "api", "api_", "api_klines_5m", "api_depth", "api_orderbook", "bulk_depth",
                               "bulk_orderbook", "ws_depth_5m", "API_candles_5m", "rest_candles_5m", "graph",
                               "gnn", "api_trades_5m", "ws_trades ", "candles_5m"}) {
    auto t = parse_workflow_type(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(fmt::format("'{}'", bad)), std::string::npos) << t.status().message();
  }
  auto t = parse_workflow_type("api_candles_7m");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().message(),
            "workflow type 'api_candles_7m' has an invalid interval '7m'; valid intervals: 1s 1m 3m 5m 15m "
            "30m 1h 2h "
            "4h 6h 8h 12h 1d 3d 1w 1M");
  t = parse_workflow_type("ws_candles");
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("needs an interval"), std::string::npos);
  t = parse_workflow_type("foo");
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("valid types: api_candles_<interval>"), std::string::npos);
}

TEST(Symbol, ValidationAndNormalisation) {
  for (std::string_view ok : {"BTCUSDT", "ETHBTC", "1000SATSUSDT", "A", "ABCDEFGHIJKLMNOPQRST"}) {
    EXPECT_TRUE(is_valid_symbol(ok)) << ok;
  }
  for (std::string_view bad :
       {"", "btcusdt", "BTC-USDT", "BTC USDT", "BTC/USDT", "ABCDEFGHIJKLMNOPQRSTU", "BTC\"X"}) {
    EXPECT_FALSE(is_valid_symbol(bad)) << bad;
  }
  EXPECT_EQ(*normalize_symbol("btcusdt"), "BTCUSDT");
  EXPECT_EQ(*normalize_symbol("EthBtc"), "ETHBTC");
  auto bad = normalize_symbol("btc-usdt");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().message(),
            "invalid symbol 'btc-usdt': Binance symbols are 1 to 20 letters and digits");
  EXPECT_FALSE(normalize_symbol(""));
  EXPECT_FALSE(normalize_symbol("abcdefghijklmnopqrstu"));
}

TEST(Target, NamesRoundTrip) {
  for (std::string_view name : {"loader-producer", "loader-api", "loader-ws", "arango-connector",
                                "graph-builder", "gnn-trainer", "dummy-service"}) {
    auto t = parse_target(name);
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(target_name(*t), name);
  }
  auto bad = parse_target("loader");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("unknown target 'loader'; valid targets: loader-producer"),
            std::string::npos);
}

Result<Worker> route_names(std::string_view target, std::string_view type) {
  auto t = parse_target(target);
  auto w = parse_workflow_type(type);
  EXPECT_TRUE(t && w) << target << " " << type;
  return route(*t, *w);
}

TEST(Target, LoadersAreRoutedByTheTypePrefix) {
  for (std::string_view loader : {"loader-producer", "loader-api", "loader-ws"}) {
    EXPECT_EQ(*route_names(loader, "api_candles_5m"), Worker::kRestLoader) << loader;
    EXPECT_EQ(*route_names(loader, "api_agg_trades"), Worker::kRestLoader) << loader;
    EXPECT_EQ(*route_names(loader, "ws_trades"), Worker::kWsLoader) << loader;
    EXPECT_EQ(*route_names(loader, "ws_depth"), Worker::kWsLoader) << loader;
    EXPECT_EQ(*route_names(loader, "bulk_candles_1d"), Worker::kBulkLoader) << loader;
    EXPECT_FALSE(route_names(loader, "graph_build")) << loader;
    EXPECT_FALSE(route_names(loader, "gnn_train")) << loader;
  }
  auto err = route_names("loader-producer", "gnn_train");
  ASSERT_FALSE(err);
  EXPECT_EQ(err.status().message(), "target 'loader-producer' cannot run workflow type 'gnn_train'");
}

TEST(Target, OtherTargets) {
  EXPECT_EQ(*route_names("arango-connector", "api_candles_5m"), Worker::kConnector);
  EXPECT_EQ(*route_names("arango-connector", "ws_orderbook"), Worker::kConnector);
  EXPECT_FALSE(route_names("arango-connector", "gnn_train"));
  EXPECT_EQ(*route_names("graph-builder", "graph_build"), Worker::kGraphBuilder);
  EXPECT_EQ(*route_names("graph-builder", "gnn_graph"), Worker::kGraphBuilder);
  EXPECT_FALSE(route_names("graph-builder", "gnn_train"));
  EXPECT_FALSE(route_names("graph-builder", "api_trades"));
  EXPECT_EQ(*route_names("gnn-trainer", "gnn_train"), Worker::kGnnTrainer);
  EXPECT_FALSE(route_names("gnn-trainer", "graph_build"));
  EXPECT_EQ(*route_names("dummy-service", "api_trades"), Worker::kDummy);
  EXPECT_EQ(*route_names("dummy-service", "gnn_train"), Worker::kDummy);
  EXPECT_EQ(worker_name(Worker::kRestLoader), "rest-loader");
}

}  // namespace
}  // namespace sf::protocol
