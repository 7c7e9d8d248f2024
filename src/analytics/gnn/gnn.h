// gnn-trainer (workflow type `gnn_train`, `streamforge job gnn-trainer`) and `streamforge gnn predict`:
// trains graph neural networks on a stored graph (analytics/graph/graph.h), compares them with baselines,
// stores the chosen model, and predicts with it. The public header of src/analytics/gnn/; LibTorch stays
// behind it (only models.cpp and trainer.cpp include torch).
//
// Task. Per node and snapshot: the direction of the next `horizon` candles' log return (binary, the default)
// or the return itself (regression). Only unmasked nodes with a label count, in training and in metrics.
//
// Models (all in LibTorch, weights float32):
//   gcn   two graph convolutions H' = act(Â H W) with Â = D^-1/2 (A + I) D^-1/2 over the snapshot's signed
//         correlation edges (symmetric); the degree uses |weights|, so negative co-movement flips a
//         neighbour's message while Â's spectrum stays within [-1, 1]. Sparse COO matmul.
//   sage  GraphSAGE with mean aggregation: H' = act(W_self H + W_neigh mean_{j in N(i)} H_j), unweighted
//         mean over the edges (sparse matmul with a row-normalised adjacency).
//   mlp   the same depth and width without edges: whether the graph helps is gcn/sage vs mlp.
//   baselines (no training): majority (the training set's majority class / mean return) and persistence
//   (the sign / value of the node's last candle return, feature ret_last before normalisation).
// Masked nodes are zero rows (after normalisation) that neither send nor receive messages (the graph
// builder gives them no edges) and are left out of the loss.
//
// Training. Chronological split of the snapshots (train, validation, test in time order, no shuffling of
// time into the past), with an embargo of ceil(horizon / step) snapshots between parts so no training label
// overlaps a validation label. Features are standardised with the training part's mean and deviation
// (saved with the model). Mini-batches of consecutive snapshots form one block-diagonal sparse graph.
// Adam, early stopping on the validation loss (patience), the best weights restored. Seeded: the same
// parameters on the same graph give the same weights (single-threaded intra-op by default, see `threads`).
//
// Artifacts. A model is a folder `<model_id>/` holding `weights.pt` (torch::serialize archive of the
// parameters) and `metadata.json` (model kind and hyper-parameters, graph parameters, feature names,
// normalisation, the comparison table, data range). The store is a local folder by default or an
// S3-compatible bucket (s3://bucket/prefix, e.g. MinIO) through the S3 REST API with SigV4 signatures.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/graph/graph.h"
#include "core/status.h"
#include "protocol/json_fields.h"
#include "services/job/job.h"
#include "store/store.h"

namespace sf::analytics {

enum class ModelKind { kGcn, kSage, kMlp };
std::string_view model_name(ModelKind kind);  // "gcn", "sage", "mlp"
Result<ModelKind> parse_model_kind(std::string_view text);

enum class Task { kDirection, kReturn };
std::string_view task_name(Task task);  // "direction", "return"

struct TrainParams {
  ModelKind model = ModelKind::kGcn;  // the model saved
  std::vector<ModelKind> compare = {ModelKind::kGcn, ModelKind::kSage,
                                    ModelKind::kMlp};  // trained and reported
  Task task = Task::kDirection;
  int hidden = 32;              // hidden units per layer
  int layers = 2;               // graph/dense layers, >= 1
  double dropout = 0.1;         // on hidden layers, training only
  double learning_rate = 0.01;  // Adam
  double weight_decay = 5e-4;   // Adam L2
  int epochs = 200;             // at most
  int patience = 20;            // epochs without a better validation loss before stopping
  int batch_snapshots = 32;     // snapshots per mini-batch
  double train_fraction = 0.7;  // of the snapshots, in time order
  double val_fraction = 0.15;   // the test part is the rest
  int64_t seed = 42;
  int threads = 1;  // intra-op threads; 1 keeps results bit-reproducible; 0 = LibTorch's default

