// gnn-trainer: message passing on a planted-label graph (GCN and SAGE must beat the MLP), reproducibility,
// save -> load -> identical predictions, metrics, the split, parameters, and the job with its telemetry.
#include "analytics/gnn/gnn.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "analytics/graph/tests/sim_candles.h"
#include "services/job/tests/job_test_util.h"

namespace sf::analytics {
namespace {

using protocol::Json;
namespace fs = std::filesystem;

constexpr TimestampMs kDay = 1722470400000;  // 2024-08-01
constexpr TimestampMs kHour = 3600000;

// Snapshots of `nodes` nodes with random features and a random sparse graph per snapshot; a node's label is
// the sign of its neighbours' mean first feature, so it is invisible in the node's own features: an MLP can
// only guess, a working message-passing layer sees it.
GraphData planted_graph(size_t snapshots, size_t nodes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(nodes - 1));
  GraphData g;
  g.graph_id = "planted";
  for (size_t i = 0; i < nodes; ++i) g.params.symbols.push_back(fmt::format("S{}USDT", i));
  g.params.range = TimeRange{kDay, kDay + static_cast<int64_t>(snapshots) * kHour};
  for (size_t s = 0; s < snapshots; ++s) {
    Snapshot snap;
    snap.time = kDay + static_cast<int64_t>(s) * kHour;
    snap.nodes.resize(nodes);
    for (auto& n : snap.nodes) {
      n.mask = true;
      n.label_mask = true;
      n.window_candles = 24;
      for (auto& f : n.features) f = normal(rng);
    }
    std::set<std::pair<uint32_t, uint32_t>> seen;
    for (uint32_t i = 0; i < nodes; ++i) {
      for (int k = 0; k < 4; ++k) {  // ~8 neighbours: the label outweighs GCN's self loop
        uint32_t j = pick(rng);
        if (j == i) continue;
        auto key = std::minmax(i, j);
        if (seen.insert(key).second) snap.edges.push_back(Edge{key.first, key.second, 0.8f});
      }
    }
    std::vector<double> sum(nodes, 0);
    std::vector<int> deg(nodes, 0);
    for (const Edge& e : snap.edges) {
      sum[e.from] += snap.nodes[e.to].features[0], ++deg[e.from];
      sum[e.to] += snap.nodes[e.from].features[0], ++deg[e.to];
    }
    for (size_t i = 0; i < nodes; ++i) {
      snap.nodes[i].label_return = deg[i] && sum[i] > 0 ? 0.01f : -0.01f;
    }
    g.snapshots.push_back(std::move(snap));
  }
  return g;
}

TrainParams fast_params() {
  TrainParams p;
  p.epochs = 80;
  p.patience = 25;
  p.hidden = 16;
  p.dropout = 0.0;
  p.batch_snapshots = 4;
  p.seed = 7;
  return p;
}

struct Prepared {
  GraphData graph;
  Split split;
  Normalisation norm;
  GraphDataset data;
};

Prepared prepare(GraphData graph, const TrainParams& p) {
  Prepared out;
  out.split = chronological_split(graph.snapshots.size(), graph.params, p).value();
  out.norm = fit_normalisation(graph, out.split.train_begin, out.split.train_end);
  out.data = make_dataset(graph, out.norm);
  out.graph = std::move(graph);
  return out;
}

TEST(GnnTest, MessagePassingBeatsMlpOnPlantedLabels) {
  // One layer: the label sits one hop away, and GCN's fixed second propagation (A_hat twice) would blur it
  // with two-hop noise (a 2-layer GCN reaches ~0.72 here, still far above the MLP).
  TrainParams p = fast_params();
  p.layers = 1;
  Prepared d = prepare(planted_graph(160, 24, 1), p);
  std::map<ModelKind, double> accuracy;
  for (ModelKind kind : {ModelKind::kGcn, ModelKind::kSage, ModelKind::kMlp}) {
    auto trained = train_model(kind, d.data, d.split, p);
    ASSERT_TRUE(trained) << trained.status().to_string();
    accuracy[kind] = trained->report.test.accuracy;
    std::printf("%s test acc %.4f bal %.4f val acc %.4f epochs %d best %d\n", trained->report.model.c_str(),
                trained->report.test.accuracy, trained->report.test.balanced_accuracy,
                trained->report.validation.accuracy, trained->report.epochs, trained->report.best_epoch);
    EXPECT_GT(trained->report.test.count, 0);
    EXPECT_GE(trained->report.best_epoch, 1);
  }
  // The MLP cannot see the label (chance is ~0.5); the graph models read it off their neighbours.
  EXPECT_LT(accuracy[ModelKind::kMlp], 0.62);
  EXPECT_GT(accuracy[ModelKind::kGcn], 0.75);
  EXPECT_GT(accuracy[ModelKind::kSage], 0.85);
  EXPECT_GT(accuracy[ModelKind::kGcn], accuracy[ModelKind::kMlp] + 0.15);
  EXPECT_GT(accuracy[ModelKind::kSage], accuracy[ModelKind::kMlp] + 0.15);
}

TEST(GnnTest, SeededTrainingIsReproducibleAndSavedModelsPredictIdentically) {
  TrainParams p = fast_params();
  p.epochs = 8;
  Prepared d = prepare(planted_graph(80, 12, 2), p);
  auto a = train_model(ModelKind::kGcn, d.data, d.split, p);
  auto b = train_model(ModelKind::kGcn, d.data, d.split, p);
  ASSERT_TRUE(a && b);
  auto pa = predict_scores(ModelKind::kGcn, p, a->weights, d.data, 0, d.data.snapshots());
  auto pb = predict_scores(ModelKind::kGcn, p, b->weights, d.data, 0, d.data.snapshots());
  ASSERT_TRUE(pa && pb);
  ASSERT_EQ(pa->size(), d.data.snapshots() * d.data.nodes);
  EXPECT_EQ(*pa, *pb);
  EXPECT_EQ(a->report.test.accuracy, b->report.test.accuracy);

  TrainParams other = p;
  other.seed = 8;
  auto c = train_model(ModelKind::kGcn, d.data, d.split, other);
  ASSERT_TRUE(c);
  EXPECT_NE(*pa, *predict_scores(ModelKind::kGcn, other, c->weights, d.data, 0, d.data.snapshots()));

  // save -> load -> the same predictions, bit for bit.
  const fs::path dir = fs::temp_directory_path() / fmt::format("sf-gnn-{}", ::getpid());
  auto artifacts = open_artifact_store(dir.string());
  ASSERT_TRUE(artifacts);
  ASSERT_TRUE(save_model(**artifacts, "m1", *a, p, d.graph, d.norm, d.split, {a->report}));
  auto loaded = load_model(**artifacts, "m1");
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  EXPECT_EQ(loaded->kind, ModelKind::kGcn);
  EXPECT_EQ(loaded->norm.mean, d.norm.mean);
  EXPECT_EQ(loaded->metadata["data"]["test"]["snapshots"], d.split.test_end - d.split.test_begin);
  auto pl = predict_scores(loaded->kind, loaded->params, loaded->weights, d.data, 0, d.data.snapshots());
  ASSERT_TRUE(pl);
  EXPECT_EQ(*pa, *pl);
  EXPECT_EQ(load_model(**artifacts, "nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(predict_scores(ModelKind::kGcn, p, "garbage", d.data, 0, 1).status().code(),
            ErrorCode::kCorruption);
  fs::remove_all(dir);
}

TEST(GnnTest, MetricsByHand) {
  // Scores 0.1 0.4 0.35 0.8 for labels down, down, up, up: AUC 0.75 (one of four pairs misordered).
  EXPECT_DOUBLE_EQ(*roc_auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(*roc_auc({0.5f, 0.5f}, {0, 1}), 0.5);  // a tie counts half
  EXPECT_FALSE(roc_auc({0.1f, 0.2f}, {1, 1}));
  Metrics m = score(Task::kDirection, {0.9f, 0.8f, 0.7f, 0.2f}, {0.01f, 0.02f, -0.01f, -0.03f});
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(m.balanced_accuracy, 0.75);  // recall up 2/2, down 1/2
  EXPECT_DOUBLE_EQ(*m.auc, 1.0);
  Metrics all_up = score(Task::kDirection, {1, 1, 1, 1}, {0.01f, 0.02f, 0.03f, -0.01f});
  EXPECT_DOUBLE_EQ(all_up.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(all_up.balanced_accuracy, 0.5);  // the majority guess is no skill
  EXPECT_FALSE(all_up.auc);
  Metrics r = score(Task::kReturn, {0.1f, -0.1f}, {0.2f, 0.1f});
  EXPECT_NEAR(r.mse, (0.01 + 0.04) / 2, 1e-7);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5);
}

TEST(GnnTest, ChronologicalSplitWithEmbargo) {
  GraphParams g;
  g.horizon = 3;
  g.step = 1;
  TrainParams p;
  auto s = chronological_split(100, g, p);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->train_end, 70u);
  EXPECT_EQ(s->val_begin, 73u);  // no training label (3 candles ahead) overlaps a validation label
  EXPECT_EQ(s->val_end, 85u);
  EXPECT_EQ(s->test_begin, 88u);
  EXPECT_EQ(s->test_end, 100u);
  EXPECT_FALSE(chronological_split(5, g, p));
}

TEST(GnnTest, BaselinesMajorityAndPersistence) {
  TrainParams p = fast_params();
  Prepared d = prepare(planted_graph(60, 10, 3), p);
  auto reports = baseline_reports(Task::kDirection, d.data, d.split);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].model, "majority");
  EXPECT_DOUBLE_EQ(reports[0].test.balanced_accuracy, 0.5);
  EXPECT_EQ(reports[1].model, "persistence");
  EXPECT_GT(reports[1].test.count, 0);
}

