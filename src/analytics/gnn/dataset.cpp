// Training parameters, the chronological split, normalisation, dense datasets, metrics and baselines:
// everything of the trainer that needs no LibTorch.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analytics/gnn/gnn.h"

namespace sf::analytics {
namespace {

using protocol::Json;

Status field_error(std::string_view field, std::string_view why) {
  return Status::invalid_argument(fmt::format("field '{}': {}", field, why));
}

template <typename T>
Status read_number(const Json& fields, std::string_view name, T min, T max, T& out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->is_null()) return Status::ok();
  if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer())
      return field_error(name, fmt::format("must be an integer, got {}", it->type_name()));
  } else {
    if (!it->is_number()) return field_error(name, fmt::format("must be a number, got {}", it->type_name()));
  }
  const T v = it->get<T>();
  if (!(v >= min && v <= max))
    return field_error(name, fmt::format("must be in [{}, {}], got {}", min, max, v));
  out = v;
  return Status::ok();
}

}  // namespace

std::string_view model_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kGcn:
      return "gcn";
    case ModelKind::kSage:
      return "sage";
    case ModelKind::kMlp:
      return "mlp";
  }
  return "?";
}

Result<ModelKind> parse_model_kind(std::string_view text) {
  for (ModelKind k : {ModelKind::kGcn, ModelKind::kSage, ModelKind::kMlp}) {
    if (text == model_name(k)) return k;
  }
  return Status::invalid_argument(fmt::format("unknown model '{}'; valid: gcn, sage, mlp", text));
}

std::string_view task_name(Task task) {
  return task == Task::kDirection ? "direction" : "return";
}

Result<TrainParams> TrainParams::from_json(const Json& fields) {
  TrainParams p;
  if (!fields.is_object()) return Status::invalid_argument("training parameters must be a JSON object");
  SF_RETURN_IF_ERROR(read_number(fields, "hidden", 1, 4096, p.hidden));
  SF_RETURN_IF_ERROR(read_number(fields, "layers", 1, 8, p.layers));
  SF_RETURN_IF_ERROR(read_number(fields, "dropout", 0.0, 0.95, p.dropout));
  SF_RETURN_IF_ERROR(read_number(fields, "learning_rate", 1e-6, 10.0, p.learning_rate));
  SF_RETURN_IF_ERROR(read_number(fields, "weight_decay", 0.0, 1.0, p.weight_decay));
  SF_RETURN_IF_ERROR(read_number(fields, "epochs", 1, 100000, p.epochs));
  SF_RETURN_IF_ERROR(read_number(fields, "patience", 1, 100000, p.patience));
  SF_RETURN_IF_ERROR(read_number(fields, "batch_snapshots", 1, 1000000, p.batch_snapshots));
  SF_RETURN_IF_ERROR(read_number(fields, "train_fraction", 0.05, 0.95, p.train_fraction));
  SF_RETURN_IF_ERROR(read_number(fields, "val_fraction", 0.01, 0.9, p.val_fraction));
  SF_RETURN_IF_ERROR(read_number(fields, "seed", int64_t{0}, INT64_MAX, p.seed));
  SF_RETURN_IF_ERROR(read_number(fields, "threads", 0, 1024, p.threads));
  if (p.train_fraction + p.val_fraction >= 0.99) {
    return field_error("val_fraction",
                       fmt::format("train_fraction + val_fraction must leave a test part, got {} + {}",
                                   p.train_fraction, p.val_fraction));
  }
  if (auto it = fields.find("model"); it != fields.end() && !it->is_null()) {
    if (!it->is_string())
      return field_error("model", fmt::format("must be a string, got {}", it->type_name()));
    auto kind = parse_model_kind(it->get<std::string>());
    if (!kind) return field_error("model", kind.status().message());
    p.model = *kind;
  }
  if (auto it = fields.find("compare"); it != fields.end() && !it->is_null()) {
    if (!it->is_array())
      return field_error("compare", fmt::format("must be an array of model names, got {}", it->type_name()));
    p.compare.clear();
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& v = (*it)[i];
      const std::string path = fmt::format("compare[{}]", i);
      if (!v.is_string()) return field_error(path, fmt::format("must be a string, got {}", v.type_name()));
      auto kind = parse_model_kind(v.get<std::string>());
      if (!kind) return field_error(path, kind.status().message());
      if (std::find(p.compare.begin(), p.compare.end(), *kind) == p.compare.end()) p.compare.push_back(*kind);
    }
  }
  if (std::find(p.compare.begin(), p.compare.end(), p.model) == p.compare.end())
    p.compare.insert(p.compare.begin(), p.model);
  if (auto it = fields.find("task"); it != fields.end() && !it->is_null()) {
    if (!it->is_string())
      return field_error("task", fmt::format("must be a string, got {}", it->type_name()));
    const std::string task = it->get<std::string>();
    if (task == "direction") {
      p.task = Task::kDirection;
    } else if (task == "return") {
      p.task = Task::kReturn;
    } else {
      return field_error("task", fmt::format("must be direction or return, got '{}'", task));
    }
  }
  return p;
}

