// Market-data records (Binance klines, trades, aggregate trades): parsing from the exchange's REST JSON,
// the stored JSON document each becomes (DESIGN.md, "Messages"), and parsing that document back.
// Prices and quantities stay the exact decimal text the exchange sent: stored as JSON strings, never
// through a double. Timestamps are integer epoch milliseconds; when the source gave microseconds the
// millisecond field is floor(us / 1000) and the full value is kept in a `*_us` field.
//
// Stored documents, `_key` first, fields in this order, `*_us` fields last and only when set:
//   candle: {"_key":"<open_time>","open_time":..,"open":"..","high":"..","low":"..","close":"..",
//            "volume":"..","close_time":..,"quote_asset_volume":"..","number_of_trades":..,
//            "taker_buy_base_asset_volume":"..","taker_buy_quote_asset_volume":"..","symbol":"..",
//            "interval":"..","open_time_us":..,"close_time_us":..}
//   trade:  {"_key":"<trade_id>","symbol":"..","trade_id":..,"price":"..","quantity":"..",
//            "quote_quantity":"..","trade_time":..,"is_buyer_maker":..,"is_best_match":..,"trade_time_us":..}
//   aggregate trade: {"_key":"<agg_trade_id>","symbol":"..","agg_trade_id":..,"price":"..","quantity":"..",
//            "first_trade_id":..,"last_trade_id":..,"trade_time":..,"is_buyer_maker":..,"is_best_match":..,
//            "trade_time_us":..}
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time_range.h"

namespace sf::protocol {

namespace detail {
struct DecimalAccess;  // lets the parser fill a Decimal it has already validated
}  // namespace detail

// A decimal number kept as its exact text: optional '-', one or more digits, optionally '.' and one or
// more digits. No exponent, no '+', no spaces. At most kMaxSize characters (far above any exchange
// value), stored inline: copying never allocates. A default Decimal is "0".
class Decimal {
 public:
  static constexpr std::size_t kMaxSize = 39;

  Decimal() : size_(1) { data_[0] = '0'; }

  // True when `text` is a plain decimal as described above (length limit included).
  static bool is_valid(std::string_view text);
  // An invalid_argument error quoting the text when it is not valid.
  static Result<Decimal> parse(std::string_view text);
  // Replaces the value; on invalid text returns false and leaves the value unchanged. The hot path.
  bool assign(std::string_view text);

  std::string_view view() const { return {data_, size_}; }
  std::string str() const { return std::string(view()); }
  // Lossy; for analytics only, never for storage.
  double to_double() const;

  // Textual equality: "1.0" != "1.00" (they are different records of what the exchange sent).
  bool operator==(const Decimal& other) const { return view() == other.view(); }

 private:
  friend struct detail::DecimalAccess;

  unsigned char size_;
  char data_[kMaxSize] = {};
};

// One candle. REST /api/v3/klines row: [open_time, "open", "high", "low", "close", "volume", close_time,
// "quote_asset_volume", number_of_trades, "taker_buy_base", "taker_buy_quote", "ignore"].
struct Kline {
  TimestampMs open_time = 0;
  Decimal open;
  Decimal high;
  Decimal low;
  Decimal close;
  Decimal volume;
  TimestampMs close_time = 0;
  Decimal quote_asset_volume;
  int64_t number_of_trades = 0;
  Decimal taker_buy_base_asset_volume;
  Decimal taker_buy_quote_asset_volume;
  std::string symbol;                   // "BTCUSDT"
  std::string interval;                 // "5m"
  std::optional<int64_t> open_time_us;  // set when the source had microseconds
  std::optional<int64_t> close_time_us;

  bool operator==(const Kline&) const = default;
};

// One trade. REST /api/v3/trades element:
// {"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,
//  "isBuyerMaker":true,"isBestMatch":true}
struct Trade {
  std::string symbol;
  int64_t trade_id = 0;
  Decimal price;
  Decimal quantity;
  Decimal quote_quantity;
  TimestampMs trade_time = 0;
  bool is_buyer_maker = false;
  bool is_best_match = false;
  std::optional<int64_t> trade_time_us;

