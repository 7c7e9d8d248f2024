// The setup functions of every subcommand, one file each (cmd_<name>.cpp), listed in main.cpp's table.
#pragma once

#include "cli/command.h"

namespace sf::cli {

CommandRunner setup_dummy(CLI::App& app, const CommonOptions& common);
CommandRunner setup_bus(CLI::App& app, const CommonOptions& common);
CommandRunner setup_store(CLI::App& app, const CommonOptions& common);
CommandRunner setup_exchange_sim(CLI::App& app, const CommonOptions& common);
CommandRunner setup_broker(CLI::App& app, const CommonOptions& common);
CommandRunner setup_serve(CLI::App& app, const CommonOptions& common);
CommandRunner setup_job(CLI::App& app, const CommonOptions& common);
CommandRunner setup_workflow(CLI::App& app, const CommonOptions& common);
CommandRunner setup_query(CLI::App& app, const CommonOptions& common);
CommandRunner setup_graph(CLI::App& app, const CommonOptions& common);
#if SF_WITH_GNN
CommandRunner setup_gnn(CLI::App& app, const CommonOptions& common);
#endif

}  // namespace sf::cli
