// graph-builder (workflow type `graph_build`, `streamforge job graph-builder`): turns the stored candles of a
// set of symbols into a sequence of graph snapshots, stored ArangoDB-style. The public header of
// src/analytics/graph/.
//
// Time. Snapshots are taken at times T = S, S + step*I, ... < END, where I is the candle interval and S the
// first candle open time at or after the range start. A snapshot at T sees only candles that opened before T:
// its window is the `window` candles opening in [T - window*I, T). Its label looks ahead: the `horizon`
// candles opening in [T, T + horizon*I). Nothing of the label's candles enters the features or edges.
//
// Nodes = symbols. Per candle the builder uses r = ln(close/open), ln(volume), ln(1 + trades) and the taker
// share. Features of a node over its window (kFeatureNames, in this order):
//   ret_last         r of the window's last candle
//   ret_window       sum of r over the window (the window's log return)
//   volatility       realised volatility: sqrt(mean r^2)
//   volume_z         z-score of the last candle's ln(volume) against the window's
//   trades_z         z-score of the last candle's ln(1 + trades) against the window's
//   taker_imbalance  taker buy volume / volume - 0.5, last candle
// Edges = co-movement: Pearson correlation of r between two symbols over the candles both have in the
// window (signed weight). Kept when |corr| >= threshold and, with top_k > 0, when the pair is among the top_k
// strongest |corr| of either endpoint. Undirected: stored once, `_from` the symbol listed first.
// Label: the sum of r over the horizon (the return), and its direction (1 if > 0, else 0).
//
// Missing data is explicit, never a silent zero. A node is masked (mask=false, features=null) when fewer
// than ceil(min_coverage * window) of its window candles exist or its last window candle is missing (a
// symbol listed late, a gap); masked nodes get no edges. A pair needs ceil(min_coverage * window) (and at
// least 3) common candles for an edge. A label is masked (label=null) unless every horizon candle exists.
// A symbol without a single candle over the whole range is an error naming it (nothing to mask: the data
// was never loaded).
//
// Candles come from every collection named `<symbol>_{api,bulk,ws}_candles_<interval>_*` (the backfill's
// naming, protocol/naming.h), merged by open time, so several backfills of one symbol combine.
//
// Storage (graph id G, e.g. the workflow id):
//   `G-vertices`  {_key:"<T>-<SYMBOL>", symbol, snapshot:T, index, mask, features:[..]|null,
//                  label:0|1|null, return:x|null, window_candles:n}
//   `G-edges`     {_key:"<T>-<FROM>-<TO>", _from:"G-vertices/<T>-<FROM>", _to:"G-vertices/<T>-<TO>",
//                  weight, snapshot:T}
//   `graphs`      {_key:G, status:"building"|"complete", parameters, feature_names, symbols, counts, span}
// Keys put snapshots in time order (13-digit millisecond times sort bytewise).
//
// Thread-safety: free functions are reentrant; a GraphBuilderJob runs once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time_range.h"
#include "protocol/json_fields.h"
#include "protocol/workflow_type.h"
#include "services/job/job.h"
#include "store/store.h"

namespace sf::analytics {

inline constexpr std::array<std::string_view, 6> kFeatureNames = {
    "ret_last", "ret_window", "volatility", "volume_z", "trades_z", "taker_imbalance"};
inline constexpr size_t kFeatureCount = kFeatureNames.size();

// The collection holding one metadata document per graph.
inline constexpr std::string_view kGraphsCollection = "graphs";

struct GraphParams {
  std::vector<std::string> symbols;                       // >= 2, distinct, upper case; node order
  protocol::Interval interval = protocol::Interval::k1h;  // any fixed-length interval (not 1M)
  TimeRange range;                                        // snapshot times, [start, end); end required
  int window = 24;                                        // candles per window, >= 3
  int step = 1;                                           // candles between snapshots, >= 1
  int horizon = 1;                                        // candles the label looks ahead, >= 1
  int top_k = 5;                                          // strongest edges kept per node; 0 = no cap
  double threshold = 0.0;                                 // minimum |corr| of an edge, in [0, 1]
  double min_coverage = 0.8;                              // share of window candles a node needs, (0, 1]

  int64_t interval_ms() const;
  // Candles a node needs in its window, and a pair in common: ceil(min_coverage * window), at least 3.
  int required_candles() const;
  // Snapshot times, in order.
  std::vector<TimestampMs> snapshot_times() const;
};

// Reads graph parameters from request/start-command fields: symbols (array of strings), interval, window,
// step, horizon, top_k, threshold, min_coverage; `time_range` is given apart. InvalidArgument naming the
// field ("field 'window': must be an integer >= 3, got 1"). Absent fields keep their defaults.
Result<GraphParams> graph_params_from_json(const protocol::Json& fields, std::string_view time_range);
protocol::Json to_json(const GraphParams& params);

// ---------------------------------------------------------------------------------------------------------
// Candles on a regular grid

// One symbol's candles on the grid start_ms + i*interval, i in [0, slots).
struct CandleSeries {
  std::string symbol;
  std::vector<uint8_t> present;      // 1 if the candle exists
  std::vector<double> log_return;    // ln(close/open)
  std::vector<double> log_volume;    // ln(volume), ln(1e-12) for zero volume
  std::vector<double> log_trades;    // ln(1 + number_of_trades)
  std::vector<double> taker_share;   // taker_buy_base / volume (0.5 for zero volume)
  std::optional<TimestampMs> first;  // first candle open time found
  int64_t candles = 0;               // how many exist
};

struct CandleGrid {
  TimestampMs start_ms = 0;
  int64_t interval_ms = 0;
  size_t slots = 0;
  std::vector<CandleSeries> series;      // one per symbol, in params.symbols order
  int64_t corrupt_documents = 0;         // stored documents that did not parse (skipped, logged)
  std::vector<std::string> collections;  // the collections read