Json TrainParams::to_json() const {
  Json j = Json::object();
  j["model"] = std::string(model_name(model));
  Json models = Json::array();
  for (ModelKind k : compare) models.push_back(std::string(model_name(k)));
  j["compare"] = std::move(models);
  j["task"] = std::string(task_name(task));
  j["hidden"] = hidden;
  j["layers"] = layers;
  j["dropout"] = dropout;
  j["learning_rate"] = learning_rate;
  j["weight_decay"] = weight_decay;
  j["epochs"] = epochs;
  j["patience"] = patience;
  j["batch_snapshots"] = batch_snapshots;
  j["train_fraction"] = train_fraction;
  j["val_fraction"] = val_fraction;
  j["seed"] = seed;
  j["threads"] = threads;
  return j;
}

Result<Split> chronological_split(size_t snapshots, const GraphParams& graph, const TrainParams& params) {
  const size_t embargo = static_cast<size_t>((graph.horizon + graph.step - 1) / graph.step);
  Split s;
  s.train_end = static_cast<size_t>(std::floor(params.train_fraction * static_cast<double>(snapshots)));
  s.val_begin = s.train_end + embargo;
  s.val_end = static_cast<size_t>(
      std::floor((params.train_fraction + params.val_fraction) * static_cast<double>(snapshots)));
  s.test_begin = s.val_end + embargo;
  s.test_end = snapshots;
  if (s.train_end == 0 || s.val_begin >= s.val_end || s.test_begin >= s.test_end) {
    return Status::failed_precondition(
        fmt::format("{} snapshots are too few for a train/validation/test split ({} / {} / rest, embargo {} "
                    "between parts)",
                    snapshots, params.train_fraction, params.val_fraction, embargo));
  }
  return s;
}

Normalisation fit_normalisation(const GraphData& graph, size_t train_begin, size_t train_end) {
  Normalisation norm;
  std::array<double, kFeatureCount> sum{}, sum2{};
  int64_t n = 0;
  for (size_t s = train_begin; s < train_end && s < graph.snapshots.size(); ++s) {
    for (const Node& node : graph.snapshots[s].nodes) {
      if (!node.mask) continue;
      for (size_t f = 0; f < kFeatureCount; ++f) {
        sum[f] += node.features[f];
        sum2[f] += static_cast<double>(node.features[f]) * node.features[f];
      }
      ++n;
    }
  }
  for (size_t f = 0; f < kFeatureCount; ++f) {
    const double mean = n ? sum[f] / n : 0.0;
    const double sd = n ? std::sqrt(std::max(0.0, sum2[f] / n - mean * mean)) : 1.0;
    norm.mean[f] = static_cast<float>(mean);
    norm.scale[f] = sd > 1e-12 ? static_cast<float>(sd) : 1.0f;
  }
  return norm;
}

namespace {

void append_snapshot(GraphDataset& d, const Snapshot& s, const Normalisation& norm) {
  d.times.push_back(s.time);
  for (const Node& node : s.nodes) {
    d.node_mask.push_back(node.mask);
    d.label_mask.push_back(node.mask && node.label_mask);
    d.label_return.push_back(node.label_mask ? node.label_return : 0.0f);
    d.last_return.push_back(node.mask ? node.features[0] : 0.0f);
    for (size_t f = 0; f < kFeatureCount; ++f) {
      d.x.push_back(node.mask ? (node.features[f] - norm.mean[f]) / norm.scale[f] : 0.0f);
    }
  }
  d.edges.push_back(s.edges);
}

}  // namespace

GraphDataset make_dataset(const GraphData& graph, const Normalisation& norm) {
  GraphDataset d;
  d.nodes = graph.params.symbols.size();
  const size_t cells = graph.snapshots.size() * d.nodes;
  d.x.reserve(cells * kFeatureCount);
  d.node_mask.reserve(cells);
  d.label_mask.reserve(cells);
  d.label_return.reserve(cells);
  d.last_return.reserve(cells);
  for (const Snapshot& s : graph.snapshots) append_snapshot(d, s, norm);
  return d;
}

