// Training one model with early stopping, and scoring with saved weights.
#include <fmt/format.h>

#include <chrono>
#include <limits>

#include "analytics/gnn/torch_models.h"

namespace sf::analytics {
namespace {

using detail::BatchGraph;

torch::Tensor loss_of(Task task, const torch::Tensor& out, const BatchGraph& g) {
  const auto pred = out.masked_select(g.label_mask);
  const auto target = g.target.masked_select(g.label_mask);
  return task == Task::kDirection ? torch::binary_cross_entropy_with_logits(pred, target)
                                  : torch::mse_loss(pred, target);
}

// Scores of the labelled rows (P(up) or the return) and their actual returns, for metrics.
void labelled_scores(Task task, const torch::Tensor& out, const BatchGraph& g, const GraphDataset& data,
                     size_t begin, std::vector<float>& scores, std::vector<float>& returns) {
  const auto s = (task == Task::kDirection ? torch::sigmoid(out) : out).contiguous();
  const float* p = s.data_ptr<float>();
  const auto* mask = g.label_mask.data_ptr<bool>();
  for (int64_t r = 0; r < s.size(0); ++r) {
    if (!mask[r]) continue;
    scores.push_back(p[r]);
    returns.push_back(data.label_return[begin * data.nodes + static_cast<size_t>(r)]);
  }
}

std::vector<BatchGraph> batches(const GraphDataset& data, size_t begin, size_t end, size_t per_batch,
                                Task task, ModelKind kind) {
  std::vector<BatchGraph> out;
  for (size_t b = begin; b < end; b += per_batch) {
    BatchGraph g = detail::make_batch(data, b, std::min(end, b + per_batch), task, kind);
    if (g.labelled > 0) out.push_back(std::move(g));
  }
  return out;
}

struct Evaluation {
  double loss = 0;
  Metrics metrics;
};

Evaluation evaluate(detail::GnnNet& net, const std::vector<BatchGraph>& parts,
                    const std::vector<size_t>& starts, const GraphDataset& data, Task task) {
  torch::NoGradGuard no_grad;
  net->eval();
  Evaluation e;
  std::vector<float> scores, returns;
  double loss_sum = 0;
  int64_t n = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto out = net->forward(parts[i]);
    loss_sum += loss_of(task, out, parts[i]).item<double>() * static_cast<double>(parts[i].labelled);
    n += parts[i].labelled;
    labelled_scores(task, out, parts[i], data, starts[i], scores, returns);
  }
  e.loss = n ? loss_sum / static_cast<double>(n) : 0.0;
  e.metrics = score(task, scores, returns);
  return e;
}

// Evaluation batches with the snapshot index each starts at.
std::pair<std::vector<BatchGraph>, std::vector<size_t>> eval_batches(const GraphDataset& data, size_t begin,
                                                                     size_t end, Task task, ModelKind kind) {
  constexpr size_t kEvalSnapshots = 512;  // bounded memory; the result does not depend on it
  std::pair<std::vector<BatchGraph>, std::vector<size_t>> out;
  for (size_t b = begin; b < end; b += kEvalSnapshots) {
    out.first.push_back(detail::make_batch(data, b, std::min(end, b + kEvalSnapshots), task, kind));
    out.second.push_back(b);
  }
  return out;
}

}  // namespace

Result<TrainedModel> train_model(ModelKind kind, const GraphDataset& data, const Split& split,
                                 const TrainParams& params, const EpochCallback& on_epoch) {
  try {
    detail::apply_threads(params.threads);
    torch::manual_seed(static_cast<uint64_t>(params.seed));
    auto net = detail::make_net(kind, params);
    torch::optim::Adam optimizer(
        net->parameters(), torch::optim::AdamOptions(params.learning_rate).weight_decay(params.weight_decay));
    auto train = batches(data, split.train_begin, split.train_end,
                         static_cast<size_t>(params.batch_snapshots), params.task, kind);
    if (train.empty()) return Status::failed_precondition("no labelled node in the training snapshots");
    auto [val, val_starts] = eval_batches(data, split.val_begin, split.val_end, params.task, kind);
    auto [test, test_starts] = eval_batches(data, split.test_begin, split.test_end, params.task, kind);

    TrainedModel result;
    result.kind = kind;
    result.report.model = std::string(model_name(kind));
    double best = std::numeric_limits<double>::infinity();
    int since_best = 0;
    double train_seconds = 0;
    for (int epoch = 1; epoch <= params.epochs; ++epoch) {
      const auto started = std::chrono::steady_clock::now();
      net->train();
      const auto order = torch::randperm(static_cast<int64_t>(train.size()), torch::kInt64);
      const int64_t* idx = order.data_ptr<int64_t>();
      double loss_sum = 0;
      int64_t labelled = 0;
      for (size_t k = 0; k < train.size(); ++k) {
        const BatchGraph& g = train[static_cast<size_t>(idx[k])];
        optimizer.zero_grad();
        auto loss = loss_of(params.task, net->forward(g), g);
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>() * static_cast<double>(g.labelled);
        labelled += g.labelled;
      }
      train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const Evaluation v = evaluate(net, val, val_starts, data, params.task);
      result.report.epochs = epoch;
      if (v.loss < best - 1e-9) {
        best = v.loss;
        since_best = 0;
        result.report.best_epoch = epoch;
        result.report.validation = v.metrics;
        result.weights = detail::save_weights(net);
      } else {
        ++since_best;
      }
      if (on_epoch) {
        EpochReport r{result.report.model, epoch,
                      loss_sum / static_cast<double>(std::max<int64_t>(labelled, 1)), v.loss, v.metrics};
        SF_RETURN_IF_ERROR(on_epoch(r));
      }
      if (since_best >= params.patience) break;
    }
    result.report.seconds_per_epoch = train_seconds / result.report.epochs;
    SF_RETURN_IF_ERROR(detail::load_weights(net, result.weights));
    result.report.test = evaluate(net, test, test_starts, data, params.task).metrics;
    return result;
  } catch (const std::exception& e) {
    return Status::internal(fmt::format("training {} failed in LibTorch: {}", model_name(kind), e.what()));
  }
}

Result<std::vector<float>> predict_scores(ModelKind kind, const TrainParams& params, std::string_view weights,
                                          const GraphDataset& data, size_t begin, size_t end) {
  try {
    detail::apply_threads(params.threads);
    auto net = detail::make_net(kind, params);
    SF_RETURN_IF_ERROR(detail::load_weights(net, weights));
    torch::NoGradGuard no_grad;
    net->eval();
    std::vector<float> out;
    out.reserve((end - begin) * data.nodes);
    auto [parts, starts] = eval_batches(data, begin, end, params.task, kind);
    for (const BatchGraph& g : parts) {
      auto y = net->forward(g);
      if (params.task == Task::kDirection) y = torch::sigmoid(y);
      y = y.contiguous();
      out.insert(out.end(), y.data_ptr<float>(), y.data_ptr<float>() + y.size(0));
    }
    return out;
  } catch (const std::exception& e) {
    return Status::internal(
        fmt::format("prediction with {} failed in LibTorch: {}", model_name(kind), e.what()));
  }
}

}  // namespace sf::analytics
