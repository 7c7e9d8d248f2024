// Dump CSV rows into records (see csv_rows.h). One forward pass per line; errors are rare, so only they
// build strings.
#include "services/loaders/bulk/csv_rows.h"

#include <fmt/format.h>

#include <array>

namespace sf::services::loaders::bulk {
namespace {

constexpr int64_t kMicrosThreshold = 100'000'000'000'000;  // 10^14: see protocol::TimeUnit::kAuto

// Splits a line into at most N fields at commas; returns how many it found (N+1 when there are more).
template <size_t N>
size_t split_fields(std::string_view line, std::array<std::string_view, N>& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t n = 0;
  const char* p = line.data();
  const char* end = p + line.size();
  const char* field = p;
  for (; p != end; ++p) {
    if (*p != ',') continue;
    if (n == N) return N + 1;
    out[n++] = std::string_view(field, static_cast<size_t>(p - field));
    field = p + 1;
  }
  if (n == N) return N + 1;
  out[n++] = std::string_view(field, static_cast<size_t>(end - field));
  return n;
}

// Non-negative integer of up to 18 digits (ids, counts, ms or us times).
bool parse_uint(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    auto d = static_cast<unsigned>(c - '0');
    if (d > 9) return false;
    v = v * 10 + static_cast<int64_t>(d);
  }
  out = v;
  return true;
}

bool parse_bool(std::string_view s, bool& out) {
  if (s == "True" || s == "true") {
    out = true;
    return true;
  }
  if (s == "False" || s == "false") {
    out = false;
    return true;
  }
  return false;
}

void set_time(int64_t raw, int64_t& ms, std::optional<int64_t>& us) {
  if (raw >= kMicrosThreshold) {
    ms = raw / 1000;
    us = raw;
  } else {
    ms = raw;
    us.reset();
  }
}

std::string shorten(std::string_view s) {
  return s.size() > 40 ? fmt::format("{}...", s.substr(0, 40)) : std::string(s);
}

bool bad(std::string& why, size_t column, std::string_view name, std::string_view what,
         std::string_view text) {
  why = fmt::format("column {} ({}): {}: '{}'", column + 1, name, what, shorten(text));
  return false;
}

bool wrong_count(std::string& why, size_t got, size_t want) {
  why = got > want ? fmt::format("more than {} columns", want)
                   : fmt::format("{} columns, expected {}", got, want);
  return false;
}

struct Columns {
  const std::string_view* f;
  std::string& why;
  const std::string_view* names;

  bool integer(size_t i, int64_t& out) {
    return parse_uint(f[i], out) || bad(why, i, names[i], "not an id/count", f[i]);
  }
  bool time(size_t i, int64_t& ms, std::optional<int64_t>& us) {
    int64_t raw = 0;
    if (!parse_uint(f[i], raw)) return bad(why, i, names[i], "not a timestamp", f[i]);
    set_time(raw, ms, us);
    return true;
  }
  bool decimal(size_t i, protocol::Decimal& out) {
    return out.assign(f[i]) || bad(why, i, names[i], "not a plain decimal", f[i]);
  }
  bool boolean(size_t i, bool& out) {
    return parse_bool(f[i], out) || bad(why, i, names[i], "not True/False", f[i]);
  }
};

constexpr std::array<std::string_view, 8> kAggNames = {"agg_trade_id",   "price",         "quantity",
                                                       "first_trade_id", "last_trade_id", "trade_time",
                                                       "is_buyer_maker", "is_best_match"};
constexpr std::array<std::string_view, 7> kTradeNames = {
    "trade_id", "price", "quantity", "quote_quantity", "trade_time", "is_buyer_maker", "is_best_match"};

// Klines are the widest rows (12 columns, 9 of them decimals): instead of splitting the line and then
// checking each field (every byte read twice), the fast path checks each field while finding its end. Any row
// it rejects goes through the generic path, which finds the first fault and words the error.
class KlineRowScanner {
 public:
  explicit KlineRowScanner(std::string_view line) : p_(line.data()), end_(line.data() + line.size()) {
    if (p_ != end_ && end_[-1] == '\r') --end_;
  }

