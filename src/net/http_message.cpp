// Header fields and reason phrases.
#include "net/http_message.h"

#include <ostream>  // boost/beast/http/status.hpp needs it in Boost 1.74

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cctype>

namespace sf::net {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  fields_.erase(
      std::remove_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); }),
      fields_.end());
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view reason_phrase(int status) {
  auto text = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (status == 418) return "I'm a teapot";
  return text.empty() ? std::string_view("Unknown") : std::string_view(text.data(), text.size());
}

}  // namespace sf::net
