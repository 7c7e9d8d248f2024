// Parsing and naming of workflow types, intervals, symbols and targets; target routing.
#include "protocol/workflow_type.h"

#include <array>
#include <chrono>

#include <fmt/format.h>

namespace sf::protocol {
namespace {

struct IntervalInfo {
  Interval interval;
  std::string_view name;
  int64_t ms;  // 0 for the calendar month
};

constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

constexpr std::array<IntervalInfo, 16> kIntervals = {{
    {Interval::k1s, "1s", kSec},
    {Interval::k1m, "1m", kMin},
    {Interval::k3m, "3m", 3 * kMin},
    {Interval::k5m, "5m", 5 * kMin},
    {Interval::k15m, "15m", 15 * kMin},
    {Interval::k30m, "30m", 30 * kMin},
    {Interval::k1h, "1h", kHour},
    {Interval::k2h, "2h", 2 * kHour},
    {Interval::k4h, "4h", 4 * kHour},
    {Interval::k6h, "6h", 6 * kHour},
    {Interval::k8h, "8h", 8 * kHour},
    {Interval::k12h, "12h", 12 * kHour},
    {Interval::k1d, "1d", kDay},
    {Interval::k3d, "3d", 3 * kDay},
    {Interval::k1w, "1w", 7 * kDay},
    {Interval::k1M, "1M", 0},
}};

constexpr std::array<Interval, 16> kIntervalList = {
    Interval::k1s, Interval::k1m, Interval::k3m, Interval::k5m, Interval::k15m, Interval::k30m,
    Interval::k1h, Interval::k2h, Interval::k4h, Interval::k6h, Interval::k8h,  Interval::k12h,
    Interval::k1d, Interval::k3d, Interval::k1w, Interval::k1M,
};

static_assert(
    [] {
      for (std::size_t i = 0; i < kIntervals.size(); ++i) {
        if (kIntervals[i].interval != static_cast<Interval>(i) ||
            kIntervalList[i] != static_cast<Interval>(i))
          return false;
      }
      return true;
    }(),
    "interval tables must follow the enum's order");

// Bounds-checked so that a value cast from outside the enum cannot read past the table.
const IntervalInfo& info(Interval interval) {
  auto i = static_cast<std::size_t>(interval);
  return kIntervals[i < kIntervals.size() ? i : kIntervals.size() - 1];
}

std::string valid_interval_list() {
  std::string out;
  for (const auto& i : kIntervals) {
    if (!out.empty()) out += ' ';
    out += i.name;
  }
  return out;
}

constexpr std::string_view kValidTypes =
    "api_candles_<interval>, api_trades, api_agg_trades, ws_candles_<interval>, ws_trades, ws_agg_trades, "
    "ws_depth, ws_orderbook, bulk_candles_<interval>, bulk_trades, bulk_agg_trades, graph_build, gnn_train";

constexpr std::array<std::pair<Target, std::string_view>, 7> kTargets = {{
    {Target::kLoaderProducer, "loader-producer"},
    {Target::kLoaderApi, "loader-api"},
    {Target::kLoaderWs, "loader-ws"},
    {Target::kArangoConnector, "arango-connector"},
    {Target::kGraphBuilder, "graph-builder"},
    {Target::kGnnTrainer, "gnn-trainer"},
    {Target::kDummyService, "dummy-service"},
}};
static_assert(
    [] {
      for (std::size_t i = 0; i < kTargets.size(); ++i) {
        if (kTargets[i].first != static_cast<Target>(i)) return false;
      }
      return true;
    }(),
    "kTargets must follow the enum's order");

}  // namespace

std::string_view interval_name(Interval interval) {
  return info(interval).name;
}

Result<Interval> parse_interval(std::string_view text) {
  for (const auto& i : kIntervals) {
    if (i.name == text) return i.interval;
  }
  return Status::invalid_argument(
      fmt::format("invalid interval '{}'; valid intervals: {}", text, valid_interval_list()));
}

std::span<const Interval> all_intervals() {
  return kIntervalList;
}

std::optional<int64_t> interval_ms(Interval interval) {
  int64_t ms = info(interval).ms;
  if (ms == 0) return std::nullopt;
  return ms;
}

TimestampMs next_open_time(Interval interval, TimestampMs open_time) {
  if (auto ms = interval_ms(interval)) return open_time + *ms;
  using namespace std::chrono;
  auto day = floor<days>(sys_time<milliseconds>(milliseconds(open_time)));
  year_month_day ymd{day};
  year_month next = year_month{ymd.year(), ymd.month()} + months{1};
  sys_days start{next / std::chrono::day{1}};
  return duration_cast<milliseconds>(start.time_since_epoch()).count();
}

std::string_view source_name(Source source) {
  switch (source) {
    case Source::kApi:
      return "api";
    case Source::kWs:
      return "ws";
    case Source::kBulk:
      return "bulk";
    case Source::kGraph:
      return "graph";
    case Source::kGnn:
      return "gnn";
  }
  return "?";
}

std::string_view kind_name(DataKind kind) {
  switch (kind) {
    case DataKind::kCandles:
      return "candles";
    case DataKind::kTrades:
      return "trades";
    case DataKind::kAggTrades:
      return "agg_trades";
    case DataKind::kDepth:
      return "depth";
    case DataKind::kOrderbook:
      return "orderbook";
    case DataKind::kGraphBuild:
      return "graph_build";
    case DataKind::kGnnTrain:
      return "gnn_train";
  }
  return "?";
}

std::string WorkflowType::name() const {
  if (kind == DataKind::kGraphBuild || kind == DataKind::kGnnTrain) return std::string(kind_name(kind));
  std::string out(source_name(source));
  out += '_';
  out += kind_name(kind);
  if (interval) {
    out += '_';
    out += interval_name(*interval);
  }
  return out;
}

Result<WorkflowType> parse_workflow_type(std::string_view text) {
  if (text == "graph_build" || text == "gnn_graph")
    return WorkflowType{Source::kGraph, DataKind::kGraphBuild, {}};
  if (text == "gnn_train") return WorkflowType{Source::kGnn, DataKind::kGnnTrain, {}};

  auto unknown = [&] {
    return Status::invalid_argument(
        fmt::format("unknown workflow type '{}'; valid types: {}", text, kValidTypes));
  };
  WorkflowType type;
  std::string_view rest;
  if (text.starts_with("api_")) {
    type.source = Source::kApi;
    rest = text.substr(4);
  } else if (text.starts_with("ws_")) {
    type.source = Source::kWs;
    rest = text.substr(3);
  } else if (text.starts_with("bulk_")) {
    type.source = Source::kBulk;
    rest = text.substr(5);
  } else {
    return unknown();
  }

  if (rest == "candles") {
    return Status::invalid_argument(
        fmt::format("workflow type '{}' needs an interval ({}_<interval>); valid "
                    "intervals: {}",
                    text, text, valid_interval_list()));
  }
  if (rest.starts_with("candles_")) {
    std::string_view iv = rest.substr(8);
    auto interval = parse_interval(iv);
    if (!interval) {
      return Status::invalid_argument(
          fmt::format("workflow type '{}' has an invalid interval '{}'; valid "
                      "intervals: {}",
                      text, iv, valid_interval_list()));
    }
    type.kind = DataKind::kCandles;
    type.interval = *interval;
    return type;
  }
  if (rest == "trades") {
    type.kind = DataKind::kTrades;
  } else if (rest == "agg_trades") {
    type.kind = DataKind::kAggTrades;
  } else if (type.source == Source::kWs && rest == "depth") {
    type.kind = DataKind::kDepth;
  } else if (type.source == Source::kWs && rest == "orderbook") {
    type.kind = DataKind::kOrderbook;
  } else {
    return unknown();
  }
  return type;
}

bool is_valid_symbol(std::string_view symbol) {
  if (symbol.empty() || symbol.size() > 20) return false;
  for (char c : symbol) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

Result<std::string> normalize_symbol(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (!is_valid_symbol(out)) {
    return Status::invalid_argument(
        fmt::format("invalid symbol '{}': Binance symbols are 1 to 20 letters and digits", text));
  }
  return out;
}

std::string_view target_name(Target target) {
  auto i = static_cast<std::size_t>(target);
  return i < kTargets.size() ? kTargets[i].second : std::string_view("?");
}

Result<Target> parse_target(std::string_view text) {
  std::string valid;
  for (const auto& [target, name] : kTargets) {
    if (name == text) return target;
    if (!valid.empty()) valid += ", ";
    valid += name;
  }
  return Status::invalid_argument(fmt::format("unknown target '{}'; valid targets: {}", text, valid));
}

std::string_view worker_name(Worker worker) {
  switch (worker) {
    case Worker::kRestLoader:
      return "rest-loader";
    case Worker::kWsLoader:
      return "ws-loader";
    case Worker::kBulkLoader:
      return "bulk-loader";
    case Worker::kConnector:
      return "arango-connector";
    case Worker::kGraphBuilder:
      return "graph-builder";
    case Worker::kGnnTrainer:
      return "gnn-trainer";
    case Worker::kDummy:
      return "dummy-service";
  }
  return "?";
}

Result<Worker> route(Target target, const WorkflowType& type) {
  auto mismatch = [&] {
    return Status::invalid_argument(
        fmt::format("target '{}' cannot run workflow type '{}'", target_name(target), type.name()));
  };
  switch (target) {
    case Target::kLoaderProducer:
    case Target::kLoaderApi:
    case Target::kLoaderWs:
      switch (type.source) {
        case Source::kApi:
          return Worker::kRestLoader;
        case Source::kWs:
          return Worker::kWsLoader;
        case Source::kBulk:
          return Worker::kBulkLoader;
        case Source::kGraph:
        case Source::kGnn:
          return mismatch();
      }
      return mismatch();
    case Target::kArangoConnector:
      if (!type.is_market_data()) return mismatch();
      return Worker::kConnector;
    case Target::kGraphBuilder:
      if (type.kind != DataKind::kGraphBuild) return mismatch();
      return Worker::kGraphBuilder;
    case Target::kGnnTrainer:
      if (type.kind != DataKind::kGnnTrain) return mismatch();
      return Worker::kGnnTrainer;
    case Target::kDummyService:
      return Worker::kDummy;
  }
  return mismatch();
}

}  // namespace sf::protocol
