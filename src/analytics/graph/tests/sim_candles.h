// Test and benchmark helper: writes the exchange simulator's deterministic candles into a store the way a
// backfill does (Binance wire JSON -> protocol::RecordParser -> stored documents), so graph tests need no
// exchange, no bus and no network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time_range.h"
#include "protocol/workflow_type.h"
#include "store/store.h"

namespace sf::analytics::testing {

// Stores the simulator's `interval` candles of each symbol opening in [from, to) (and after the symbol's
// listing) in `<symbol>_api_candles_<interval>_<date of from>`. Returns the number of candles written.
Result<int64_t> store_sim_candles(store::Store& store, const std::vector<std::string>& symbols,
                                  protocol::Interval interval, TimestampMs from, TimestampMs to);

// `count` symbol names the simulator accepts: its built-in USDT pairs first, then derived ones.
std::vector<std::string> sim_symbols(size_t count);

}  // namespace sf::analytics::testing
