// The one place that maps command-line flags and STREAMFORGE_* environment variables onto option structs.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace sf::cli {

// "--kafka-bootstrap" -> "STREAMFORGE_KAFKA_BOOTSTRAP"
std::string env_name_for_flag(const std::string& flag);

// Adds `flag` bound to `value`; the flag wins over STREAMFORGE_<FLAG>, which wins over the in-class default
// already held by `value` (shown in --help).
template <typename T>
CLI::Option* bind_option(CLI::App& app, const std::string& flag, T& value, const std::string& help) {
  return app.add_option(flag, value, help)->envname(env_name_for_flag(flag))->capture_default_str();
}

// Same for a boolean switch: `--flag` sets true; STREAMFORGE_FLAG=1|true|on sets it too.
CLI::Option* bind_switch(CLI::App& app, const std::string& flag, bool& value, const std::string& help);

// Options every subcommand shares.
struct CommonOptions {
  std::string data_dir = "./streamforge-data";  // root of the embedded bus and store
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
};

}  // namespace sf::cli
