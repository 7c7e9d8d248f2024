// Analytics benchmark (end-to-end harness): graph build time for N symbols x D days of 1h simulator candles,
// then GCN training time per epoch in C++ (LibTorch) beside the same model in PyTorch
// (bench/gnn_reference.py, Debian's python3-torch) on the same dataset, in the same run.
//
//   gnn_bench [--symbols 100] [--days 365] [--epochs 5] [--threads 1] [--python /usr/bin/python3]
//             [--script bench/gnn_reference.py]
// Prints one line per measurement and a final JSON line.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "analytics/gnn/gnn.h"
#include "analytics/graph/graph.h"
#include "analytics/graph/tests/sim_candles.h"
#include "store/store.h"

namespace {

using namespace sf;
using namespace sf::analytics;
namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

template <typename T>
void write_array(const fs::path& path, const std::vector<T>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

// The dataset as flat binary arrays + a JSON header, for the reference script.
void write_dataset(const fs::path& dir, const GraphDataset& d, const Split& s, const TrainParams& p) {
  fs::create_directories(dir);
  write_array(dir / "x.f32", d.x);
  write_array(dir / "label_mask.u8", d.label_mask);
  write_array(dir / "label_return.f32", d.label_return);
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> pairs;
  std::vector<float> weights;
  for (const auto& edges : d.edges) {
    for (const Edge& e : edges) {
      pairs.push_back(static_cast<int32_t>(e.from));
      pairs.push_back(static_cast<int32_t>(e.to));
      weights.push_back(e.weight);
    }
    offsets.push_back(static_cast<int64_t>(weights.size()));
  }
  write_array(dir / "edge_offsets.i64", offsets);
  write_array(dir / "edge_pairs.i32", pairs);
  write_array(dir / "edge_weights.f32", weights);
  protocol::Json meta = {{"nodes", d.nodes},          {"snapshots", d.snapshots()},
                         {"features", kFeatureCount}, {"train_begin", s.train_begin},
                         {"train_end", s.train_end},  {"hyperparameters", p.to_json()}};
  std::ofstream(dir / "meta.json") << meta.dump(2);
}

}  // namespace

int main(int argc, char** argv) {
  int symbols = 100, days = 365, epochs = 5, threads = 1;
  std::string python = "/usr/bin/python3";
  std::string script = "bench/gnn_reference.py";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--symbols")
      symbols = std::stoi(value);
    else if (flag == "--days")
      days = std::stoi(value);
    else if (flag == "--epochs")
      epochs = std::stoi(value);
    else if (flag == "--threads")
      threads = std::stoi(value);
    else if (flag == "--python")
      python = value;
    else if (flag == "--script")
      script = value;
    else {
      fmt::print(stderr, "unknown flag {}\n", flag);
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("sf-gnn-bench-{}", ::getpid());
  store::RocksDbStoreOptions options;
  options.path = (dir / "store").string();
  auto store = value_or_throw(store::open_rocksdb_store(options));

  constexpr TimestampMs kEnd = 1722470400000;  // 2024-08-01
  constexpr TimestampMs kDayMs = 86'400'000;
  const TimestampMs start = kEnd - days * kDayMs;
  const auto names = testing::sim_symbols(static_cast<size_t>(symbols));
  auto t0 = std::chrono::steady_clock::now();
  // Candles one day before the first snapshot so every window is full.
  const int64_t candles = value_or_throw(
      testing::store_sim_candles(*store, names, protocol::Interval::k1h, start - kDayMs, kEnd + kDayMs));
  fmt::print("setup: {} simulator candles stored in {:.1f} s\n", candles, seconds_since(t0));

  protocol::Json fields = {{"symbols", names}, {"interval", "1h"}, {"window", 24}, {"step", 1}, {"top_k", 5}};
  const GraphParams params =
      value_or_throw(graph_params_from_json(fields, format_time_range(TimeRange{start, kEnd})));
  t0 = std::chrono::steady_clock::now();
  const BuildStats stats = value_or_throw(build_graph(*store, "bench-graph", params));
  const double build_s = seconds_since(t0);
  fmt::print(
      "graph build: {} symbols x {} days of 1h: {} snapshots, {} vertices, {} edges in {:.2f} s "
      "({:.0f} snapshots/s, {:.0f} documents/s)\n",
      symbols, days, stats.snapshots, stats.vertices, stats.edges, build_s, stats.snapshots / build_s,
      (stats.vertices + stats.edges) / build_s);

  t0 = std::chrono::steady_clock::now();
  const GraphData graph = value_or_throw(load_graph(*store, "bench-graph"));
  const double load_s = seconds_since(t0);
  fmt::print("graph load: {:.2f} s\n", load_s);

  TrainParams train;
  train.epochs = epochs;
  train.patience = std::numeric_limits<int>::max() / 2;
  train.threads = threads;
  train.dropout = 0.0;  // the reference script has no dropout either: the same arithmetic per epoch
  const Split split = value_or_throw(chronological_split(graph.snapshots.size(), graph.params, train));
  const Normalisation norm = fit_normalisation(graph, split.train_begin, split.train_end);
  const GraphDataset data = make_dataset(graph, norm);
  t0 = std::chrono::steady_clock::now();
  const TrainedModel gcn = value_or_throw(train_model(ModelKind::kGcn, data, split, train));
  const double cpp_epoch = gcn.report.seconds_per_epoch;
  fmt::print(
      "C++ LibTorch GCN: {:.3f} s/epoch (training pass, {} train snapshots, batches of {}, {} thread(s)); "
      "test accuracy {:.4f}\n",
      cpp_epoch, split.train_end - split.train_begin, train.batch_snapshots, threads,
      gcn.report.test.accuracy);

  const fs::path dataset = dir / "dataset";
  write_dataset(dataset, data, split, train);
  const std::string command =
      fmt::format("{} {} {} --epochs {} --threads {}", python, script, dataset.string(), epochs, threads);
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe)) output += buf;
    ::pclose(pipe);
  }
  double py_epoch = 0;
  const auto line = output.rfind("{");
  if (line != std::string::npos) {
    auto j = protocol::Json::parse(output.substr(line), nullptr, false);
    if (j.is_object()) py_epoch = j.value("seconds_per_epoch", 0.0);
  }
  if (py_epoch > 0) {
    fmt::print("PyTorch GCN (reference): {:.3f} s/epoch; C++ / Python = {:.2f}x\n", py_epoch,
               cpp_epoch / py_epoch);
  } else {
    fmt::print("PyTorch reference did not run ({}): {}\n", command, output);
  }
  protocol::Json summary = {{"symbols", symbols},
                            {"days", days},
                            {"snapshots", stats.snapshots},
                            {"edges", stats.edges},
                            {"build_seconds", build_s},
                            {"load_seconds", load_s},
                            {"cpp_seconds_per_epoch", cpp_epoch},
                            {"python_seconds_per_epoch", py_epoch},
                            {"threads", threads}};
  fmt::print("{}\n", summary.dump());
  store.reset();
  fs::remove_all(dir);
  return 0;
}
