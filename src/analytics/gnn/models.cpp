// The LibTorch models (GCN, GraphSAGE-mean, MLP), batch tensors with sparse adjacencies, weight archives.
#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "analytics/gnn/torch_models.h"

namespace sf::analytics::detail {

BatchGraph make_batch(const GraphDataset& data, size_t begin, size_t end, Task task, ModelKind kind) {
  const int64_t n = static_cast<int64_t>(data.nodes);
  const int64_t rows = static_cast<int64_t>(end - begin) * n;
  const int64_t f = static_cast<int64_t>(kFeatureCount);
  BatchGraph g;
  g.x = torch::from_blob(const_cast<float*>(data.x.data() + begin * data.nodes * kFeatureCount), {rows, f},
                         torch::kFloat32)
            .clone();
  std::vector<uint8_t> mask(data.label_mask.begin() + static_cast<std::ptrdiff_t>(begin * data.nodes),
                            data.label_mask.begin() + static_cast<std::ptrdiff_t>(end * data.nodes));
  std::vector<float> target(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float ret = data.label_return[begin * data.nodes + static_cast<size_t>(r)];
    target[static_cast<size_t>(r)] = task == Task::kDirection ? (ret > 0 ? 1.0f : 0.0f) : ret;
    g.labelled += mask[static_cast<size_t>(r)];
  }
  g.label_mask = torch::from_blob(mask.data(), {rows}, torch::kUInt8).to(torch::kBool);
  g.target = torch::from_blob(target.data(), {rows}, torch::kFloat32).clone();
  if (kind == ModelKind::kMlp) return g;

  // Undirected edges in both directions, offset per snapshot.
  std::vector<int64_t> src, dst;
  std::vector<float> w;
  for (size_t s = begin; s < end; ++s) {
    const int64_t offset = static_cast<int64_t>(s - begin) * n;
    for (const Edge& e : data.edges[s]) {
      src.push_back(offset + e.from), dst.push_back(offset + e.to), w.push_back(e.weight);
      src.push_back(offset + e.to), dst.push_back(offset + e.from), w.push_back(e.weight);
    }
  }
  const size_t m = src.size();
  std::vector<int64_t> index;
  std::vector<float> value;
  if (kind == ModelKind::kGcn) {
    std::vector<double> degree(static_cast<size_t>(rows), 1.0);  // the self loop
    for (size_t k = 0; k < m; ++k) degree[static_cast<size_t>(src[k])] += std::fabs(w[k]);
    index.resize(2 * (m + static_cast<size_t>(rows)));
    value.resize(m + static_cast<size_t>(rows));
    const size_t nnz = m + static_cast<size_t>(rows);
    for (size_t k = 0; k < m; ++k) {
      index[k] = src[k];
      index[nnz + k] = dst[k];
      value[k] = static_cast<float>(
          w[k] / std::sqrt(degree[static_cast<size_t>(src[k])] * degree[static_cast<size_t>(dst[k])]));
    }
    for (int64_t r = 0; r < rows; ++r) {
      index[m + static_cast<size_t>(r)] = r;
      index[nnz + m + static_cast<size_t>(r)] = r;
      value[m + static_cast<size_t>(r)] = static_cast<float>(1.0 / degree[static_cast<size_t>(r)]);
    }
    auto idx = torch::from_blob(index.data(), {2, static_cast<int64_t>(nnz)}, torch::kInt64).clone();
    auto val = torch::from_blob(value.data(), {static_cast<int64_t>(nnz)}, torch::kFloat32).clone();
    g.adj_gcn = torch::sparse_coo_tensor(idx, val, {rows, rows}).coalesce();
  } else {
    std::vector<float> count(static_cast<size_t>(rows), 0.0f);
    for (size_t k = 0; k < m; ++k) count[static_cast<size_t>(src[k])] += 1;
    index.resize(2 * m);
    value.resize(m);
    for (size_t k = 0; k < m; ++k) {
      index[k] = src[k];
      index[m + k] = dst[k];
      value[k] = 1.0f / count[static_cast<size_t>(src[k])];
    }
    auto idx = torch::from_blob(index.data(), {2, static_cast<int64_t>(m)}, torch::kInt64).clone();
    auto val = torch::from_blob(value.data(), {static_cast<int64_t>(m)}, torch::kFloat32).clone();
    g.adj_mean = torch::sparse_coo_tensor(idx, val, {rows, rows}).coalesce();
  }
  return g;
}

GnnNetImpl::GnnNetImpl(ModelKind kind, int64_t in_features, int64_t hidden, int64_t layers, double dropout)
    : kind_(kind), dropout_(dropout) {
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t in = l == 0 ? in_features : hidden;
    const int64_t out = l + 1 == layers ? 1 : hidden;
    const bool gcn = kind == ModelKind::kGcn;
    self_.push_back(register_module(fmt::format("self{}", l),
                                    torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(!gcn))));
    if (gcn) gcn_bias_.push_back(register_parameter(fmt::format("bias{}", l), torch::zeros({out})));
    if (kind == ModelKind::kSage) {
      neigh_.push_back(register_module(fmt::format("neigh{}", l),
                                       torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false))));
    }
  }
}

torch::Tensor GnnNetImpl::forward(const BatchGraph& g) {
  torch::Tensor h = g.x;
  for (size_t l = 0; l < self_.size(); ++l) {
    switch (kind_) {
      case ModelKind::kGcn:
        h = torch::mm(g.adj_gcn, self_[l]->forward(h)) + gcn_bias_[l];
        break;
      case ModelKind::kSage:
        h = self_[l]->forward(h) + neigh_[l]->forward(torch::mm(g.adj_mean, h));
        break;
      case ModelKind::kMlp:
        h = self_[l]->forward(h);
        break;
    }
    if (l + 1 < self_.size()) {
      h = torch::relu(h);
      if (dropout_ > 0) h = torch::dropout(h, dropout_, is_training());
    }
  }
  return h.squeeze(1);
}

GnnNet make_net(ModelKind kind, const TrainParams& params) {
  return GnnNet(kind, static_cast<int64_t>(kFeatureCount), params.hidden, params.layers, params.dropout);
}

std::string save_weights(GnnNet& net) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return std::move(out).str();
}

Status load_weights(GnnNet& net, std::string_view bytes) {
  try {
    std::istringstream in{std::string(bytes)};
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    net->load(archive);
  } catch (const std::exception& e) {
    return Status::corruption(fmt::format("model weights do not load: {}", e.what()));
  }
  return Status::ok();
}

void apply_threads(int threads) {
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

}  // namespace sf::analytics::detail