  bool operator==(const Trade&) const = default;
};

// One aggregate trade. REST /api/v3/aggTrades element:
// {"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}
struct AggTrade {
  std::string symbol;
  int64_t agg_trade_id = 0;
  Decimal price;
  Decimal quantity;
  int64_t first_trade_id = 0;
  int64_t last_trade_id = 0;
  TimestampMs trade_time = 0;
  bool is_buyer_maker = false;
  bool is_best_match = false;
  std::optional<int64_t> trade_time_us;

  bool operator==(const AggTrade&) const = default;
};

// The 12 columns of a kline as Binance orders them, in its REST arrays and in its dump CSV files alike (the
// names its documentation gives them); error messages name a column by these.
inline constexpr std::array<std::string_view, 12> kKlineColumnNames = {"open_time",
                                                                       "open",
                                                                       "high",
                                                                       "low",
                                                                       "close",
                                                                       "volume",
                                                                       "close_time",
                                                                       "quote_asset_volume",
                                                                       "number_of_trades",
                                                                       "taker_buy_base_asset_volume",
                                                                       "taker_buy_quote_asset_volume",
                                                                       "ignore"};

// Unit of the exchange's timestamps. Binance sends milliseconds unless asked for microseconds
// (X-MBX-TIME-UNIT); its spot data dumps switched to microseconds in 2025. kAuto decides per value:
// >= 10^14 is microseconds (as milliseconds that would be the year 5138; as microseconds it is 1973).
enum class TimeUnit { kAuto, kMilliseconds, kMicroseconds };

// The store key: the decimal text of open_time / trade_id / agg_trade_id.
std::string record_key(const Kline& k);
std::string record_key(const Trade& t);
std::string record_key(const AggTrade& t);
void append_key(const Kline& k, std::string& out);
void append_key(const Trade& t, std::string& out);
void append_key(const AggTrade& t, std::string& out);

// Appends the stored document (layout at the top of this file) to `out`, nothing else (no newline).
// No allocation beyond `out` growing; strings (symbol, interval) are JSON-escaped.
void append_document(const Kline& k, std::string& out);
void append_document(const Trade& t, std::string& out);
void append_document(const AggTrade& t, std::string& out);

// Parses exchange responses and stored documents with simdjson, reusing its buffers across calls.
// Not thread-safe: one per thread. Errors never throw and name the element and field:
//   exchange responses: invalid_argument, e.g. "klines[3]: field 'open' (index 1) must be a string, got
//   number",
//     "klines[0]: expected 12 elements, got 11", "aggTrades[2]: field 'p' is not a plain decimal: '1e5'";
//     a Binance error object ({"code":-1121,"msg":"Invalid symbol."}) is reported with its code and msg.
//   stored documents: corruption, e.g. "kline document: field 'volume' is missing".
class RecordParser {
 public:
  RecordParser();
  ~RecordParser();
  RecordParser(RecordParser&&) noexcept;
  RecordParser& operator=(RecordParser&&) noexcept;

  // A whole /api/v3/klines body into `out`, replacing its contents; existing elements are reused so a
  // vector kept across calls stops allocating. `symbol` and `interval` are copied into every record
  // (the response carries neither). On error `out` holds the records before the bad one.
  Status parse_klines(std::string_view body, std::string_view symbol, std::string_view interval,
                      std::vector<Kline>& out, TimeUnit unit = TimeUnit::kAuto);
  // A whole /api/v3/trades (or /api/v3/historicalTrades) body.
  Status parse_trades(std::string_view body, std::string_view symbol, std::vector<Trade>& out,
                      TimeUnit unit = TimeUnit::kAuto);
  // A whole /api/v3/aggTrades body.
  Status parse_agg_trades(std::string_view body, std::string_view symbol, std::vector<AggTrade>& out,
                          TimeUnit unit = TimeUnit::kAuto);

  // One stored document (as append_document writes it; field order free, unknown fields such as
  // ArangoDB's _id and _rev ignored). A `_key` that disagrees with the record is corruption.
  Status parse_document(std::string_view doc, Kline& out);
  Status parse_document(std::string_view doc, Trade& out);
  Status parse_document(std::string_view doc, AggTrade& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf::protocol
