// Workflow ids, topic, collection and telemetry names.
#include "protocol/naming.h"

#include <array>

#include <fmt/format.h>

namespace sf::protocol {
namespace {

// "2024-08-01" with the dashes replaced by `sep` ("" -> "20240801", "_" -> "2024_08_01").
std::string date_with(TimestampMs t, std::string_view sep) {
  std::string iso = format_utc_date(t);  // YYYY-MM-DD
  std::string out;
  out.reserve(iso.size());
  for (char c : iso) {
    if (c == '-') {
      out += sep;
    } else {
      out += c;
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<std::string> lower_symbol(std::string_view symbol) {
  auto upper = normalize_symbol(symbol);
  if (!upper) return upper.status();
  return lower(*upper);
}

}  // namespace

bool is_valid_workflow_suffix(std::string_view suffix) {
  if (suffix.size() != kWorkflowSuffixLength) return false;
  for (char c : suffix) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string random_workflow_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return random_workflow_suffix(rng);
}

Result<std::string> make_workflow_id(std::string_view symbol, const WorkflowType& type, TimestampMs start,
                                     std::string_view suffix) {
  auto sym = lower_symbol(symbol);
  if (!sym) return sym.status();
  if (!is_valid_workflow_suffix(suffix)) {
    return Status::invalid_argument(
        fmt::format("invalid workflow id suffix '{}': expected 6 lower-case hex digits", suffix));
  }
  return fmt::format("wf-{}-{}-{}-{}", *sym, type.name(), date_with(start, ""), suffix);
}

Result<WorkflowIdParts> parse_workflow_id(std::string_view id) {
  auto bad = [&](std::string_view why) {
    return Status::invalid_argument(fmt::format(
        "invalid workflow id '{}': {} (expected wf-<symbol>-<type>-<yyyymmdd>-<6 hex>)", id, why));
  };
  std::array<std::string_view, 5> parts;
  std::size_t n = 0;
  std::string_view rest = id;
  while (true) {
    std::size_t dash = rest.find('-');
    if (n == parts.size()) return bad("too many '-'-separated parts");
    parts[n++] = rest.substr(0, dash);
    if (dash == std::string_view::npos) break;
    rest.remove_prefix(dash + 1);
  }
  if (n != parts.size()) return bad("too few '-'-separated parts");
  if (parts[0] != "wf") return bad("it does not start with 'wf-'");

  WorkflowIdParts out;
  std::string_view sym = parts[1];
  for (char c : sym) {
    if (c >= 'A' && c <= 'Z') return bad("the symbol must be lower case");
  }
  auto upper = normalize_symbol(sym);
  if (!upper) return bad(upper.status().message());
  out.symbol = std::move(*upper);

  auto type = parse_workflow_type(parts[2]);
  if (!type) return bad(type.status().message());
  out.type = *type;

  std::string_view date = parts[3];
  if (date.size() != 8 || date.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("the date must be yyyymmdd");
  }
  auto day = parse_utc_time(fmt::format("{}-{}-{}", date.substr(0, 4), date.substr(4, 2), date.substr(6, 2)));
  if (!day) return bad(fmt::format("'{}' is not a calendar date", date));
  out.start_date = *day;

  if (!is_valid_workflow_suffix(parts[4])) return bad("the suffix must be 6 lower-case hex digits");
  out.suffix = std::string(parts[4]);
  return out;
}

std::string data_topic(std::string_view queue_id) {
  return fmt::format("{}-data", queue_id);
}

std::string dead_letter_topic(std::string_view queue_id) {
  return fmt::format("{}-dlq", queue_id);
}

Result<std::string> collection_name(std::string_view symbol, const WorkflowType& type, TimestampMs start) {
  auto sym = lower_symbol(symbol);
  if (!sym) return sym.status();
  return fmt::format("{}_{}_{}", *sym, type.name(), date_with(start, "_"));
}

std::string telemetry_id(std::string_view target, std::string_view queue_id) {
  std::size_t dash = queue_id.rfind('-');
  std::string_view suffix = dash == std::string_view::npos ? queue_id : queue_id.substr(dash + 1);
  return fmt::format("{}__{}", target, suffix);
}

}  // namespace sf::protocol
