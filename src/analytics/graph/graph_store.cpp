// Building a graph into the store (vertex + edge collections and a metadata document), reading it back,
// exporting it.
#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "analytics/graph/graph.h"

namespace sf::analytics {
namespace {

using protocol::Json;

// Documents appended into one buffer; views handed to Store::upsert without a copy per document.
class DocumentBatch {
 public:
  std::string& begin_document() {
    starts_.push_back(buffer_.size());
    return buffer_;
  }
  size_t size() const { return starts_.size(); }
  Status flush(store::Store& store, const std::string& collection, int64_t& written) {
    if (starts_.empty()) return Status::ok();
    views_.clear();
    for (size_t i = 0; i < starts_.size(); ++i) {
      const size_t end = i + 1 < starts_.size() ? starts_[i + 1] : buffer_.size();
      views_.emplace_back(buffer_.data() + starts_[i], end - starts_[i]);
    }
    auto result =
        store.upsert(collection, std::span<const std::string_view>(views_), store::UpsertMode::kReplace);
    if (!result) return result.status();
    if (!result->rejected.empty()) {
      return Status::internal(
          fmt::format("graph: {} rejected a document: {}", collection, result->rejected.front().message));
    }
    written += static_cast<int64_t>(starts_.size());
    buffer_.clear();
    starts_.clear();
    return Status::ok();
  }

