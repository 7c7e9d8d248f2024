// Terminal-aware progress line.
#include "cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace sf::cli {

ProgressLine::ProgressLine() : tty_(::isatty(STDERR_FILENO) == 1), last_() {}

std::string ProgressLine::human(double value) {
  if (value >= 1e9) return fmt::format("{:.2f}G", value / 1e9);
  if (value >= 1e6) return fmt::format("{:.2f}M", value / 1e6);
  if (value >= 1e4) return fmt::format("{:.1f}k", value / 1e3);
  return fmt::format("{:.0f}", value);
}

void ProgressLine::update(const std::string& text, bool force) {
  auto now = std::chrono::steady_clock::now();
  auto interval = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(2000);
  if (!force && now - last_ < interval) return;
  last_ = now;
  if (tty_) {
    std::string padded = text;
    if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
    last_width_ = text.size();
    fmt::print(stderr, "\r{}", padded);
  } else {
    fmt::print(stderr, "{}\n", text);
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (tty_) fmt::print(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace sf::cli