  // Reads hidden, layers, dropout, learning_rate, weight_decay, epochs, patience, batch_snapshots,
  // train_fraction, val_fraction, seed, threads, model, compare (array of names), task. InvalidArgument
  // naming the field; absent fields keep their defaults.
  static Result<TrainParams> from_json(const protocol::Json& fields);
  protocol::Json to_json() const;
};

// ---------------------------------------------------------------------------------------------------------
// Data

// Per-feature standardisation fitted on the training snapshots' unmasked nodes.
struct Normalisation {
  std::array<float, kFeatureCount> mean{};
  std::array<float, kFeatureCount> scale{};  // standard deviation (1 where it is 0)
};

// A graph as dense per-snapshot arrays, normalised; masked nodes are zero rows.
struct GraphDataset {
  size_t nodes = 0;
  std::vector<TimestampMs> times;
  std::vector<float> x;                  // [snapshot][node][feature]
  std::vector<uint8_t> node_mask;        // [snapshot][node]
  std::vector<uint8_t> label_mask;       // [snapshot][node]: node unmasked and labelled
  std::vector<float> label_return;       // [snapshot][node]
  std::vector<float> last_return;        // [snapshot][node]: ret_last before normalisation (persistence)
  std::vector<std::vector<Edge>> edges;  // per snapshot

  size_t snapshots() const { return times.size(); }
};

// Snapshot index ranges [begin, end) in time order.
struct Split {
  size_t train_begin = 0, train_end = 0;
  size_t val_begin = 0, val_end = 0;
  size_t test_begin = 0, test_end = 0;
};

// The chronological split with an embargo of ceil(horizon / step) snapshots between parts.
// FailedPrecondition when a part would be empty (too few snapshots).
Result<Split> chronological_split(size_t snapshots, const GraphParams& graph, const TrainParams& params);
Normalisation fit_normalisation(const GraphData& graph, size_t train_begin, size_t train_end);
GraphDataset make_dataset(const GraphData& graph, const Normalisation& norm);
// One snapshot (e.g. built for a prediction) as a dataset.
GraphDataset make_dataset(const Snapshot& snapshot, const Normalisation& norm);

// ---------------------------------------------------------------------------------------------------------
// Metrics

struct Metrics {
  int64_t count = 0;             // labelled nodes scored
  double accuracy = 0;           // direction: predicted class (p >= 0.5, or return > 0) vs label
  double balanced_accuracy = 0;  // mean of the recalls of both classes
  std::optional<double> auc;     // direction models with scores; none for constant predictions
  double mse = 0;                // return task: mean squared error of the return; direction: Brier score
  protocol::Json to_json() const;
};

// `scores`: P(up) for direction, the predicted return for the return task; `labels_return`: actual return.
Metrics score(Task task, const std::vector<float>& scores, const std::vector<float>& labels_return);
// ROC AUC by ranks (ties share their mean rank); nullopt when one class is absent.
std::optional<double> roc_auc(const std::vector<float>& scores, const std::vector<uint8_t>& positive);

// ---------------------------------------------------------------------------------------------------------
// Training

struct EpochReport {
  std::string model;
  int epoch = 0;  // 1-based
  double train_loss = 0;
  double val_loss = 0;
  Metrics val;
};
// Called after every epoch; a non-OK status (Cancelled on stop) ends training with that status.
using EpochCallback = std::function<Status(const EpochReport&)>;

struct ModelReport {
  std::string model;  // "gcn", "sage", "mlp", "majority", "persistence"
  Metrics validation;
  Metrics test;
  int epochs = 0;      // run (0 for baselines)
  int best_epoch = 0;  // whose weights were kept
  double seconds_per_epoch = 0;
  protocol::Json to_json() const;
};

struct TrainedModel {
  ModelKind kind = ModelKind::kGcn;
  std::string weights;  // torch::serialize archive bytes
  ModelReport report;
};

// Trains one model on the dataset. Deterministic for a given seed and threads = 1.
Result<TrainedModel> train_model(ModelKind kind, const GraphDataset& data, const Split& split,
                                 const TrainParams& params, const EpochCallback& on_epoch = {});

// Scores (P(up) or the return) of every node of every snapshot in [begin, end) of `data`, flattened
// [snapshot][node], with the weights of a trained model of this kind and shape.
Result<std::vector<float>> predict_scores(ModelKind kind, const TrainParams& params, std::string_view weights,
                                          const GraphDataset& data, size_t begin, size_t end);

// Reports of the two baselines on the split.
std::vector<ModelReport> baseline_reports(Task task, const GraphDataset& data, const Split& split);

// ---------------------------------------------------------------------------------------------------------
// Artifacts

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Writes (replacing) the file `name` of the model.
  virtual Status put(std::string_view model_id, std::string_view name, std::string_view bytes) = 0;
  // NotFound naming the model and file when absent.
  virtual Result<std::string> get(std::string_view model_id, std::string_view name) = 0;
  // Where the model lives, for messages: "/data/artifacts/<id>" or "s3://bucket/prefix/<id>".
  virtual std::string location(std::string_view model_id) const = 0;
};