 private:
  std::string buffer_;
  std::vector<size_t> starts_;
  std::vector<std::string_view> views_;
};

Status drop_if_exists(store::Store& store, const std::string& collection) {
  Status dropped = store.drop_collection(collection);
  if (!dropped && dropped.code() != ErrorCode::kNotFound) return dropped;
  return Status::ok();
}

Status put_metadata(store::Store& store, const Json& doc) {
  const std::string text = doc.dump();
  auto result = store.upsert(kGraphsCollection, std::vector<std::string>{text}, store::UpsertMode::kReplace);
  if (!result) return result.status();
  if (!result->rejected.empty()) return Status::internal(result->rejected.front().message);
  return Status::ok();
}

Json feature_names_json() {
  Json names = Json::array();
  for (auto name : kFeatureNames) names.push_back(std::string(name));
  return names;
}

Status corrupt(std::string_view collection, std::string_view key, std::string_view why) {
  return Status::corruption(fmt::format("graph: {} document '{}': {}", collection, key, why));
}

}  // namespace

std::string vertex_collection(std::string_view graph_id) {
  return fmt::format("{}-vertices", graph_id);
}
std::string edge_collection(std::string_view graph_id) {
  return fmt::format("{}-edges", graph_id);
}

Result<BuildStats> build_graph(store::Store& store, std::string_view graph_id, const GraphParams& params,
                               const BuildOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const std::string vertices = vertex_collection(graph_id), edges = edge_collection(graph_id);
  if (Status valid = store::validate_collection_name(vertices); !valid) {
    return Status::invalid_argument(fmt::format("graph id '{}': {}", graph_id, valid.message()));
  }
  const std::vector<TimestampMs> times = params.snapshot_times();
  if (times.empty()) return Status::invalid_argument("graph: the time range holds no snapshot");
  const int64_t iv = params.interval_ms();
  auto grid = load_candles(store, params.symbols, params.interval, times.front() - params.window * iv,
                           times.back() + params.horizon * iv);
  if (!grid) return grid.status();

  SF_RETURN_IF_ERROR(drop_if_exists(store, vertices));
  SF_RETURN_IF_ERROR(drop_if_exists(store, edges));
  Json meta = Json::object();
  meta["_key"] = std::string(graph_id);
  meta["graph_id"] = std::string(graph_id);
  meta["status"] = "building";
  meta["vertex_collection"] = vertices;
  meta["edge_collection"] = edges;
  meta["parameters"] = to_json(params);
  meta["feature_names"] = feature_names_json();
  meta["label"] =
      "direction of the log return over the next `horizon` candles (1 up, 0 not up); `return` holds it";
  SF_RETURN_IF_ERROR(put_metadata(store, meta));

  BuildStats stats;
  stats.corrupt_candles = grid->corrupt_documents;
  DocumentBatch vertex_batch, edge_batch;
  int64_t written = 0;
  Snapshot snapshot;
  auto flush = [&](bool force) -> Status {
    if (!force && vertex_batch.size() + edge_batch.size() < options.batch_documents) return Status::ok();
    SF_RETURN_IF_ERROR(vertex_batch.flush(store, vertices, written));
    SF_RETURN_IF_ERROR(edge_batch.flush(store, edges, written));
    if (options.progress) return options.progress(stats);
    return Status::ok();
  };
  for (size_t si = 0; si < times.size(); ++si) {
    const TimestampMs t = times[si];
    build_snapshot(*grid, params, t, snapshot);
    for (size_t i = 0; i < snapshot.nodes.size(); ++i) {
      const Node& node = snapshot.nodes[i];
      const std::string& symbol = params.symbols[i];
      std::string& out = vertex_batch.begin_document();
      fmt::format_to(std::back_inserter(out),
                     R"({{"_key":"{}-{}","symbol":"{}","snapshot":{},"index":{},"mask":{},"features":)", t,
                     symbol, symbol, t, i, node.mask);
      if (node.mask) {
        fmt::format_to(std::back_inserter(out), "[{}]", fmt::join(node.features, ","));
      } else {
        out += "null";
      }
      if (node.label_mask) {
        fmt::format_to(std::back_inserter(out), R"(,"label":{},"return":{})", node.label_return > 0 ? 1 : 0,
                       node.label_return);
      } else {
        out += R"(,"label":null,"return":null)";
      }
      fmt::format_to(std::back_inserter(out), R"(,"window_candles":{}}})", node.window_candles);
      ++stats.vertices;
      stats.masked_vertices += node.mask ? 0 : 1;
      stats.labelled_vertices += node.label_mask ? 1 : 0;
    }
    for (const Edge& e : snapshot.edges) {
      const std::string& a = params.symbols[e.from];
      const std::string& b = params.symbols[e.to];
      fmt::format_to(std::back_inserter(edge_batch.begin_document()),
                     R"({{"_key":"{}-{}-{}","_from":"{}/{}-{}","_to":"{}/{}-{}","weight":{},"snapshot":{}}})",
                     t, a, b, vertices, t, a, vertices, t, b, e.weight, t);
    }
    stats.edges += static_cast<int64_t>(snapshot.edges.size());
    ++stats.snapshots;
    SF_RETURN_IF_ERROR(flush(false));
  }
  SF_RETURN_IF_ERROR(flush(true));
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  Json per_symbol = Json::object();
  for (const CandleSeries& s : grid->series) {
    Json info = Json::object();
    info["candles"] = s.candles;
    info["first_candle"] = s.first ? Json(format_utc_iso(*s.first)) : Json(nullptr);
    per_symbol[s.symbol] = std::move(info);
  }
  meta["status"] = "complete";
  meta["snapshots"] = stats.snapshots;
  meta["first_snapshot"] = times.front();
  meta["last_snapshot"] = times.back();
  meta["span"] =
      format_time_range(TimeRange{times.front() - params.window * iv, times.back() + params.horizon * iv});
  meta["vertices"] = stats.vertices;
  meta["masked_vertices"] = stats.masked_vertices;
  meta["labelled_vertices"] = stats.labelled_vertices;
  meta["edges"] = stats.edges;
  meta["corrupt_candles"] = stats.corrupt_candles;
  meta["candles"] = std::move(per_symbol);
  meta["candle_collections"] = grid->collections;
  meta["build_seconds"] = stats.seconds;
  SF_RETURN_IF_ERROR(put_metadata(store, meta));
  return stats;
}

Result<std::optional<Json>> graph_metadata(store::Store& store, std::string_view graph_id) {
  auto doc = store.get(kGraphsCollection, graph_id);
  if (!doc) {
    if (doc.status().code() == ErrorCode::kNotFound) return std::optional<Json>{};
    return doc.status();
  }
  if (!doc->has_value()) return std::optional<Json>{};
  Json meta = Json::parse(**doc, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) return corrupt(kGraphsCollection, graph_id, "not a JSON object");
  return std::optional<Json>{std::move(meta)};
}

Result<GraphData> load_graph(store::Store& store, std::string_view graph_id) {
  auto meta = graph_metadata(store, graph_id);
  if (!meta) return meta.status();
  if (!meta->has_value()) {
    return Status::not_found(
        fmt::format("graph '{}' does not exist (no document in '{}')", graph_id, kGraphsCollection));
  }
  GraphData graph;
  graph.graph_id = std::string(graph_id);
  graph.metadata = std::move(**meta);
  const Json& m = graph.metadata;
  if (m.value("status", "") != "complete") {
    return Status::failed_precondition(
        fmt::format("graph '{}' is not complete (status '{}')", graph_id, m.value("status", "")));
  }
  if (!m.contains("parameters") || !m["parameters"].is_object()) {
    return corrupt(kGraphsCollection, graph_id, "field 'parameters' is missing");
  }
  auto params = graph_params_from_json(m["parameters"], m["parameters"].value("time_range", ""));
  if (!params) return corrupt(kGraphsCollection, graph_id, params.status().message());
  graph.params = std::move(params).value();
  const GraphParams& p = graph.params;
  const std::vector<TimestampMs> times = p.snapshot_times();
  std::unordered_map<TimestampMs, size_t> snapshot_of;
  graph.snapshots.resize(times.size());
  for (size_t i = 0; i < times.size(); ++i) {
    snapshot_of.emplace(times[i], i);
    graph.snapshots[i].time = times[i];
    graph.snapshots[i].nodes.assign(p.symbols.size(), Node{});
  }
  std::unordered_map<std::string, uint32_t> node_of;
  for (uint32_t i = 0; i < p.symbols.size(); ++i) node_of.emplace(p.symbols[i], i);

  simdjson::ondemand::parser parser;
  // One buffer with simdjson's padding, reused for every document: no allocation per document.
  std::string buffer;
  auto padded = [&buffer](std::string_view text) {
    buffer.assign(text);
    if (buffer.capacity() < buffer.size() + simdjson::SIMDJSON_PADDING) {
      buffer.reserve(buffer.size() + simdjson::SIMDJSON_PADDING);
    }
    return simdjson::padded_string_view(buffer.data(), buffer.size(), buffer.capacity());
  };
  Status failure;
  const std::string vertices = vertex_collection(graph_id);
  Status scanned = store.scan(vertices, {}, [&](std::string_view key, std::string_view text) {
    simdjson::ondemand::document doc;
    int64_t t = 0, index = 0;
    bool mask = false;
    if (parser.iterate(padded(text)).get(doc) || doc["snapshot"].get_int64().get(t) ||
        doc["index"].get_int64().get(index) || doc["mask"].get_bool().get(mask)) {
      failure = corrupt(vertices, key, "snapshot, index or mask missing or mistyped");
      return false;
    }
    auto at = snapshot_of.find(t);
    if (at == snapshot_of.end() || index < 0 || static_cast<size_t>(index) >= p.symbols.size()) {
      failure = corrupt(vertices, key, "snapshot or index outside the graph's parameters");
      return false;
    }
    Node& node = graph.snapshots[at->second].nodes[static_cast<size_t>(index)];
    node.mask = mask;
    if (mask) {
      simdjson::ondemand::array features;
      if (doc["features"].get_array().get(features)) {
        failure = corrupt(vertices, key, "features missing on an unmasked vertex");
        return false;
      }
      size_t f = 0;
      for (auto value : features) {
        double x = 0;
        if (f >= kFeatureCount || value.get_double().get(x)) {
          failure = corrupt(vertices, key, "features must be numbers, as many as feature_names");
          return false;
        }
        node.features[f++] = static_cast<float>(x);
      }
      if (f != kFeatureCount) {
        failure = corrupt(vertices, key, "fewer features than feature_names");
        return false;
      }
    }
    simdjson::ondemand::value ret;
    if (!doc["return"].get(ret)) {
      bool is_null = false;
      if (!ret.is_null().get(is_null) && !is_null) {
        double r = 0;
        if (ret.get_double().get(r)) {
          failure = corrupt(vertices, key, "return must be a number or null");
          return false;
        }
        node.label_mask = true;
        node.label_return = static_cast<float>(r);
      }
    }
    int64_t candles = 0;
    if (!doc["window_candles"].get_int64().get(candles)) node.window_candles = static_cast<int>(candles);
    return true;
  });
  if (!scanned && scanned.code() != ErrorCode::kNotFound) return scanned;
  SF_RETURN_IF_ERROR(failure);

  const std::string edges = edge_collection(graph_id);
  auto node_from_id = [&](std::string_view id) -> std::optional<uint32_t> {
    const size_t dash = id.rfind('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto it = node_of.find(std::string(id.substr(dash + 1)));
    if (it == node_of.end()) return std::nullopt;
    return it->second;
  };
  scanned = store.scan(edges, {}, [&](std::string_view key, std::string_view text) {
    simdjson::ondemand::document doc;
    std::string_view from_id, to_id;
    int64_t t = 0;
    double weight = 0;
    if (parser.iterate(padded(text)).get(doc) || doc["_from"].get_string().get(from_id)) {
      failure = corrupt(edges, key, "_from missing");
      return false;
    }
    const std::string from_copy(from_id);  // the next field read invalidates the view
    if (doc["_to"].get_string().get(to_id) || doc["weight"].get_double().get(weight) ||
        doc["snapshot"].get_int64().get(t)) {
      failure = corrupt(edges, key, "_to, weight or snapshot missing or mistyped");
      return false;
    }
    auto from = node_from_id(from_copy), to = node_from_id(to_id);
    auto at = snapshot_of.find(t);
    if (!from || !to || at == snapshot_of.end()) {
      failure = corrupt(edges, key, "_from/_to/snapshot do not name a vertex of the graph");
      return false;
    }
    graph.snapshots[at->second].edges.push_back(Edge{*from, *to, static_cast<float>(weight)});
    return true;
  });
  if (!scanned && scanned.code() != ErrorCode::kNotFound) return scanned;
  SF_RETURN_IF_ERROR(failure);
  return graph;
}

Result<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "edgelist") return ExportFormat::kEdgeList;
  if (text == "json") return ExportFormat::kJson;
  return Status::invalid_argument(fmt::format("--format must be edgelist or json, not '{}'", text));
}