GraphDataset make_dataset(const Snapshot& snapshot, const Normalisation& norm) {
  GraphDataset d;
  d.nodes = snapshot.nodes.size();
  append_snapshot(d, snapshot, norm);
  return d;
}

// ---------------------------------------------------------------------------------------------------------

std::optional<double> roc_auc(const std::vector<float>& scores, const std::vector<uint8_t>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  size_t pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;  // ranks i+1..j
    for (size_t k = i; k < j; ++k) {
      if (positive[order[k]]) {
        rank_sum += mean_rank;
        ++pos;
      }
    }
    i = j;
  }
  const size_t neg = n - pos;
  if (pos == 0 || neg == 0) return std::nullopt;
  const double p = static_cast<double>(pos);
  return (rank_sum - p * (p + 1) / 2.0) / (p * static_cast<double>(neg));
}

Metrics score(Task task, const std::vector<float>& scores, const std::vector<float>& labels_return) {
  Metrics m;
  m.count = static_cast<int64_t>(scores.size());
  if (scores.empty()) return m;
  std::vector<uint8_t> up(scores.size());
  int64_t correct = 0, tp = 0, tn = 0, pos = 0, neg = 0;
  double se = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    up[i] = labels_return[i] > 0;
    const bool predicted_up = task == Task::kDirection ? scores[i] >= 0.5f : scores[i] > 0;
    correct += predicted_up == static_cast<bool>(up[i]);
    if (up[i]) {
      ++pos;
      tp += predicted_up;
    } else {
      ++neg;
      tn += !predicted_up;
    }
    const double target = task == Task::kDirection ? static_cast<double>(up[i]) : labels_return[i];
    se += (scores[i] - target) * (scores[i] - target);
  }
  const double n = static_cast<double>(scores.size());
  m.accuracy = static_cast<double>(correct) / n;
  const double tpr = pos ? static_cast<double>(tp) / static_cast<double>(pos) : 0.0;
  const double tnr = neg ? static_cast<double>(tn) / static_cast<double>(neg) : 0.0;
  m.balanced_accuracy = pos && neg ? (tpr + tnr) / 2 : (pos ? tpr : tnr);
  m.mse = se / n;
  const bool constant =
      std::all_of(scores.begin(), scores.end(), [&](float s) { return s == scores.front(); });
  if (task == Task::kDirection && !constant) m.auc = roc_auc(scores, up);
  return m;
}

Json Metrics::to_json() const {
  Json j = Json::object();
  j["count"] = count;
  j["accuracy"] = accuracy;
  j["balanced_accuracy"] = balanced_accuracy;
  j["auc"] = auc ? Json(*auc) : Json(nullptr);
  j["mse"] = mse;
  return j;
}

Json ModelReport::to_json() const {
  Json j = Json::object();
  j["model"] = model;
  j["validation"] = validation.to_json();
  j["test"] = test.to_json();
  j["epochs"] = epochs;
  j["best_epoch"] = best_epoch;
  j["seconds_per_epoch"] = seconds_per_epoch;
  return j;
}

std::vector<ModelReport> baseline_reports(Task task, const GraphDataset& data, const Split& split) {
  const size_t n = data.nodes;
  // The training set's majority class (direction) or mean return (return task).
  double up = 0, total = 0, sum = 0;
  for (size_t s = split.train_begin; s < split.train_end; ++s) {
    for (size_t i = 0; i < n; ++i) {
      const size_t c = s * n + i;
      if (!data.label_mask[c]) continue;
      up += data.label_return[c] > 0;
      sum += data.label_return[c];
      ++total;
    }
  }
  const float majority = task == Task::kDirection ? (up * 2 >= total ? 1.0f : 0.0f)
                                                  : static_cast<float>(total ? sum / total : 0.0);
  auto evaluate = [&](size_t begin, size_t end, bool persistence) {
    std::vector<float> scores, labels;
    for (size_t s = begin; s < end; ++s) {
      for (size_t i = 0; i < n; ++i) {
        const size_t c = s * n + i;
        if (!data.label_mask[c]) continue;
        const float last = data.last_return[c];
        scores.push_back(!persistence               ? majority
                         : task == Task::kDirection ? (last > 0 ? 1.0f : 0.0f)
                                                    : last);
        labels.push_back(data.label_return[c]);
      }
    }
    return score(task, scores, labels);
  };
  std::vector<ModelReport> out(2);
  out[0].model = "majority";
  out[1].model = "persistence";
  for (int b = 0; b < 2; ++b) {
    out[b].validation = evaluate(split.val_begin, split.val_end, b == 1);
    out[b].test = evaluate(split.test_begin, split.test_end, b == 1);
  }
  return out;
}

}  // namespace sf::analytics
