// Workflow types (the `type` field), Binance kline intervals, symbols, targets and the routing of a
// (target, type) pair to the worker that runs it. DESIGN.md, "Workflow types".
// Everything here is a pure function of its arguments: thread-safe, no allocation beyond the results.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time_range.h"

namespace sf::protocol {

// Binance's kline intervals, case-sensitive ("1m" is a minute, "1M" a calendar month).
enum class Interval { k1s, k1m, k3m, k5m, k15m, k30m, k1h, k2h, k4h, k6h, k8h, k12h, k1d, k3d, k1w, k1M };

// "5m"; "1M".
std::string_view interval_name(Interval interval);
// Exact, case-sensitive. The error lists every valid interval.
Result<Interval> parse_interval(std::string_view text);
// All intervals, shortest first.
std::span<const Interval> all_intervals();
// The fixed length in milliseconds; nullopt for 1M, whose length depends on the month (see next_open_time).
std::optional<int64_t> interval_ms(Interval interval);
// The open time of the kline following the one that opens at `open_time`: open_time + length for fixed
// intervals; for 1M the first instant of the calendar month after the one containing `open_time` (UTC).
TimestampMs next_open_time(Interval interval, TimestampMs open_time);

// The first part of a type name: where the data comes from or which analytics stage runs.
enum class Source { kApi, kWs, kBulk, kGraph, kGnn };
enum class DataKind { kCandles, kTrades, kAggTrades, kDepth, kOrderbook, kGraphBuild, kGnnTrain };

std::string_view source_name(Source source);  // "api", "ws", "bulk", "graph", "gnn"
std::string_view kind_name(DataKind kind);    // "candles", "agg_trades", "graph_build", ...

// A parsed `type`. Valid combinations (anything else is rejected by parse_workflow_type):
//   api_candles_<interval>  api_trades  api_agg_trades
//   ws_candles_<interval>   ws_trades   ws_agg_trades   ws_depth   ws_orderbook
//   bulk_candles_<interval> bulk_trades bulk_agg_trades
//   graph_build (the original's `gnn_graph` is accepted as an alias)   gnn_train
struct WorkflowType {
  Source source = Source::kApi;
  DataKind kind = DataKind::kCandles;
  std::optional<Interval> interval;  // set exactly when kind == kCandles

  // The canonical type string: "api_candles_5m", "graph_build" (never the alias).
  std::string name() const;
  // True for the market-data types a loader fetches (api_, ws_, bulk_).
  bool is_market_data() const {
    return source == Source::kApi || source == Source::kWs || source == Source::kBulk;
  }
  bool operator==(const WorkflowType&) const = default;
};

// Errors name the offending text and say what is valid (the interval list for a bad interval).
Result<WorkflowType> parse_workflow_type(std::string_view text);

// Binance symbols: 1..20 upper-case ASCII letters and digits ("BTCUSDT", "1000SATSUSDT").
bool is_valid_symbol(std::string_view symbol);
// Upper-cases `text` and validates it: "btcusdt" -> "BTCUSDT"; "btc-usdt" is an error.
Result<std::string> normalize_symbol(std::string_view text);

// The `target` of a request or `start` command: which job image/subcommand the manager launches.
enum class Target {
  kLoaderProducer,
  kLoaderApi,
  kLoaderWs,
  kArangoConnector,
  kGraphBuilder,
  kGnnTrainer,
  kDummyService,
};
std::string_view target_name(Target target);  // "loader-producer", ...
Result<Target> parse_target(std::string_view text);

// The code that actually runs a job.
enum class Worker { kRestLoader, kWsLoader, kBulkLoader, kConnector, kGraphBuilder, kGnnTrainer, kDummy };
std::string_view worker_name(Worker worker);  // "rest-loader", "ws-loader", "bulk-loader", ...

// Every loader-* target is routed by the type's prefix (api_ -> REST, ws_ -> WebSocket, bulk_ -> dump
// loader), because the seed sends REST jobs to `loader-producer`. arango-connector takes market-data
// types; graph-builder only graph_build; gnn-trainer only gnn_train; dummy-service anything.
// An impossible pair (a loader asked for gnn_train) is an invalid_argument error naming both.
Result<Worker> route(Target target, const WorkflowType& type);

}  // namespace sf::protocol
