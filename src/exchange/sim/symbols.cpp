// Built-in symbol parameters (orders of magnitude as on Binance spot in 2024) and hash-derived ones.
#include "exchange/sim/symbols.h"

#include <cmath>

#include "core/splitmix64.h"
#include "exchange/sim/intervals.h"

namespace sf::exchange::sim {
namespace {

// Days since the epoch of a civil date (proleptic Gregorian).
constexpr int64_t day_of(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Row {
  const char* base;
  const char* quote;
  int64_t listing_day;
  double price;
  double vol;
  double trades;
  double volume;
  int tick;
  int step;
};

// name = base + quote. Listing dates are Binance's (to the day) where known; prices are typical levels.
const Row kRows[] = {
    {"BTC", "USDT", day_of(2017, 8, 17), 60000, 0.030, 2.0e6, 25000, 2, 5},
    {"ETH", "USDT", day_of(2017, 8, 17), 3000, 0.040, 1.2e6, 400000, 2, 4},
    {"BNB", "USDT", day_of(2017, 11, 6), 550, 0.035, 3.0e5, 250000, 2, 3},
    {"SOL", "USDT", day_of(2020, 8, 11), 150, 0.050, 8.0e5, 3.0e6, 2, 3},
    {"XRP", "USDT", day_of(2018, 5, 4), 0.6, 0.045, 4.0e5, 3.0e8, 4, 1},
    {"DOGE", "USDT", day_of(2019, 7, 5), 0.12, 0.060, 5.0e5, 1.5e9, 5, 0},
    {"ADA", "USDT", day_of(2018, 4, 17), 0.45, 0.050, 2.0e5, 3.0e8, 4, 1},
    {"TRX", "USDT", day_of(2018, 6, 11), 0.12, 0.035, 1.0e5, 5.0e8, 5, 1},
    {"AVAX", "USDT", day_of(2020, 9, 22), 30, 0.055, 2.0e5, 3.0e6, 2, 2},
    {"DOT", "USDT", day_of(2020, 8, 18), 6, 0.050, 1.5e5, 5.0e6, 3, 2},
    {"LINK", "USDT", day_of(2019, 1, 16), 15, 0.050, 1.5e5, 5.0e6, 2, 2},
    {"MATIC", "USDT", day_of(2019, 4, 26), 0.7, 0.055, 1.5e5, 6.0e7, 4, 1},
    {"LTC", "USDT", day_of(2017, 12, 13), 75, 0.045, 1.5e5, 1.0e6, 2, 3},
    {"BCH", "USDT", day_of(2019, 11, 28), 400, 0.045, 1.0e5, 1.0e5, 1, 3},
    {"SHIB", "USDT", day_of(2021, 5, 10), 0.00002, 0.060, 2.0e5, 5.0e12, 8, 0},
    {"UNI", "USDT", day_of(2020, 9, 17), 8, 0.055, 8.0e4, 5.0e6, 3, 2},
    {"ATOM", "USDT", day_of(2019, 4, 29), 8, 0.050, 8.0e4, 3.0e6, 3, 2},
    {"ETC", "USDT", day_of(2018, 6, 12), 25, 0.050, 8.0e4, 1.0e6, 2, 2},
    {"XLM", "USDT", day_of(2018, 5, 31), 0.1, 0.045, 5.0e4, 1.0e8, 5, 1},
    {"FIL", "USDT", day_of(2020, 10, 15), 5, 0.055, 8.0e4, 5.0e6, 3, 2},
    {"APT", "USDT", day_of(2022, 10, 19), 9, 0.060, 1.0e5, 5.0e6, 2, 2},
    {"ARB", "USDT", day_of(2023, 3, 23), 1.0, 0.060, 1.5e5, 1.0e8, 4, 1},
    {"OP", "USDT", day_of(2022, 6, 1), 2, 0.060, 1.0e5, 2.0e7, 3, 2},
    {"NEAR", "USDT", day_of(2020, 10, 14), 5, 0.060, 1.0e5, 1.0e7, 3, 1},
    {"ICP", "USDT", day_of(2021, 5, 11), 10, 0.060, 6.0e4, 2.0e6, 3, 2},
    {"HBAR", "USDT", day_of(2019, 9, 29), 0.08, 0.050, 4.0e4, 2.0e8, 5, 0},
    {"VET", "USDT", day_of(2018, 7, 25), 0.03, 0.050, 4.0e4, 1.0e9, 5, 1},
    {"INJ", "USDT", day_of(2020, 10, 21), 25, 0.065, 8.0e4, 1.0e6, 2, 2},
    {"SUI", "USDT", day_of(2023, 5, 3), 1.2, 0.065, 2.0e5, 1.0e8, 4, 1},
    {"PEPE", "USDT", day_of(2023, 5, 5), 0.00001, 0.080, 3.0e5, 5.0e12, 8, 0},
    {"FET", "USDT", day_of(2019, 2, 28), 1.3, 0.065, 8.0e4, 3.0e7, 4, 1},
    {"AAVE", "USDT", day_of(2020, 10, 15), 100, 0.060, 4.0e4, 1.0e5, 2, 3},
    {"MKR", "USDT", day_of(2020, 8, 20), 2000, 0.050, 1.0e4, 3000, 0, 4},
    {"ALGO", "USDT", day_of(2019, 6, 21), 0.15, 0.050, 4.0e4, 5.0e7, 4, 0},
    {"SAND", "USDT", day_of(2020, 8, 14), 0.4, 0.060, 5.0e4, 5.0e7, 4, 0},
    {"MANA", "USDT", day_of(2020, 8, 6), 0.4, 0.060, 4.0e4, 4.0e7, 4, 0},
    {"AXS", "USDT", day_of(2020, 11, 4), 6, 0.060, 3.0e4, 1.0e6, 3, 2},
    {"EGLD", "USDT", day_of(2020, 9, 3), 30, 0.055, 2.0e4, 2.0e5, 2, 2},
    {"THETA", "USDT", day_of(2019, 2, 25), 1.2, 0.055, 2.0e4, 5.0e6, 3, 1},
    {"EOS", "USDT", day_of(2018, 5, 28), 0.7, 0.045, 3.0e4, 2.0e7, 4, 1},
    {"XTZ", "USDT", day_of(2019, 9, 24), 0.8, 0.050, 1.5e4, 5.0e6, 3, 1},
    {"GRT", "USDT", day_of(2020, 12, 17), 0.2, 0.060, 3.0e4, 5.0e7, 4, 0},
    {"CRV", "USDT", day_of(2020, 8, 15), 0.4, 0.065, 4.0e4, 4.0e7, 3, 1},
    {"WLD", "USDT", day_of(2023, 7, 24), 2, 0.070, 1.0e5, 3.0e7, 3, 1},
    {"SEI", "USDT", day_of(2023, 8, 15), 0.4, 0.070, 5.0e4, 5.0e7, 4, 1},
    {"TIA", "USDT", day_of(2023, 10, 31), 6, 0.070, 5.0e4, 5.0e6, 3, 1},
    {"JUP", "USDT", day_of(2024, 1, 31), 0.9, 0.070, 6.0e4, 5.0e7, 4, 1},
    {"WIF", "USDT", day_of(2024, 3, 5), 2, 0.080, 1.5e5, 5.0e7, 3, 1},
    {"USDC", "USDT", day_of(2018, 12, 15), 1.0, 0.0005, 1.0e5, 5.0e8, 4, 0},
    {"BTC", "USDC", day_of(2018, 12, 15), 60000, 0.030, 3.0e5, 2000, 2, 5},
    {"ETH", "USDC", day_of(2018, 12, 15), 3000, 0.040, 1.5e5, 30000, 2, 4},
    {"BTC", "FDUSD", day_of(2023, 8, 18), 60000, 0.030, 1.0e6, 10000, 2, 5},
    {"ETH", "FDUSD", day_of(2023, 8, 18), 3000, 0.040, 4.0e5, 100000, 2, 4},
    {"BTC", "EUR", day_of(2020, 1, 3), 55000, 0.030, 5.0e4, 500, 2, 5},
    {"ETH", "BTC", day_of(2017, 7, 14), 0.05, 0.025, 1.0e5, 50000, 5, 4},
    {"BNB", "BTC", day_of(2017, 7, 14), 0.009, 0.025, 3.0e4, 50000, 6, 3},
    {"SOL", "BTC", day_of(2020, 8, 11), 0.0025, 0.045, 5.0e4, 200000, 7, 2},
    {"XRP", "BTC", day_of(2018, 5, 4), 0.00001, 0.040, 3.0e4, 2.0e7, 8, 0},
};

const char* kQuoteSuffixes[] = {"FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "BTC", "ETH",
                                "BNB",   "EUR",  "TRY",  "BRL",  "JPY",  "GBP", "AUD"};

SymbolSpec from_row(const Row& r) {
  SymbolSpec s;
  s.base_asset = r.base;
  s.quote_asset = r.quote;
  s.name = s.base_asset + s.quote_asset;
  s.listing_day = r.listing_day;
  s.base_price = r.price;
  s.daily_volatility = r.vol;
  s.trades_per_day = r.trades;
  s.volume_per_day = r.volume;
  s.tick_decimals = r.tick;
  s.step_decimals = r.step;
  s.seed = name_seed(s.name);
  // Roughly the 2017-2024 growth: BTC ~x15, ETH ~x25; pairs against BTC drift little; stablecoins none.
  std::string_view base = r.base, quote = r.quote;
  if (base == "USDC") {
    s.growth_per_year = 0;
  } else if (quote == "BTC") {
    s.growth_per_year = 0.05;
  } else if (base == "BTC") {
    s.growth_per_year = 0.4;
  } else if (base == "ETH" || base == "BNB") {
    s.growth_per_year = 0.45;
  } else {
    s.growth_per_year = 0.2;
  }
  return s;
}

int clamp_decimals(double v) {
  return static_cast<int>(std::max(0.0, std::min(8.0, v)));
}

}  // namespace

uint64_t name_seed(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return splitmix64(h);
}

bool is_valid_symbol_text(std::string_view text) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<SymbolSpec> derive_symbol_spec(std::string_view name) {
  if (!is_valid_symbol_text(name)) {
    return Status::invalid_argument("'" + std::string(name) +
                                    "' is not a valid symbol (^[A-Z0-9-_.]{1,20}$)");
  }
  for (const char* suffix : kQuoteSuffixes) {
    std::string_view q(suffix);
    if (name.size() <= q.size() || name.substr(name.size() - q.size()) != q) continue;
    SymbolSpec s;
    s.name = std::string(name);
    s.base_asset = std::string(name.substr(0, name.size() - q.size()));
    s.quote_asset = std::string(q);
    s.seed = name_seed(name);
    uint64_t h = s.seed;
    auto next = [&h] { return unit_interval(h = splitmix64(h)); };
    bool crypto_quote = q == "BTC" || q == "ETH" || q == "BNB";
    double log10_price = crypto_quote ? -4.5 + 2.5 * next() : -4 + 7 * next();
    s.base_price = std::pow(10.0, log10_price);
    s.tick_decimals = clamp_decimals(std::ceil(5 - log10_price));  // about 10^4..10^5 ticks per price
    s.daily_volatility = 0.035 + 0.045 * next();
    s.growth_per_year = 0.4 * next();
    s.trades_per_day = std::pow(10.0, 4 + 1.7 * next());
    // Typical trade worth ~200 quote-dollars; the step keeps it at >= ~100 steps.
    double usd_price = crypto_quote ? s.base_price * 50000 : s.base_price;
    double trade_qty = 200 / usd_price;
    s.volume_per_day = s.trades_per_day * trade_qty;
    s.step_decimals = clamp_decimals(std::ceil(2 - std::log10(trade_qty)));
    s.listing_day =
        day_of(2019, 1, 1) + static_cast<int64_t>(next() * (day_of(2023, 1, 1) - day_of(2019, 1, 1)));
    return s;
  }
  return Status::invalid_argument("'" + std::string(name) + "' does not end in a known quote asset");
}

const std::vector<SymbolSpec>& builtin_symbols() {
  static const std::vector<SymbolSpec> specs = [] {
    std::vector<SymbolSpec> out;
    for (const Row& r : kRows) out.push_back(from_row(r));
    return out;
  }();
  return specs;
}

SymbolTable::SymbolTable(const std::vector<std::string>& extra, double activity) {
  if (!(activity > 0)) throw Error(Status::invalid_argument("exchange-sim: activity must be > 0"));
  specs_ = builtin_symbols();
  for (const auto& name : extra) {
    bool known = false;
    for (const auto& s : specs_) known = known || s.name == name;
    if (known) continue;
    specs_.push_back(value_or_throw(derive_symbol_spec(name)));
  }
  for (auto& s : specs_) {
    s.trades_per_day *= activity;
    s.volume_per_day *= activity;  // the same average trade size
  }
  for (size_t i = 0; i < specs_.size(); ++i) index_.emplace(specs_[i].name, i);
}

const SymbolSpec* SymbolTable::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &specs_[it->second];
}

}  // namespace sf::exchange::sim