// Credentials and endpoint of an S3-compatible store. From the environment by default: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1), STREAMFORGE_S3_ENDPOINT (default
// https://s3.<region>.amazonaws.com; MinIO: http://host:9000). Path-style addressing (MinIO's default).
struct S3Options {
  std::string endpoint;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  static S3Options from_environment();
};

// "s3://bucket/prefix" -> the S3 store; anything else is a folder path (created on first put).
// InvalidArgument for an s3 URI without a bucket or credentials.
Result<std::unique_ptr<ArtifactStore>> open_artifact_store(
    std::string_view location, const S3Options& s3 = S3Options::from_environment());

// AWS Signature Version 4 for one S3 request (exposed for tests against AWS's documented examples).
struct SigV4Request {
  std::string method;  // "PUT"
  std::string host;    // "examplebucket.s3.amazonaws.com" or "127.0.0.1:9000"
  std::string path;    // URI-encoded path, "/bucket/key"
  std::string query;   // canonical query string ("" for none)
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers to sign (lower-case names)
  std::string payload_sha256;                                // hex SHA-256 of the body
  std::string amz_date;                                      // "20130524T000000Z"
};
// The Authorization header value.
std::string sigv4_authorization(const SigV4Request& request, const S3Options& s3);
std::string sha256_hex(std::string_view bytes);

// ---------------------------------------------------------------------------------------------------------
// Saved models and predictions

struct SavedModel {
  std::string model_id;
  ModelKind kind = ModelKind::kGcn;
  TrainParams params;
  GraphParams graph;
  Normalisation norm;
  std::string weights;
  protocol::Json metadata;
};

Status save_model(ArtifactStore& artifacts, std::string_view model_id, const TrainedModel& model,
                  const TrainParams& params, const GraphData& graph, const Normalisation& norm,
                  const Split& split, const std::vector<ModelReport>& comparison);
Result<SavedModel> load_model(ArtifactStore& artifacts, std::string_view model_id);

struct Prediction {
  std::string symbol;
  bool mask = false;  // false: not enough candles before the time (no prediction)
  float score = 0;    // P(up) for direction, the return for the return task
  int window_candles = 0;
};
struct PredictionSet {
  TimestampMs time = 0;  // the snapshot time used (`at` floored to the interval)
  Task task = Task::kDirection;
  std::vector<Prediction> rows;
  size_t edges = 0;
};

// Builds the snapshot at `at` (floored to the model's interval) from the store's candles with the model's
// graph parameters and predicts every symbol.
Result<PredictionSet> predict_at(store::Store& store, const SavedModel& model, TimestampMs at);

// ---------------------------------------------------------------------------------------------------------
// The job

// Trains on graph `graph_id` (extra field; else the workflow's own id, as when a graph-builder runs in the
// same workflow, in which case it waits for the graph to be complete). Trains every `compare` model and the
// baselines, publishes per-epoch telemetry (`loading` events with extra fields model, epoch, train_loss,
// val_loss, val_accuracy), saves `model` under extra `model_id` (or the seed's `model_output`; default the
// queue_id) in the artifact store (extra `artifacts`, else JobSettings::artifacts). The final message
// holds the comparison table.
class GnnTrainerJob final : public services::Job {
 public:
  Status run(services::JobContext& ctx) override;
};
std::unique_ptr<services::Job> make_gnn_trainer_job();

}  // namespace sf::analytics
