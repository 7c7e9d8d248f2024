// Binance-style parameter validation.
#include "exchange/sim/rest_endpoint.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace sf::exchange::sim {

std::optional<ApiError> RestParams::check_duplicates() const {
  std::set<std::string_view> seen;
  for (const auto& [k, v] : query_) {
    if (!seen.insert(k).second) return api_errors::duplicate_parameter();
  }
  return std::nullopt;
}

std::optional<ApiError> RestParams::check_all_read() const {
  size_t read = 0;
  for (bool r : read_) read += r ? 1 : 0;
  if (read != query_.size()) return api_errors::unread_parameters(read, query_.size());
  return std::nullopt;
}

std::optional<std::string_view> RestParams::take(std::string_view name) {
  for (size_t i = 0; i < query_.size(); ++i) {
    if (query_[i].first == name) {
      read_[i] = true;
      return std::string_view(query_[i].second);
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> RestParams::peek(std::string_view name) const {
  return net::find_param(query_, name);
}

std::optional<ApiError> RestParams::symbol(const SymbolTable& table, const SymbolSpec*& out) {
  auto v = take("symbol");
  if (!v || v->empty()) return api_errors::mandatory_missing("symbol");
  if (!is_valid_symbol_text(*v)) return api_errors::illegal_chars("symbol", kSymbolRange);
  out = table.find(*v);
  if (out == nullptr) return api_errors::invalid_symbol();
  return std::nullopt;
}

std::optional<ApiError> RestParams::interval(Interval& out) {
  auto v = take("interval");
  if (!v || v->empty()) return api_errors::mandatory_missing("interval");
  auto iv = parse_interval(*v);
  if (!iv) return api_errors::invalid_interval();
  out = *iv;
  return std::nullopt;
}

std::optional<ApiError> RestParams::optional_long(std::string_view name, std::optional<int64_t>& out) {
  out.reset();
  auto v = take(name);
  if (!v) return std::nullopt;
  if (v->empty()) return api_errors::parameter_empty(name);
  bool digits = v->size() <= 20;
  for (char c : *v) digits = digits && c >= '0' && c <= '9';
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), value);
  if (!digits || ec != std::errc() || ptr != v->data() + v->size())
    return api_errors::illegal_chars(name, kNumberRange);
  out = value;
  return std::nullopt;
}

std::optional<ApiError> RestParams::limit(int default_limit, int max_limit, int& out) {
  std::optional<int64_t> v;
  if (auto e = optional_long("limit", v)) return e;
  if (!v) {
    out = default_limit;
    return std::nullopt;
  }
  // Binance answers a limit above the maximum with the maximum (a live probe of /api/v3/klines with
  // limit=1500 returned 1000 rows; the depth documentation says the same of its 5000).
  if (*v < 1) return api_errors::invalid_parameter_data("limit");
  out = static_cast<int>(std::min<int64_t>(*v, max_limit));
  return std::nullopt;
}

}  // namespace sf::exchange::sim
