// The graph-builder job: parameters from the start command, build_graph, telemetry.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analytics/graph/graph.h"

namespace sf::analytics {

Result<std::string> graph_id_of(const protocol::ControlMessage& start) {
  for (const char* field : {"graph_id", "graph_collection"}) {
    auto id = start.extra_field<std::string>(field);
    if (!id) return id.status();
    if (*id && !(*id)->empty()) {
      if (Status valid = store::validate_collection_name(vertex_collection(**id)); !valid) {
        return Status::invalid_argument(
            fmt::format("field '{}': '{}' cannot name a graph: {}", field, **id, valid.message()));
      }
      return **id;
    }
  }
  return start.queue_id;
}

Status GraphBuilderJob::run(services::JobContext& ctx) {
  const protocol::ControlMessage& start = ctx.command();
  auto params = graph_params_from_json(start.extra, start.time_range);
  if (!params) return params.status();
  auto graph_id = graph_id_of(start);
  if (!graph_id) return graph_id.status();
  const size_t snapshots = params->snapshot_times().size();
  SF_RETURN_IF_ERROR(ctx.telemetry.loading(
      0, fmt::format("building graph {}: {} symbols, {} snapshots of {} candles", *graph_id,
                     params->symbols.size(), snapshots, protocol::interval_name(params->interval))));

  BuildOptions options;
  options.progress = [&](const BuildStats& stats) -> Status {
    if (ctx.stop_requested()) return Status::cancelled("graph build stopped");
    return ctx.telemetry.progress(stats.vertices + stats.edges,
                                  fmt::format("snapshot {}/{}: {} vertices, {} edges", stats.snapshots,
                                              snapshots, stats.vertices, stats.edges));
  };
  auto stats = build_graph(ctx.store, *graph_id, *params, options);
  if (!stats) return stats.status();
  ctx.telemetry.set_records_written(stats->vertices + stats->edges);
  ctx.result_message =
      fmt::format("graph {}: {} snapshots, {} vertices ({} masked), {} edges, {} labelled; {:.2f} s",
                  *graph_id, stats->snapshots, stats->vertices, stats->masked_vertices, stats->edges,
                  stats->labelled_vertices, stats->seconds);
  spdlog::info("graph-builder: {}", ctx.result_message);
  return Status::ok();
}

std::unique_ptr<services::Job> make_graph_builder_job() {
  return std::make_unique<GraphBuilderJob>();
}

}  // namespace sf::analytics
