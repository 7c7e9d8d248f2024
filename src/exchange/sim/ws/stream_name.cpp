// Parsing of stream names.
#include "exchange/sim/ws/stream_name.h"

#include <fmt/format.h>

namespace sf::exchange::sim::ws {

Result<StreamName> parse_stream_name(std::string_view text, const SymbolTable& symbols) {
  const size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0) {
    return Status::invalid_argument(fmt::format("invalid stream name '{}': expected <symbol>@<type>", text));
  }
  StreamName out;
  out.text = std::string(text);
  const std::string_view symbol = text.substr(0, at);
  for (char c : symbol) {
    if (c >= 'A' && c <= 'Z') {
      return Status::invalid_argument(fmt::format("invalid stream name '{}': symbols are lower case", text));
    }
    out.symbol += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  if (symbols.find(out.symbol) == nullptr) {
    return Status::invalid_argument(fmt::format("invalid stream name '{}': unknown symbol", text));
  }
  const std::string_view type = text.substr(at + 1);
  if (type == "trade") {
    out.kind = StreamKind::kTrade;
  } else if (type == "aggTrade") {
    out.kind = StreamKind::kAggTrade;
  } else if (type == "depth" || type == "depth@1000ms") {
    out.kind = StreamKind::kDepth;
    out.depth_speed_ms = 1000;
  } else if (type == "depth@100ms") {
    out.kind = StreamKind::kDepth;
    out.depth_speed_ms = 100;
  } else if (type.starts_with("kline_")) {
    auto interval = parse_interval(type.substr(6));
    if (!interval) {
      return Status::invalid_argument(fmt::format("invalid stream name '{}': unknown kline interval", text));
    }
    out.kind = StreamKind::kKline;
    out.interval = *interval;
  } else {
    return Status::invalid_argument(fmt::format("invalid stream name '{}': unknown stream type", text));
  }
  return out;
}

}  // namespace sf::exchange::sim::ws
