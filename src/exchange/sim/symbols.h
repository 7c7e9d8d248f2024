// The simulator's symbols: a built-in list of ~55 Binance spot pairs with realistic parameters, plus any
// valid-looking symbol given on the command line (its parameters then derive from a hash of its name).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace sf::exchange::sim {

struct SymbolSpec {
  std::string name;                // "BTCUSDT"
  std::string base_asset;          // "BTC"
  std::string quote_asset;         // "USDT"
  int64_t listing_day = 0;         // days since 1970-01-01; data exists from 00:00 UTC of that day
  double base_price = 1;           // typical price in quote units; the path wanders around it (x/÷ ~3)
  double daily_volatility = 0.04;  // standard deviation of daily log returns
  double growth_per_year = 0.2;    // long-term log-price trend; the base price is the level of mid-2024
  double trades_per_day = 1e5;     // typical number of trades per day
  double volume_per_day = 1e6;     // typical base-asset volume per day
  int tick_decimals = 2;           // price tick = 10^-tick_decimals (<= 8)
  int step_decimals = 5;           // quantity step = 10^-step_decimals (<= 8)
  uint64_t seed = 0;               // from the name: every value of the symbol derives from it

  int64_t listing_ms() const { return listing_day * 86'400'000; }
};

// Binance's symbol syntax: ^[A-Z0-9-_.]{1,20}$.
bool is_valid_symbol_text(std::string_view text);

// Parameters for a symbol outside the built-in list: quote asset from a known suffix (USDT, FDUSD, USDC,
// BTC, ETH, BNB, EUR, TRY, ...), everything else from a hash of the name. Fails for names that are not
// valid symbol text or do not end in a known quote asset.
Result<SymbolSpec> derive_symbol_spec(std::string_view name);

// The symbols one simulator serves. Immutable after construction; safe to share between threads.
class SymbolTable {
 public:
  // The built-in list plus `extra` (built-in names in `extra` are ignored). Throws sf::Error for an
  // extra name derive_symbol_spec rejects. `activity` multiplies every symbol's trades_per_day and
  // volume_per_day: a busier market on the same clock (live streams at a high message rate while the event
  // time stays real time). Throws sf::Error when it is not > 0.
  explicit SymbolTable(const std::vector<std::string>& extra = {}, double activity = 1.0);

  const SymbolSpec* find(std::string_view name) const;
  const std::vector<SymbolSpec>& all() const { return specs_; }

 private:
  std::vector<SymbolSpec> specs_;
  std::unordered_map<std::string, size_t> index_;
};

// The built-in list alone.
const std::vector<SymbolSpec>& builtin_symbols();

// 64-bit FNV-1a, then a splitmix finaliser: the seed of a symbol name.
uint64_t name_seed(std::string_view name);

}  // namespace sf::exchange::sim
