// `streamforge graph export|show` and `streamforge gnn predict|show`: read stored graphs and saved models of
// a data directory (the embedded store, so not while `serve` holds it; stop it or use the REST API's
// /collections/<graph>-vertices|edges/documents), and predict with a saved model.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "analytics/graph/graph.h"
#if SF_WITH_GNN
#include "analytics/gnn/gnn.h"
#endif
#include "cli/commands.h"
#include "store/store.h"

namespace sf::cli {
namespace {

std::unique_ptr<store::Store> open_store(const std::string& data_dir) {
  store::RocksDbStoreOptions options;
  options.path = (std::filesystem::path(data_dir) / "store").string();
  options.block_cache_bytes = size_t{64} << 20;
  auto store = store::open_rocksdb_store(options);
  if (!store && store.status().code() == ErrorCode::kUnavailable) {
    throw Error(Status::unavailable(fmt::format(
        "{}; a running `streamforge serve` holds the data dir: stop it first, or read the graph collections "
        "through its REST API (GET /collections/<graph_id>-edges/documents)",
        store.status().message())));
  }
  return value_or_throw(std::move(store));
}

struct GraphOptions {
  std::string data_dir = "./streamforge-data";
  std::string graph_id;
  std::string format = "edgelist";
  std::string output;
};

#if SF_WITH_GNN
struct GnnOptions {
  std::string data_dir = "./streamforge-data";
  std::string artifacts;  // "" = <data dir>/artifacts
  std::string model_id;
  std::string at;
  bool json = false;
};
#endif

}  // namespace

CommandRunner setup_graph(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<GraphOptions>();
  app.require_subcommand(1);
  app.fallthrough();
  bind_option(app, "--data-dir", o->data_dir, "data directory of the embedded store");
  auto* exporter = app.add_subcommand("export", "Write a stored graph as an edge list or JSON");
  exporter->add_option("graph", o->graph_id, "graph id (the graph_build workflow id by default)")->required();
  bind_option(*exporter, "--format", o->format, "edgelist | json");
  bind_option(*exporter, "--output", o->output, "file to write (default: standard output)");
  auto* show = app.add_subcommand("show", "Print a graph's metadata document");
  show->add_option("graph", o->graph_id, "graph id")->required();
  return [o, exporter, show]() -> int {
    auto store = open_store(o->data_dir);
    if (show->parsed()) {
      auto meta = value_or_throw(analytics::graph_metadata(*store, o->graph_id));
      if (!meta) throw Error(Status::not_found(fmt::format("graph '{}' does not exist", o->graph_id)));
      fmt::print("{}\n", meta->dump(2));
      return 0;
    }
    if (!exporter->parsed()) return 2;
    const auto format = value_or_throw(analytics::parse_export_format(o->format));
    auto graph = value_or_throw(analytics::load_graph(*store, o->graph_id));
    if (o->output.empty()) {
      throw_if_error(analytics::export_graph(graph, format, std::cout));
      std::cout.flush();
      return 0;
    }
    std::ofstream out(o->output, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(Status::io_error(fmt::format("cannot write {}", o->output)));
    throw_if_error(analytics::export_graph(graph, format, out));
    return 0;
  };
}

#if SF_WITH_GNN
CommandRunner setup_gnn(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<GnnOptions>();
  app.require_subcommand(1);
  app.fallthrough();
  bind_option(app, "--data-dir", o->data_dir, "data directory of the embedded store (and default artifacts)");
  bind_option(app, "--artifacts", o->artifacts,
              "artifact store: a folder or s3://bucket/prefix (default: <data dir>/artifacts)");
  auto* predict = app.add_subcommand("predict", "Predict every symbol of a saved model at a time");
  bind_option(*predict, "--model", o->model_id, "model id (the gnn_train workflow id by default)")
      ->required();
  bind_option(*predict, "--at", o->at, "UTC time, e.g. 2024-08-10T12:00 (floored to the model's interval)")
      ->required();
  bind_switch(*predict, "--json", o->json, "print JSON instead of a table");
  auto* show = app.add_subcommand("show", "Print a saved model's metadata (parameters, metrics, data range)");
  bind_option(*show, "--model", o->model_id, "model id")->required();
  return [o, predict, show]() -> int {
    const std::string location =
        o->artifacts.empty() ? (std::filesystem::path(o->data_dir) / "artifacts").string() : o->artifacts;
    auto artifacts = value_or_throw(analytics::open_artifact_store(location));
    auto model = value_or_throw(analytics::load_model(*artifacts, o->model_id));
    if (show->parsed()) {
      fmt::print("{}\n", model.metadata.dump(2));
      return 0;
    }
    if (!predict->parsed()) return 2;
    auto at = parse_utc_time(o->at);
    if (!at) throw Error(Status::invalid_argument(fmt::format("--at: {}", at.status().message())));
    auto store = open_store(o->data_dir);
    auto set = value_or_throw(analytics::predict_at(*store, model, *at));
    const bool direction = set.task == analytics::Task::kDirection;
    if (o->json) {
      protocol::Json rows = protocol::Json::array();
      for (const auto& r : set.rows) {
        rows.push_back(
            {{"symbol", r.symbol},
             {"mask", r.mask},
             {direction ? "p_up" : "return", r.mask ? protocol::Json(r.score) : protocol::Json(nullptr)},
             {"window_candles", r.window_candles}});
      }
      protocol::Json out = {{"model", o->model_id},
                            {"time", format_utc_iso(set.time)},
                            {"task", std::string(analytics::task_name(set.task))},
                            {"edges", set.edges},
                            {"predictions", rows}};
      fmt::print("{}\n", out.dump(2));
      return 0;
    }
    fmt::print("model {} ({}), snapshot {} ({} edges)\n", o->model_id, analytics::model_name(model.kind),
               format_utc_iso(set.time), set.edges);
    fmt::print("{:<16} {:>10} {:>10}\n", "SYMBOL", direction ? "P(UP)" : "RETURN", "CANDLES");
    for (const auto& r : set.rows) {
      if (!r.mask) {
        fmt::print("{:<16} {:>10} {:>10}\n", r.symbol, "masked", r.window_candles);
      } else {
        fmt::print("{:<16} {:>10.4f} {:>10}\n", r.symbol, r.score, r.window_candles);
      }
    }
    return 0;
  };
}
#endif

}  // namespace sf::cli