  // The slot of time t (t on the grid).
  int64_t slot(TimestampMs t) const { return (t - start_ms) / interval_ms; }
};

// The candle collections of `symbol` at `interval` in `store` (every `<sym>_{api,bulk,ws}_candles_<iv>_*`).
Result<std::vector<std::string>> candle_collections(store::Store& store, std::string_view symbol,
                                                    protocol::Interval interval);

// Loads the candles [from, to) of every symbol onto a grid (from aligned to the interval). Errors:
// NotFound naming every symbol that has no candle at all in [from, to) (and the collections looked at).
Result<CandleGrid> load_candles(store::Store& store, const std::vector<std::string>& symbols,
                                protocol::Interval interval, TimestampMs from, TimestampMs to);

// ---------------------------------------------------------------------------------------------------------
// Snapshots

struct Edge {
  uint32_t from = 0;  // node indices (symbols order), from < to
  uint32_t to = 0;
  float weight = 0;  // signed correlation
};

struct Node {
  bool mask = false;                            // features valid
  std::array<float, kFeatureCount> features{};  // meaningful only when mask
  bool label_mask = false;                      // label valid
  float label_return = 0;                       // sum of r over the horizon
  int window_candles = 0;                       // candles present in the window
};

struct Snapshot {
  TimestampMs time = 0;
  std::vector<Node> nodes;  // one per symbol
  std::vector<Edge> edges;
};

// Builds the snapshot at time T (on the grid, with the window and horizon inside the grid or partly outside:
// missing slots count as missing candles). Reuses `out`'s buffers.
void build_snapshot(const CandleGrid& grid, const GraphParams& params, TimestampMs t, Snapshot& out);

// ---------------------------------------------------------------------------------------------------------
// Stored graphs

std::string vertex_collection(std::string_view graph_id);  // "<graph_id>-vertices"
std::string edge_collection(std::string_view graph_id);    // "<graph_id>-edges"

struct BuildStats {
  int64_t snapshots = 0;
  int64_t vertices = 0;
  int64_t masked_vertices = 0;
  int64_t labelled_vertices = 0;
  int64_t edges = 0;
  int64_t corrupt_candles = 0;
  double seconds = 0;
};

struct BuildOptions {
  size_t batch_documents = 4096;  // documents per upsert
  // Called after each stored batch with the documents written so far; return Cancelled to stop.
  std::function<Status(const BuildStats&)> progress;
};

// Builds graph `graph_id` from the store's candles and stores it (replacing a previous graph of that id):
// metadata `building`, vertices and edges, metadata `complete` with the counts.
Result<BuildStats> build_graph(store::Store& store, std::string_view graph_id, const GraphParams& params,
                               const BuildOptions& options = {});

// A stored graph read back.
struct GraphData {
  std::string graph_id;
  GraphParams params;
  protocol::Json metadata;  // the `graphs` document
  std::vector<Snapshot> snapshots;
};

// Reads a complete graph. NotFound when there is no metadata document, FailedPrecondition when it is not
// `complete`, Corruption naming a bad document.
Result<GraphData> load_graph(store::Store& store, std::string_view graph_id);
// The metadata document alone; nullopt when absent.
Result<std::optional<protocol::Json>> graph_metadata(store::Store& store, std::string_view graph_id);

enum class ExportFormat { kEdgeList, kJson };
Result<ExportFormat> parse_export_format(std::string_view text);  // "edgelist" | "json"

// Writes a stored graph: edgelist = a `#` header then one line per edge "<snapshot ISO time> FROM TO weight";
// json = {"graph_id", "metadata", "snapshots":[{"time","nodes":[{symbol,mask,features,label,return}],
// "edges":[{from,to,weight}]}]}.
Status export_graph(const GraphData& graph, ExportFormat format, std::ostream& out);

// ---------------------------------------------------------------------------------------------------------
// The job

// Runs build_graph for its start command: symbols etc. from the command's extra fields (graph_params_
// from_json), its time_range, graph id = extra `graph_id` (or the seed's `graph_collection`) else the
// queue_id. Progress: `loading` with the documents written; the final message gives the counts.
class GraphBuilderJob final : public services::Job {
 public:
  Status run(services::JobContext& ctx) override;
};

std::unique_ptr<services::Job> make_graph_builder_job();

// The graph id of a graph_build/gnn_train start command: extra `graph_id`, else `graph_collection`, else
// the queue_id.
Result<std::string> graph_id_of(const protocol::ControlMessage& start);

}  // namespace sf::analytics
