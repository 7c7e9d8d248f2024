// The built-in job kinds, keyed by the protocol's Worker (a start's target and type are routed to one).
#include "services/job/catalog.h"

#include "analytics/graph/graph.h"
#if SF_WITH_GNN
#include "analytics/gnn/gnn.h"
#endif
#include "services/connector/arango_connector_job.h"
#include "services/loaders/bulk/bulk_loader.h"
#include "services/loaders/rest_loader.h"
#include "services/loaders/ws/ws_loader.h"

namespace sf::services {

void register_builtin_jobs(JobRegistry& registry) {
  registry.add(protocol::Worker::kConnector, make_arango_connector_job);
  registry.add(protocol::Worker::kRestLoader, [] { return std::make_unique<RestLoaderJob>(); });
  registry.add(protocol::Worker::kWsLoader, make_ws_loader_job);
  registry.add(protocol::Worker::kBulkLoader, make_bulk_loader_job);
  registry.add(protocol::Worker::kGraphBuilder, analytics::make_graph_builder_job);
#if SF_WITH_GNN
  registry.add(protocol::Worker::kGnnTrainer, analytics::make_gnn_trainer_job);
#endif
}

JobRegistry builtin_job_registry() {
  JobRegistry registry;
  register_builtin_jobs(registry);
  return registry;
}

}  // namespace sf::services
