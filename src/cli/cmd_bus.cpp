// `streamforge bus topics|groups`: inspect the embedded bus of a data directory.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "cli/bus_flags.h"
#include "cli/commands.h"

namespace sf::cli {
namespace {

struct BusCommandOptions {
  std::string data_dir = "./streamforge-data";
  BusFlags bus;
};

}  // namespace

CommandRunner setup_bus(CLI::App& app, const CommonOptions& /*common*/) {
  auto options = std::make_shared<BusCommandOptions>();
  app.require_subcommand(1);
  app.fallthrough();  // `bus topics --data-dir X`: the sub-subcommand passes the flag up
  bind_option(app, "--data-dir", options->data_dir, "data directory of the embedded bus");
  bind_bus_flags(app, options->bus);
  auto* topics = app.add_subcommand("topics", "List topics with partitions, offsets and sizes");
  auto* groups = app.add_subcommand("groups", "List consumer groups with their committed offsets");

  return [options, topics, groups]() -> int {
    bus::EmbeddedBusOptions bus_options;
    bus_options.dir = std::filesystem::path(options->data_dir) / "bus";
    auto bus = value_or_throw(bus::open_bus(bus_config(options->bus, bus_options)));
    auto names = value_or_throw(bus->list_topics());
    if (topics->parsed()) {
      fmt::print("{:<48} {:>9} {:>14} {:>14} {:>12}\n", "TOPIC", "PARTITION", "START", "END", "BYTES");
      for (const auto& name : names) {
        auto info = value_or_throw(bus->describe_topic(name));
        for (const auto& p : info.partitions) {
          fmt::print("{:<48} {:>9} {:>14} {:>14} {:>12}\n", name, p.partition, p.log_start_offset,
                     p.log_end_offset, p.size_bytes);
        }
      }
      return 0;
    }
    if (groups->parsed()) {
      fmt::print("{:<32} {:<40} {:>9} {:>14} {:>10}\n", "GROUP", "TOPIC", "PARTITION", "COMMITTED", "LAG");
      for (const auto& group : value_or_throw(bus->list_groups())) {
        for (const auto& name : names) {
          auto info = value_or_throw(bus->describe_topic(name));
          for (const auto& p : info.partitions) {
            auto committed = value_or_throw(bus->committed_offset(group, name, p.partition));
            if (!committed) continue;
            fmt::print("{:<32} {:<40} {:>9} {:>14} {:>10}\n", group, name, p.partition, *committed,
                       p.log_end_offset - *committed);
          }
        }
      }
      return 0;
    }
    return 2;
  };
}

}  // namespace sf::cli
