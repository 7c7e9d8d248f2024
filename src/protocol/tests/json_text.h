// Test helper: JSON text with the whitespace outside strings removed, and the top-level keys in order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sf::protocol::testing {

inline std::string strip_json_whitespace(std::string_view text) {
  std::string out;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out += c;
    }
  }
  return out;
}

inline std::vector<std::string> top_level_keys(std::string_view text) {
  std::vector<std::string> keys;
  auto json = nlohmann::ordered_json::parse(text);
  for (auto it = json.begin(); it != json.end(); ++it) keys.push_back(it.key());
  return keys;
}

}  // namespace sf::protocol::testing