  bool scan(protocol::Kline& k) {
    int64_t raw = 0;
    if (!uint_field(raw)) return false;
    set_time(raw, k.open_time, k.open_time_us);
    if (!decimal_field(k.open) || !decimal_field(k.high) || !decimal_field(k.low) ||
        !decimal_field(k.close) || !decimal_field(k.volume) || !uint_field(raw))
      return false;
    set_time(raw, k.close_time, k.close_time_us);
    if (!decimal_field(k.quote_asset_volume) || !uint_field(k.number_of_trades) ||
        !decimal_field(k.taker_buy_base_asset_volume) || !decimal_field(k.taker_buy_quote_asset_volume))
      return false;
    // The 12th column ("ignore") may hold anything but a comma.
    for (const char* q = p_; q != end_; ++q) {
      if (*q == ',') return false;
    }
    return true;
  }

 private:
  static bool digit(char c) { return static_cast<unsigned>(c - '0') <= 9; }

  // A field must end at a comma: every field read here has a successor.
  bool comma() {
    if (p_ == end_ || *p_ != ',') return false;
    ++p_;
    return true;
  }

  bool uint_field(int64_t& out) {
    const char* start = p_;
    int64_t v = 0;
    // At most 19 digits are read, so v cannot overflow; 19 is one too many (the generic path's limit).
    while (p_ != end_ && digit(*p_) && p_ - start < 19) v = v * 10 + (*p_++ - '0');
    const auto n = p_ - start;
    if (n == 0 || n > 18) return false;
    out = v;
    return comma();
  }

  bool decimal_field(protocol::Decimal& out) {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    const char* int_start = p_;
    while (p_ != end_ && digit(*p_)) ++p_;
    if (p_ == int_start) return false;
    if (p_ != end_ && *p_ == '.') {
      const char* frac_start = ++p_;
      while (p_ != end_ && digit(*p_)) ++p_;
      if (p_ == frac_start) return false;
    }
    const std::string_view text(start, static_cast<size_t>(p_ - start));
    return text.size() <= protocol::Decimal::kMaxSize && out.assign(text) && comma();
  }

  const char* p_;
  const char* end_;
};

}  // namespace

bool is_header_row(std::string_view line) {
  return !line.empty() && static_cast<unsigned>(line.front() - '0') > 9;
}

bool parse_kline_row(std::string_view line, protocol::Kline& k, std::string& why) {
  if (KlineRowScanner(line).scan(k)) return true;
  std::array<std::string_view, 12> f;
  const size_t n = split_fields(line, f);
  if (n != 12) return wrong_count(why, n, 12);
  Columns c{f.data(), why, protocol::kKlineColumnNames.data()};
  return c.time(0, k.open_time, k.open_time_us) && c.decimal(1, k.open) && c.decimal(2, k.high) &&
         c.decimal(3, k.low) && c.decimal(4, k.close) && c.decimal(5, k.volume) &&
         c.time(6, k.close_time, k.close_time_us) && c.decimal(7, k.quote_asset_volume) &&
         c.integer(8, k.number_of_trades) && c.decimal(9, k.taker_buy_base_asset_volume) &&
         c.decimal(10, k.taker_buy_quote_asset_volume);
}

bool parse_agg_trade_row(std::string_view line, protocol::AggTrade& a, std::string& why) {
  std::array<std::string_view, 8> f;
  size_t n = split_fields(line, f);
  // Futures files have no best-match column; such rows count as best matches, as REST reports them.
  if (n == 7) {
    f[7] = "True";
    n = 8;
  }
  if (n != 8) return wrong_count(why, n, 8);
  Columns c{f.data(), why, kAggNames.data()};
  return c.integer(0, a.agg_trade_id) && c.decimal(1, a.price) && c.decimal(2, a.quantity) &&
         c.integer(3, a.first_trade_id) && c.integer(4, a.last_trade_id) &&
         c.time(5, a.trade_time, a.trade_time_us) && c.boolean(6, a.is_buyer_maker) &&
         c.boolean(7, a.is_best_match);
}

bool parse_trade_row(std::string_view line, protocol::Trade& t, std::string& why) {
  std::array<std::string_view, 7> f;
  size_t n = split_fields(line, f);
  if (n == 6) {
    f[6] = "True";
    n = 7;
  }
  if (n != 7) return wrong_count(why, n, 7);
  Columns c{f.data(), why, kTradeNames.data()};
  return c.integer(0, t.trade_id) && c.decimal(1, t.price) && c.decimal(2, t.quantity) &&
         c.decimal(3, t.quote_quantity) && c.time(4, t.trade_time, t.trade_time_us) &&
         c.boolean(5, t.is_buyer_maker) && c.boolean(6, t.is_best_match);
}

}  // namespace sf::services::loaders::bulk
