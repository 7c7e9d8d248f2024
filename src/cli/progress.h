// A one-line live progress display for long-running commands (a redrawn line on a terminal, periodic
// plain lines otherwise, so logs of CI runs stay readable).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sf::cli {

class ProgressLine {
 public:
  ProgressLine();
  // Draws `text` now if enough time passed since the last draw (always when `force`).
  void update(const std::string& text, bool force = false);
  // Ends the line (newline on a terminal).
  void finish();

  // "1.23M", "456.7k", "999"
  static std::string human(double value);

 private:
  bool tty_;
  std::chrono::steady_clock::time_point last_;
  size_t last_width_ = 0;
};

}  // namespace sf::cli
