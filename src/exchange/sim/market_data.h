// Deterministic market data for the simulated exchange: candles, trades and aggregate trades of every
// symbol as pure functions of (symbol, time), with random access in O(log) and no simulation from genesis.
//
// Model. Each UTC day of a symbol is a node (open/high/low/close in price ticks, base volume in quantity
// steps, quote volume in 10^-8 quote units, trade count, aggregate-trade count, taker buy base/quote).
// The day's open/close come from a smooth multi-scale noise of the log-price at day boundaries, so a
// day's open is the previous day's close. A node is split top-down into children - day -> 24 hours ->
// 60 minutes -> 60 seconds - by a deterministic split that hands every additive quantity out exactly
// (integer arithmetic), builds a Brownian-bridge price path from the parent's open to its close, and
// places the parent's high and low in some child. So every coarser candle is the exact aggregation of
// its finer ones by construction: 5m = its five 1m candles, 1h = its 60 minutes, 1d = its 24 hours,
// 1w/3d/1M = their days; open = the previous candle's close everywhere; 1s candles are the seconds.
//
// Trades. Inside a second the generator places the second's aggregate trades (sorted millisecond
// times, prices within the second's low..high, the last one at the close, high and low each hit) and
// splits its trade count and volume over them. Trade and aggregate-trade ids are contiguous from 0 at
// the listing: id(first trade at or after t) = the number of trades before t, computed from per-day
// prefix sums (a small table per symbol, built lazily) plus the hour/minute/second splits.
// The 1m candle's number_of_trades equals the number of trades in that minute, and its volume equals
// the sum of their quantities. Known deviations from a real exchange: quote volume and taker volumes are
// split top-down, not recomputed from individual trades (they are consistent between candle intervals,
// not with price x qty of each trade), and the open of a candle is the previous close rather than the
// first trade's price.
//
// Time. Data exists from the listing day (00:00 UTC) up to `now` (the simulator's clock): a second is
// visible once it has started, trades of the current second only once it has ended. The current candle is
// returned partial (aggregating the visible seconds), as Binance returns the open candle.
//
// Thread-safety: all methods are const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/sim/intervals.h"
#include "exchange/sim/symbols.h"

namespace sf::exchange::sim {

// Quote-asset amounts in 10^-8 units; a month of BTCUSDT quote volume overflows int64.
using QuoteUnits = __int128;

struct Kline {
  int64_t open_time = 0;   // ms
  int64_t close_time = 0;  // ms: next open time - 1
  int64_t open = 0;        // price ticks (10^-tick_decimals)
  int64_t high = 0;
  int64_t low = 0;
  int64_t close = 0;
  int64_t volume = 0;  // base quantity steps (10^-step_decimals)
  QuoteUnits quote_volume = 0;
  int64_t trades = 0;
  int64_t taker_buy_base = 0;  // steps
  QuoteUnits taker_buy_quote = 0;
  bool operator==(const Kline&) const = default;
};

struct Trade {
  int64_t id = 0;
  int64_t time = 0;   // ms
  int64_t price = 0;  // ticks
  int64_t qty = 0;    // steps
  bool is_buyer_maker = false;
  bool operator==(const Trade&) const = default;
};

struct AggTrade {
  int64_t id = 0;
  int64_t time = 0;   // ms
  int64_t price = 0;  // ticks
  int64_t qty = 0;    // steps: the sum of its trades
  int64_t first_trade_id = 0;
  int64_t last_trade_id = 0;
  bool is_buyer_maker = false;
  bool operator==(const AggTrade&) const = default;
};

// Binance /api/v3/klines selection: candles whose open time lies in [start_time, end_time] (both
// optional), ascending, at most `limit`. With a start: the first `limit` from the start; without one:
// the last `limit` up to the end (or up to now).
struct KlineQuery {
  Interval interval = Interval::k1m;
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;
  int limit = 500;
};

// One symbol's market. Cheap to query; holds only a lazily extended table of per-day trade counts.
class SymbolMarket {
 public:
  explicit SymbolMarket(SymbolSpec spec);
  ~SymbolMarket();
  SymbolMarket(const SymbolMarket&) = delete;
  SymbolMarket& operator=(const SymbolMarket&) = delete;

  const SymbolSpec& spec() const;

  std::vector<Kline> klines(const KlineQuery& query, int64_t now_ms) const;
  // The candle opening at `open_time` (aligned to the interval), if it exists at `now_ms`.
  std::optional<Kline> kline_at(Interval interval, int64_t open_time, int64_t now_ms) const;

  // Visible trades with time < t: the id of the first trade at or after t.
  int64_t trades_before(int64_t t, int64_t now_ms) const;
  int64_t agg_trades_before(int64_t t, int64_t now_ms) const;
  // The time of trade `id`, if it is visible at `now_ms`.
  std::optional<int64_t> trade_time(int64_t id, int64_t now_ms) const;
  // Counts visible at `now_ms` (ids 0 .. count-1 exist).
  int64_t trade_count(int64_t now_ms) const;
  int64_t agg_trade_count(int64_t now_ms) const;

  // Up to `limit` trades from id `from_id` (inclusive), visible at `now_ms`.
  std::vector<Trade> trades_from_id(int64_t from_id, int limit, int64_t now_ms) const;
  // The most recent `limit` trades.
  std::vector<Trade> recent_trades(int limit, int64_t now_ms) const;
  std::vector<AggTrade> agg_trades_from_id(int64_t from_id, int limit, int64_t now_ms) const;
  std::vector<AggTrade> recent_agg_trades(int limit, int64_t now_ms) const;
  // Aggregate trades with start <= time <= end (either optional); the first `limit` when a start is
  // given, otherwise the last `limit` up to the end.
  std::vector<AggTrade> agg_trades_between(std::optional<int64_t> start, std::optional<int64_t> end,
                                           int limit, int64_t now_ms) const;

  // Binance's wire format: decimals as strings with 8 places.
  std::string price_text(int64_t ticks) const;
  std::string qty_text(int64_t steps) const;
  void append_kline_json(std::string& out, const Kline& k) const;
  void append_trade_json(std::string& out, const Trade& t) const;  // /api/v3/trades element
  void append_agg_trade_json(std::string& out, const AggTrade& a) const;
  // One line (with its '\n') of Binance's public data dumps (data.binance.vision): the same values as the
  // REST JSON, unquoted, booleans as True/False. `micros`: times in microseconds, as the spot dumps give
  // them from 2025-01-01 on (a close time ends at ...999999 then).
  void append_kline_csv(std::string& out, const Kline& k, bool micros) const;
  void append_trade_csv(std::string& out, const Trade& t, bool micros) const;
  void append_agg_trade_csv(std::string& out, const AggTrade& a, bool micros) const;


  struct Impl;  // opaque; named here only so the implementation's helpers can refer to it

 private:
  std::unique_ptr<Impl> impl_;
};

// Every symbol of a SymbolTable.
class SimMarket {
 public:
  explicit SimMarket(const SymbolTable& table);
  ~SimMarket();
  const SymbolMarket* find(std::string_view symbol) const;
  const SymbolTable& symbols() const { return table_; }

 private:
  const SymbolTable& table_;
  std::vector<std::unique_ptr<SymbolMarket>> markets_;
};

// "123.45000000" for 12345 units with 2 decimals; always 8 decimal places (fewer digits are truncated).
void append_decimal(std::string& out, int64_t units, int decimals);
// Quote units (10^-8) as "123.45000000".
void append_quote(std::string& out, QuoteUnits units);
std::string quote_text(QuoteUnits units);

}  // namespace sf::exchange::sim
