// Internal to src/analytics/gnn/: the LibTorch modules and batch tensors. Included only by models.cpp and
// trainer.cpp, the two files that compile against torch.
#pragma once

#include <torch/torch.h>

#include <string>
#include <string_view>
#include <vector>

#include "analytics/gnn/gnn.h"

namespace sf::analytics::detail {

// Snapshots [begin, end) of a dataset as one block-diagonal graph (PyG-style batching).
struct BatchGraph {
  torch::Tensor x;           // [rows, features] float
  torch::Tensor adj_gcn;     // sparse [rows, rows]: D^-1/2 (A + I) D^-1/2, signed weights, |w| degree
  torch::Tensor adj_mean;    // sparse [rows, rows]: 1/deg(i) for each neighbour j (no self loop)
  torch::Tensor label_mask;  // [rows] bool: unmasked and labelled
  torch::Tensor target;      // [rows] float: the direction (0/1) or the return
  int64_t labelled = 0;
};

BatchGraph make_batch(const GraphDataset& data, size_t begin, size_t end, Task task, ModelKind kind);

// GCN / GraphSAGE-mean / MLP with `layers` layers (the last maps to one output) and ReLU + dropout between.
class GnnNetImpl : public torch::nn::Module {
 public:
  GnnNetImpl(ModelKind kind, int64_t in_features, int64_t hidden, int64_t layers, double dropout);
  // One output per row: a logit (direction) or the return.
  torch::Tensor forward(const BatchGraph& g);

 private:
  ModelKind kind_;
  double dropout_;
  std::vector<torch::nn::Linear> self_;   // gcn: W of each layer (no bias); mlp/sage: the node's own term
  std::vector<torch::nn::Linear> neigh_;  // sage: the neighbour mean's term
  std::vector<torch::Tensor> gcn_bias_;   // gcn: added after propagation, as in Kipf & Welling
};
TORCH_MODULE(GnnNet);

GnnNet make_net(ModelKind kind, const TrainParams& params);
std::string save_weights(GnnNet& net);
Status load_weights(GnnNet& net, std::string_view bytes);

// Sets LibTorch's intra-op threads when `threads` > 0 (process-wide in LibTorch).
void apply_threads(int threads);

}  // namespace sf::analytics::detail
