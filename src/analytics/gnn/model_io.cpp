// Saving a trained model (weights + metadata JSON) to an artifact store, loading it, predicting with it.
#include <fmt/format.h>

#include <chrono>

#include "analytics/gnn/gnn.h"

namespace sf::analytics {
namespace {

using protocol::Json;

constexpr std::string_view kWeightsFile = "weights.pt";
constexpr std::string_view kMetadataFile = "metadata.json";

Json normalisation_json(const Normalisation& norm) {
  Json j = Json::object();
  for (size_t f = 0; f < kFeatureCount; ++f) {
    j[std::string(kFeatureNames[f])] = Json{{"mean", norm.mean[f]}, {"scale", norm.scale[f]}};
  }
  return j;
}

Status corrupt_metadata(std::string_view model_id, std::string_view why) {
  return Status::corruption(fmt::format("model '{}': metadata.json {}", model_id, why));
}

}  // namespace

Status save_model(ArtifactStore& artifacts, std::string_view model_id, const TrainedModel& model,
                  const TrainParams& params, const GraphData& graph, const Normalisation& norm,
                  const Split& split, const std::vector<ModelReport>& comparison) {
  Json meta = Json::object();
  meta["model_id"] = std::string(model_id);
  meta["model"] = std::string(model_name(model.kind));
  meta["task"] = std::string(task_name(params.task));
  meta["created_at"] = format_utc_iso(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  meta["hyperparameters"] = params.to_json();
  meta["graph_id"] = graph.graph_id;
  meta["graph"] = to_json(graph.params);
  Json names = Json::array();
  for (auto name : kFeatureNames) names.push_back(std::string(name));
  meta["features"] = std::move(names);
  meta["normalisation"] = normalisation_json(norm);
  auto part = [&](size_t begin, size_t end) {
    return Json{{"snapshots", end - begin},
                {"from", format_utc_iso(graph.snapshots[begin].time)},
                {"to", format_utc_iso(graph.snapshots[end - 1].time)}};
  };
  meta["data"] = Json{{"train", part(split.train_begin, split.train_end)},
                      {"validation", part(split.val_begin, split.val_end)},
                      {"test", part(split.test_begin, split.test_end)}};
  meta["metrics"] = model.report.to_json();
  Json table = Json::array();
  for (const ModelReport& r : comparison) table.push_back(r.to_json());
  meta["comparison"] = std::move(table);
  SF_RETURN_IF_ERROR(artifacts.put(model_id, kWeightsFile, model.weights));
  // The metadata goes last: a model whose metadata exists is complete.
  return artifacts.put(model_id, kMetadataFile, meta.dump(2));
}

Result<SavedModel> load_model(ArtifactStore& artifacts, std::string_view model_id) {
  auto text = artifacts.get(model_id, kMetadataFile);
  if (!text) return text.status();
  SavedModel m;
  m.model_id = std::string(model_id);
  m.metadata = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!m.metadata.is_object()) return corrupt_metadata(model_id, "is not a JSON object");
  const Json& meta = m.metadata;
  auto kind = parse_model_kind(meta.value("model", ""));
  if (!kind) return corrupt_metadata(model_id, kind.status().message());
  m.kind = *kind;
  if (!meta.contains("hyperparameters") || !meta.contains("graph") || !meta.contains("normalisation")) {
    return corrupt_metadata(model_id, "lacks hyperparameters, graph or normalisation");
  }
  auto params = TrainParams::from_json(meta["hyperparameters"]);
  if (!params) return corrupt_metadata(model_id, params.status().message());
  m.params = *params;
  auto graph = graph_params_from_json(meta["graph"], meta["graph"].value("time_range", ""));
  if (!graph) return corrupt_metadata(model_id, graph.status().message());
  m.graph = *graph;
  for (size_t f = 0; f < kFeatureCount; ++f) {
    const Json& entry = meta["normalisation"].value(std::string(kFeatureNames[f]), Json());
    if (!entry.is_object() || !entry.value("mean", Json()).is_number() ||
        !entry.value("scale", Json()).is_number()) {
      return corrupt_metadata(model_id,
                              fmt::format("has no normalisation for feature '{}'", kFeatureNames[f]));
    }
    m.norm.mean[f] = entry["mean"].get<float>();
    m.norm.scale[f] = entry["scale"].get<float>();
  }
  auto weights = artifacts.get(model_id, kWeightsFile);
  if (!weights) return weights.status();
  m.weights = std::move(weights).value();
  return m;
}

Result<PredictionSet> predict_at(store::Store& store, const SavedModel& model, TimestampMs at) {
  const GraphParams& g = model.graph;
  const int64_t iv = g.interval_ms();
  PredictionSet out;
  out.task = model.params.task;
  out.time = at - ((at % iv) + iv) % iv;
  auto grid = load_candles(store, g.symbols, g.interval, out.time - g.window * iv, out.time);
  if (!grid) return grid.status();
  Snapshot snapshot;
  build_snapshot(*grid, g, out.time, snapshot);
  out.edges = snapshot.edges.size();
  const GraphDataset data = make_dataset(snapshot, model.norm);
  auto scores = predict_scores(model.kind, model.params, model.weights, data, 0, 1);
  if (!scores) return scores.status();
  for (size_t i = 0; i < g.symbols.size(); ++i) {
    Prediction p;
    p.symbol = g.symbols[i];
    p.mask = snapshot.nodes[i].mask;
    p.score = p.mask ? (*scores)[i] : 0.0f;
    p.window_candles = snapshot.nodes[i].window_candles;
    out.rows.push_back(std::move(p));
  }
  return out;
}

}  // namespace sf::analytics
