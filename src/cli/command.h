// What every subcommand file provides: a setup function that declares its flags and returns the runner.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "cli/options.h"

namespace sf::cli {

// Runs the parsed subcommand and returns the process exit code. May throw sf::Error.
using CommandRunner = std::function<int()>;

// Declares flags on `app` (a fresh subcommand) and returns the runner that executes with their values.
using CommandSetup = CommandRunner (*)(CLI::App& app, const CommonOptions& common);

struct CommandSpec {
  const char* name;
  const char* help;
  CommandSetup setup;
};

}  // namespace sf::cli
