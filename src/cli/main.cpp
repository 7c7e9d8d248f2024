// The `streamforge` executable: one binary, every service as a subcommand (DESIGN.md, "One binary").
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "core/logging.h"
#include "core/status.h"

namespace {

// Each subcommand parses its flags and calls library code in src/.
constexpr sf::cli::CommandSpec kCommands[] = {
    {"dummy", "Diagnostic service: push synthetic candles through the bus into the store and verify them",
     sf::cli::setup_dummy},
    {"bus", "Inspect the embedded bus: topics, partitions, offsets, consumer groups", sf::cli::setup_bus},
    {"store", "Inspect the embedded store: collections and document counts", sf::cli::setup_store},
    {"exchange-sim",
     "A local Binance-compatible exchange (REST now; WebSocket and bulk files later) for demos, tests and "
     "benchmarks",
     sf::cli::setup_exchange_sim},
    {"broker", "The embedded log served over the Kafka wire protocol (kcat, librdkafka, any Kafka client)",
     sf::cli::setup_broker},
    {"serve", "The queue-manager: REST API, workflow state, dispatch, in-process jobs, event tracking",
     sf::cli::setup_serve},
    {"job", "Run one job in the foreground (the entry point of a Kubernetes Job)", sf::cli::setup_job},
    {"workflow", "Start, list, show, follow and stop workflows through the REST API",
     sf::cli::setup_workflow},
    {"query", "Read a stored collection (JSON lines, CSV or a count) through the REST API",
     sf::cli::setup_query},
    {"graph", "Export or show a graph built by graph-builder (edge list or JSON)", sf::cli::setup_graph},
#if SF_WITH_GNN
    {"gnn", "Predict with a model saved by gnn-trainer, or show its metadata and metrics", sf::cli::setup_gnn},
#endif
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"StreamForge: crypto market data ingestion, storage and graph learning"};
  app.set_version_flag("--version", std::string("streamforge ") + STREAMFORGE_VERSION);
  app.require_subcommand(1);

  sf::cli::CommonOptions common;
  sf::cli::bind_option(app, "--log-level", common.log_level, "trace|debug|info|warn|error|off");
  sf::cli::bind_option(app, "--log-format", common.log_format, "text|json");

  std::vector<std::pair<CLI::App*, sf::cli::CommandRunner>> runners;
  for (const auto& spec : kCommands) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    runners.emplace_back(sub, spec.setup(*sub, common));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    sf::init_logging({common.log_level, sf::parse_log_format(common.log_format)});
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
  } catch (const sf::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.status().code() == sf::ErrorCode::kInvalidArgument ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
