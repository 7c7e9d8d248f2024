// Graph parameters: defaults, validation with errors naming the field, JSON form.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "analytics/graph/graph.h"

namespace sf::analytics {
namespace {

Status field_error(std::string_view field, std::string_view why) {
  return Status::invalid_argument(fmt::format("field '{}': {}", field, why));
}

// An optional integer field within [min, max].
Status read_int(const protocol::Json& fields, std::string_view name, int64_t min, int64_t max, int& out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->is_null()) return Status::ok();
  if (!it->is_number_integer()) {
    return field_error(name, fmt::format("must be an integer, got {}", it->type_name()));
  }
  const int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    return field_error(name, fmt::format("must be an integer in [{}, {}], got {}", min, max, v));
  }
  out = static_cast<int>(v);
  return Status::ok();
}

Status read_double(const protocol::Json& fields, std::string_view name, double min, double max,
                   bool min_exclusive, double& out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->is_null()) return Status::ok();
  if (!it->is_number()) return field_error(name, fmt::format("must be a number, got {}", it->type_name()));
  const double v = it->get<double>();
  if (!std::isfinite(v) || v > max || (min_exclusive ? v <= min : v < min)) {
    return field_error(
        name, fmt::format("must be a number in {}{}, {}], got {}", min_exclusive ? "(" : "[", min, max, v));
  }
  out = v;
  return Status::ok();
}

}  // namespace

int64_t GraphParams::interval_ms() const {
  return protocol::interval_ms(interval).value_or(0);
}

int GraphParams::required_candles() const {
  const int need = static_cast<int>(std::ceil(min_coverage * window - 1e-9));
  return std::max(3, need);
}

std::vector<TimestampMs> GraphParams::snapshot_times() const {
  std::vector<TimestampMs> out;
  const int64_t iv = interval_ms();
  if (iv <= 0 || !range.end_ms) return out;
  TimestampMs t = range.start_ms % iv == 0 ? range.start_ms : (range.start_ms / iv + 1) * iv;
  for (; t < *range.end_ms; t += iv * step) out.push_back(t);
  return out;
}

Result<GraphParams> graph_params_from_json(const protocol::Json& fields, std::string_view time_range) {
  GraphParams p;
  if (!fields.is_object()) return Status::invalid_argument("graph parameters must be a JSON object");

  auto symbols = fields.find("symbols");
  if (symbols == fields.end() || symbols->is_null()) {
    return field_error("symbols", "is missing; list at least two symbols, e.g. [\"BTCUSDT\",\"ETHUSDT\"]");
  }
  if (!symbols->is_array()) {
    return field_error("symbols", fmt::format("must be an array of strings, got {}", symbols->type_name()));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < symbols->size(); ++i) {
    const auto& s = (*symbols)[i];
    const std::string path = fmt::format("symbols[{}]", i);
    if (!s.is_string()) return field_error(path, fmt::format("must be a string, got {}", s.type_name()));
    auto symbol = protocol::normalize_symbol(s.get<std::string>());
    if (!symbol) return field_error(path, symbol.status().message());
    if (!seen.insert(*symbol).second) return field_error(path, fmt::format("'{}' is listed twice", *symbol));
    p.symbols.push_back(std::move(symbol).value());
  }
  if (p.symbols.size() < 2) {
    return field_error("symbols",
                       fmt::format("a graph needs at least two symbols, got {}", p.symbols.size()));
  }

  if (auto it = fields.find("interval"); it != fields.end() && !it->is_null()) {
    if (!it->is_string()) {
      return field_error("interval", fmt::format("must be a string, got {}", it->type_name()));
    }
    auto interval = protocol::parse_interval(it->get<std::string>());
    if (!interval) return field_error("interval", interval.status().message());
    if (!protocol::interval_ms(*interval)) {
      return field_error("interval", "1M (calendar months) has no fixed length; use 1w or shorter");
    }
    p.interval = *interval;
  }

  if (time_range.empty()) return field_error("time_range", "is missing");
  auto range = parse_time_range(time_range);
  if (!range) return field_error("time_range", range.status().message());
  if (!range->end_ms) return field_error("time_range", "a graph needs an end (START:END)");
  p.range = *range;

  SF_RETURN_IF_ERROR(read_int(fields, "window", 3, 100'000, p.window));
  SF_RETURN_IF_ERROR(read_int(fields, "step", 1, 100'000, p.step));
  SF_RETURN_IF_ERROR(read_int(fields, "horizon", 1, 100'000, p.horizon));
  SF_RETURN_IF_ERROR(read_int(fields, "top_k", 0, 100'000, p.top_k));
  SF_RETURN_IF_ERROR(read_double(fields, "threshold", 0.0, 1.0, false, p.threshold));
  SF_RETURN_IF_ERROR(read_double(fields, "min_coverage", 0.0, 1.0, true, p.min_coverage));
  if (p.snapshot_times().empty()) {
    return field_error("time_range", fmt::format("'{}' holds no {} candle open time: no snapshot to build",
                                                 time_range, protocol::interval_name(p.interval)));
  }
  return p;
}

protocol::Json to_json(const GraphParams& p) {
  protocol::Json j = protocol::Json::object();
  j["symbols"] = p.symbols;
  j["interval"] = std::string(protocol::interval_name(p.interval));
  j["time_range"] = format_time_range(p.range);
  j["window"] = p.window;
  j["step"] = p.step;
  j["horizon"] = p.horizon;
  j["top_k"] = p.top_k;
  j["threshold"] = p.threshold;
  j["min_coverage"] = p.min_coverage;
  return j;
}

}  // namespace sf::analytics
