// The gnn-trainer job: load the graph (waiting for it when built in the same workflow), train and compare,
// save the chosen model, report every epoch on queue-events.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "analytics/gnn/gnn.h"

namespace sf::analytics {
namespace {

using protocol::Json;

// A `loading` event with the epoch's numbers as extra fields (the seed's fields stay as they are).
Status publish_epoch(services::JobContext& ctx, const EpochReport& r, int64_t epochs_done) {
  ctx.telemetry.set_records_written(epochs_done);
  protocol::EventMessage event = ctx.telemetry.make_event(
      protocol::WorkflowStatus::kLoading,
      fmt::format("{} epoch {}: train_loss {:.5f} val_loss {:.5f} val_accuracy {:.4f}", r.model, r.epoch,
                  r.train_loss, r.val_loss, r.val.accuracy),
      epochs_done, false);
  event.extra["model"] = r.model;
  event.extra["epoch"] = r.epoch;
  event.extra["train_loss"] = r.train_loss;
  event.extra["val_loss"] = r.val_loss;
  event.extra["val_accuracy"] = r.val.accuracy;
  event.extra["val_balanced_accuracy"] = r.val.balanced_accuracy;
  event.extra["val_auc"] = r.val.auc ? Json(*r.val.auc) : Json(nullptr);
  const std::string value = protocol::serialize(event);
  bus::OutgoingRecord record;
  record.key = ctx.telemetry.identity().queue_id;
  record.value = value;
  auto produced = ctx.bus.produce(services::kEventsTopic, std::span<const bus::OutgoingRecord>(&record, 1));
  return produced ? Status::ok() : produced.status();
}

std::string comparison_table(Task task, const std::vector<ModelReport>& reports) {
  std::string out;
  for (const ModelReport& r : reports) {
    const Metrics& t = r.test;
    if (!out.empty()) out += "; ";
    if (task == Task::kDirection) {
      out += fmt::format("{} acc {:.4f} bal_acc {:.4f} auc {}", r.model, t.accuracy, t.balanced_accuracy,
                         t.auc ? fmt::format("{:.4f}", *t.auc) : "n/a");
    } else {
      out += fmt::format("{} mse {:.3g} dir_acc {:.4f}", r.model, t.mse, t.accuracy);
    }
  }
  return out;
}

// The stored graph, waiting while it is being built by this workflow's own graph-builder.
Result<GraphData> wait_for_graph(services::JobContext& ctx, const std::string& graph_id, bool same_workflow) {
  bool announced = false;
  while (true) {
    auto graph = load_graph(ctx.store, graph_id);
    if (graph) return graph;
    const ErrorCode code = graph.status().code();
    const bool pending = code == ErrorCode::kNotFound || code == ErrorCode::kFailedPrecondition;
    if (!same_workflow || !pending) {
      if (code == ErrorCode::kNotFound) {
        return Status::not_found(
            fmt::format("{}; build it first (workflow type graph_build) or name another "
                        "with graph_id",
                        graph.status().message()));
      }
      return graph.status();
    }
    if (!announced) {
      SF_RETURN_IF_ERROR(ctx.telemetry.loading(0, fmt::format("waiting for graph {} to be built", graph_id)));
      announced = true;
    }
    if (ctx.stop_requested()) return Status::cancelled("stopped while waiting for the graph");
    std::this_thread::sleep_for(ctx.settings.poll_interval);
  }
}

}  // namespace

Status GnnTrainerJob::run(services::JobContext& ctx) {
  const protocol::ControlMessage& start = ctx.command();
  auto params = TrainParams::from_json(start.extra);
  if (!params) return params.status();
  auto graph_id = graph_id_of(start);
  if (!graph_id) return graph_id.status();
  std::string model_id = start.queue_id;
  for (const char* field : {"model_id", "model_output"}) {
    auto v = start.extra_field<std::string>(field);
    if (!v) return v.status();
    if (*v && !(*v)->empty()) {
      model_id = **v;
      break;
    }
  }
  auto location = start.extra_field<std::string>("artifacts");
  if (!location) return location.status();
  auto artifacts = open_artifact_store(location->value_or(ctx.settings.artifacts));
  if (!artifacts) return artifacts.status();

  auto graph = wait_for_graph(ctx, *graph_id, *graph_id == start.queue_id);
  if (!graph) return graph.status();
  auto split = chronological_split(graph->snapshots.size(), graph->params, *params);
  if (!split) return split.status();
  const Normalisation norm = fit_normalisation(*graph, split->train_begin, split->train_end);
  const GraphDataset data = make_dataset(*graph, norm);
  SF_RETURN_IF_ERROR(ctx.telemetry.loading(
      0, fmt::format("training on graph {}: {} snapshots ({} train, {} validation, {} test), {} symbols",
                     *graph_id, data.snapshots(), split->train_end - split->train_begin,
                     split->val_end - split->val_begin, split->test_end - split->test_begin, data.nodes)));

  std::vector<ModelReport> reports;
  std::optional<TrainedModel> chosen;
  int64_t epochs_done = 0;
  for (ModelKind kind : params->compare) {
    auto trained = train_model(kind, data, *split, *params, [&](const EpochReport& r) -> Status {
      if (ctx.stop_requested()) return Status::cancelled(fmt::format("stopped while training {}", r.model));
      return publish_epoch(ctx, r, ++epochs_done);
    });
    if (!trained) return trained.status();
    reports.push_back(trained->report);
    if (kind == params->model) chosen = std::move(trained).value();
  }
  for (auto& baseline : baseline_reports(params->task, data, *split)) reports.push_back(std::move(baseline));
  SF_RETURN_IF_ERROR(save_model(**artifacts, model_id, *chosen, *params, *graph, norm, *split, reports));
  ctx.telemetry.set_records_written(epochs_done);
  ctx.result_message = fmt::format("model {} ({}) saved to {}; test: {}", model_id, model_name(params->model),
                                   (*artifacts)->location(model_id), comparison_table(params->task, reports));
  spdlog::info("gnn-trainer: {}", ctx.result_message);
  return Status::ok();
}

std::unique_ptr<services::Job> make_gnn_trainer_job() {
  return std::make_unique<GnnTrainerJob>();
}

}  // namespace sf::analytics
