// Flag/environment binding.
#include "cli/options.h"

#include <cctype>

namespace sf::cli {

std::string env_name_for_flag(const std::string& flag) {
  std::string name = "STREAMFORGE_";
  for (char c : flag) {
    if (c == '-') {
      if (name.size() > 12) name += '_';
      continue;
    }
    name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

CLI::Option* bind_switch(CLI::App& app, const std::string& flag, bool& value, const std::string& help) {
  return app.add_flag(flag, value, help)->envname(env_name_for_flag(flag));
}

}  // namespace sf::cli
