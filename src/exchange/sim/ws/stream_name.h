// Binance stream names ("btcusdt@trade", "ethusdt@kline_1m", "bnbusdt@depth@100ms") parsed against the
// simulator's symbols. Internal to exchange/sim/ws/.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "exchange/sim/intervals.h"
#include "exchange/sim/symbols.h"

namespace sf::exchange::sim::ws {

enum class StreamKind { kTrade, kAggTrade, kKline, kDepth };

struct StreamName {
  std::string text;    // as the client spelt it (lower-case symbol): the `stream` field of combined events
  std::string symbol;  // upper case, a symbol of the table
  StreamKind kind = StreamKind::kTrade;
  Interval interval = Interval::k1m;  // kKline
  int depth_speed_ms = 1000;          // kDepth: 1000 (`@depth`) or 100 (`@depth@100ms`)
};

// InvalidArgument naming what is wrong: an upper-case symbol (Binance wants lower case), an unknown
// symbol, an unknown stream type or interval.
Result<StreamName> parse_stream_name(std::string_view text, const SymbolTable& symbols);

}  // namespace sf::exchange::sim::ws
