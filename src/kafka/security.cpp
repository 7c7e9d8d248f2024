// Listener security settings of kafka.h: protocol names and SASL users from flags or a file.
#include <algorithm>
#include <cctype>
#include <fstream>

#include <fmt/format.h>

#include "kafka/kafka.h"

namespace sf::kafka {

Result<SecurityProtocol> parse_security_protocol(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  if (upper == "PLAINTEXT") return SecurityProtocol::kPlaintext;
  if (upper == "SSL") return SecurityProtocol::kSsl;
  if (upper == "SASL_PLAINTEXT") return SecurityProtocol::kSaslPlaintext;
  if (upper == "SASL_SSL") return SecurityProtocol::kSaslSsl;
  return Status::invalid_argument(
      fmt::format("unknown security protocol '{}' (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)", name));
}

std::string_view security_protocol_name(SecurityProtocol protocol) {
  switch (protocol) {
    case SecurityProtocol::kPlaintext:
      return "PLAINTEXT";
    case SecurityProtocol::kSsl:
      return "SSL";
    case SecurityProtocol::kSaslPlaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl:
      return "SASL_SSL";
  }
  return "?";
}

Result<SaslUser> parse_sasl_user(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return Status::invalid_argument(fmt::format("SASL user '{}' is not NAME:PASSWORD", text));
  SaslUser user{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  if (user.name.empty()) return Status::invalid_argument("SASL user has an empty name (NAME:PASSWORD)");
  if (user.password.empty())
    return Status::invalid_argument(fmt::format("SASL user '{}' has an empty password", user.name));
  return user;
}

Result<std::vector<SaslUser>> read_sasl_users_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error(fmt::format("cannot read SASL users file '{}'", path));
  std::vector<SaslUser> users;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    auto user = parse_sasl_user(line);
    if (!user) {
      // The message never repeats the line: it holds a password.
      return Status::invalid_argument(fmt::format("{} line {}: not NAME:PASSWORD", path, number));
    }
    users.push_back(std::move(*user));
  }
  return users;
}

}  // namespace sf::kafka
