// Process-wide logging set-up: spdlog to stderr, readable text by default or JSON lines for collectors.
#pragma once

#include <string>

namespace sf {

enum class LogFormat { kText, kJson };

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  LogFormat format = LogFormat::kText;
};

// Installs the default spdlog logger (stderr, so stdout stays for command output). Call once from main.
// Throws sf::Error for an unknown level.
void init_logging(const LogOptions& options);

// Parses "text" or "json"; throws sf::Error otherwise.
LogFormat parse_log_format(const std::string& text);

}  // namespace sf