TEST(GnnTest, ParametersNameTheBadField) {
  auto error_of = [](Json fields) {
    auto p = TrainParams::from_json(fields);
    EXPECT_FALSE(p);
    return p ? std::string() : p.status().message();
  };
  EXPECT_NE(error_of({{"hidden", 0}}).find("'hidden'"), std::string::npos);
  EXPECT_NE(error_of({{"learning_rate", "fast"}}).find("'learning_rate'"), std::string::npos);
  EXPECT_NE(error_of({{"model", "gat"}}).find("'model'"), std::string::npos);
  EXPECT_NE(error_of({{"compare", {"gcn", 3}}}).find("'compare[1]'"), std::string::npos);
  EXPECT_NE(error_of({{"task", "price"}}).find("'task'"), std::string::npos);
  EXPECT_NE(error_of({{"train_fraction", 0.9}, {"val_fraction", 0.2}}).find("'val_fraction'"),
            std::string::npos);
  auto ok = TrainParams::from_json({{"model", "sage"}, {"compare", {"mlp"}}, {"epochs", 5}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->compare.size(), 2u);  // the saved model is always trained
  EXPECT_EQ(ok->compare[0], ModelKind::kSage);
}

TEST(GnnJobTest, TrainsOnABuiltGraphReportsEpochsSavesAndPredicts) {
  services::testing::TestEnv env;
  ASSERT_TRUE(services::ensure_service_topics(env.bus()));
  const auto symbols = testing::sim_symbols(6);
  ASSERT_TRUE(
      testing::store_sim_candles(env.store(), symbols, protocol::Interval::k1h, kDay, kDay + 6 * 24 * kHour));

  // One workflow with both services: the trainer waits for the builder's graph.
  const std::string queue_id = "wf-btcusdt-graph_build-20240802-c0ffee";
  auto build = services::testing::make_start(queue_id, "graph-builder", "graph_build");
  build.time_range = "2024-08-02:2024-08-06";
  build.extra["symbols"] = symbols;
  build.extra["window"] = 12;
  auto train = services::testing::make_start(queue_id, "gnn-trainer", "gnn_train");
  train.time_range = build.time_range;
  train.extra["epochs"] = 4;
  train.extra["hidden"] = 8;
  train.extra["compare"] = {"gcn", "mlp"};
  const fs::path artifacts = env.dir() / "artifacts";
  services::JobRegistry registry;
  registry.add(protocol::Worker::kGraphBuilder, make_graph_builder_job);
  registry.add(protocol::Worker::kGnnTrainer, make_gnn_trainer_job);
  services::JobEnvironment job_env{env.bus(), env.store(), registry};
  job_env.settings.artifacts = artifacts.string();
  job_env.settings.poll_interval = std::chrono::milliseconds(20);
  job_env.start_timeout = std::chrono::seconds(5);
  services::testing::publish_command(env.bus(), train);
  services::testing::publish_command(env.bus(), build);
  Status trained;
  std::thread trainer([&] { trained = services::run_job(job_env, services::testing::spec_for(train)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the trainer starts first and waits
  Status built = services::run_job(job_env, services::testing::spec_for(build));
  trainer.join();
  ASSERT_TRUE(built) << built.to_string();
  ASSERT_TRUE(trained) << trained.to_string();

  auto events = services::testing::read_events(env.bus(), queue_id, train.telemetry_id);
  int epoch_events = 0;
  bool waited = false;
  for (const auto& e : events) {
    waited |= e.event.message.find("waiting for graph") != std::string::npos;
    if (e.event.extra.contains("epoch")) {
      ++epoch_events;
      EXPECT_TRUE(e.event.extra["train_loss"].is_number());
      EXPECT_TRUE(e.event.extra["val_loss"].is_number());
    }
  }
  EXPECT_TRUE(waited);
  EXPECT_EQ(epoch_events, 8);  // 4 epochs of gcn + 4 of mlp (patience is larger)
  const auto& last = events.back().event;
  EXPECT_EQ(last.status, protocol::WorkflowStatus::kCompleted);
  for (const char* model : {"gcn", "mlp", "majority", "persistence"}) {
    EXPECT_NE(last.message.find(model), std::string::npos) << last.message;
  }

  auto store = open_artifact_store(artifacts.string());
  ASSERT_TRUE(store);
  auto model = load_model(**store, queue_id);
  ASSERT_TRUE(model) << model.status().to_string();
  EXPECT_EQ(model->metadata["comparison"].size(), 4u);
  EXPECT_EQ(model->graph.symbols, symbols);
  auto predictions = predict_at(env.store(), *model, kDay + 5 * 24 * kHour + 1234);
  ASSERT_TRUE(predictions) << predictions.status().to_string();
  EXPECT_EQ(predictions->time, kDay + 5 * 24 * kHour);  // floored to the hour
  ASSERT_EQ(predictions->rows.size(), symbols.size());
  for (const auto& row : predictions->rows) {
    EXPECT_TRUE(row.mask);
    EXPECT_GE(row.score, 0.0f);
    EXPECT_LE(row.score, 1.0f);
  }
  // Before the candles begin there is nothing to predict from: the error names the symbols.
  auto early = predict_at(env.store(), *model, kDay - 24 * kHour);
  EXPECT_FALSE(early);
}

TEST(GnnJobTest, MissingGraphFailsClearly) {
  services::testing::TestEnv env;
  ASSERT_TRUE(services::ensure_service_topics(env.bus()));
  auto train =
      services::testing::make_start("wf-btcusdt-gnn_train-20240801-a1b2c3", "gnn-trainer", "gnn_train");
  train.extra["graph_id"] = "wf-btcusdt-graph_build-20240801-ffffff";
  services::JobRegistry registry;
  registry.add(protocol::Worker::kGnnTrainer, make_gnn_trainer_job);
  services::JobEnvironment job_env{env.bus(), env.store(), registry};
  job_env.settings.artifacts = (env.dir() / "artifacts").string();
  services::testing::publish_command(env.bus(), train);
  Status status = services::run_job(job_env, services::testing::spec_for(train));
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("wf-btcusdt-graph_build-20240801-ffffff"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace sf::analytics