Status export_graph(const GraphData& graph, ExportFormat format, std::ostream& out) {
  const auto& symbols = graph.params.symbols;
  if (format == ExportFormat::kEdgeList) {
    out << "# graph " << graph.graph_id << ": " << graph.snapshots.size() << " snapshots, " << symbols.size()
        << " symbols; columns: snapshot from to weight\n";
    std::string line;
    for (const Snapshot& s : graph.snapshots) {
      const std::string time = format_utc_iso(s.time);
      for (const Edge& e : s.edges) {
        line.clear();
        fmt::format_to(std::back_inserter(line), "{} {} {} {}\n", time, symbols[e.from], symbols[e.to],
                       e.weight);
        out << line;
      }
    }
    return out ? Status::ok() : Status::io_error("graph export: write failed");
  }
  out << R"({"graph_id":)" << Json(graph.graph_id).dump() << R"(,"metadata":)" << graph.metadata.dump()
      << R"(,"snapshots":[)";
  for (size_t si = 0; si < graph.snapshots.size(); ++si) {
    const Snapshot& s = graph.snapshots[si];
    Json snap = Json::object();
    snap["time"] = format_utc_iso(s.time);
    snap["timestamp"] = s.time;
    Json nodes = Json::array();
    for (size_t i = 0; i < s.nodes.size(); ++i) {
      const Node& n = s.nodes[i];
      Json node = Json::object();
      node["symbol"] = symbols[i];
      node["mask"] = n.mask;
      node["features"] =
          n.mask ? Json(std::vector<float>(n.features.begin(), n.features.end())) : Json(nullptr);
      node["label"] = n.label_mask ? Json(n.label_return > 0 ? 1 : 0) : Json(nullptr);
      node["return"] = n.label_mask ? Json(n.label_return) : Json(nullptr);
      nodes.push_back(std::move(node));
    }
    snap["nodes"] = std::move(nodes);
    Json edges = Json::array();
    for (const Edge& e : s.edges) {
      edges.push_back(Json{{"from", symbols[e.from]}, {"to", symbols[e.to]}, {"weight", e.weight}});
    }
    snap["edges"] = std::move(edges);
    out << (si ? "," : "") << snap.dump();
  }
  out << "]}\n";
  return out ? Status::ok() : Status::io_error("graph export: write failed");
}

}  // namespace sf::analytics
