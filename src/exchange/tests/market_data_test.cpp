// The generator: determinism, candle continuity and invariants, exact aggregation across intervals,
// Binance's kline selection rules, trades/aggregate trades consistent with the candles, id lookups.
#include "exchange/sim/market_data.h"

#include <gtest/gtest.h>

#include <map>

namespace sf::exchange::sim {

void PrintTo(const Kline& k, std::ostream* os) {
  *os << "{open_time=" << k.open_time << " o=" << k.open << " h=" << k.high << " l=" << k.low
      << " c=" << k.close << " v=" << k.volume << " q=" << quote_text(k.quote_volume) << " n=" << k.trades
      << " tb=" << k.taker_buy_base << " tq=" << quote_text(k.taker_buy_quote)
      << " close_time=" << k.close_time << "}";
}

namespace {

constexpr int64_t kAug1 = 1722470400000;  // 2024-08-01T00:00:00Z (a Thursday)
constexpr int64_t kNow = 1722556800000;   // 2024-08-02T00:00:00Z

const SymbolTable& table() {
  static const SymbolTable t({"FOOBARUSDT", "QQQBTC"});
  return t;
}
const SimMarket& market() {
  static const SimMarket m(table());
  return m;
}
const SymbolMarket& sym(std::string_view name) {
  const SymbolMarket* s = market().find(name);
  if (s == nullptr) throw std::runtime_error("unknown symbol " + std::string(name));
  return *s;
}

std::vector<Kline> klines(const SymbolMarket& m, Interval iv, std::optional<int64_t> start,
                          std::optional<int64_t> end, int limit, int64_t now = kNow) {
  KlineQuery q;
  q.interval = iv;
  q.start_time = start;
  q.end_time = end;
  q.limit = limit;
  return m.klines(q, now);
}

Kline merge(const std::vector<Kline>& parts, int64_t open_time, int64_t close_time) {
  Kline k = parts.front();
  k.open_time = open_time;
  k.close_time = close_time;
  k.volume = k.trades = k.taker_buy_base = 0;
  k.quote_volume = k.taker_buy_quote = 0;
  for (const auto& p : parts) {
    k.high = std::max(k.high, p.high);
    k.low = std::min(k.low, p.low);
    k.close = p.close;
    k.volume += p.volume;
    k.quote_volume += p.quote_volume;
    k.trades += p.trades;
    k.taker_buy_base += p.taker_buy_base;
    k.taker_buy_quote += p.taker_buy_quote;
  }
  return k;
}

void expect_sane(const Kline& k, const std::string& where) {
  ASSERT_GT(k.low, 0) << where;
  ASSERT_LE(k.low, std::min(k.open, k.close)) << where;
  ASSERT_GE(k.high, std::max(k.open, k.close)) << where;
  ASSERT_GE(k.volume, k.trades) << where;  // every trade moves at least one step
  ASSERT_LE(k.taker_buy_base, k.volume) << where;
  ASSERT_LE(k.taker_buy_quote, k.quote_volume) << where;
  if (k.trades == 0) {
    ASSERT_EQ(k.volume, 0) << where;
    ASSERT_EQ(k.high, k.low) << where;
  }
}

class EverySymbolTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EverySymbolTest, OneDayOfMinuteCandlesIsContinuousAndSane) {
  const SymbolMarket& m = sym(GetParam());
  auto first = klines(m, Interval::k1m, kAug1, std::nullopt, 1000);
  auto second = klines(m, Interval::k1m, kAug1 + 1000 * kMinuteMs, kNow - 1, 1000);
  ASSERT_EQ(first.size(), 1000u);
  ASSERT_EQ(second.size(), 440u);
  first.insert(first.end(), second.begin(), second.end());
  int64_t trades = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    const Kline& k = first[i];
    ASSERT_EQ(k.open_time, kAug1 + static_cast<int64_t>(i) * kMinuteMs);
    ASSERT_EQ(k.close_time, k.open_time + kMinuteMs - 1);
    expect_sane(k, GetParam() + " minute " + std::to_string(i));
    if (i > 0) {
      ASSERT_EQ(k.open, first[i - 1].close) << "minute " << i;
    }
    trades += k.trades;
  }
  EXPECT_GT(trades, 1000);  // every built-in symbol trades more than once a minute on average
  auto day = klines(m, Interval::k1d, kAug1, kAug1, 1);
  ASSERT_EQ(day.size(), 1u);
  EXPECT_EQ(day[0], merge(first, kAug1, kNow - 1));
}

TEST_P(EverySymbolTest, SecondCandlesAggregateToTheMinute) {
  const SymbolMarket& m = sym(GetParam());
  int64_t t = kAug1 + 13 * kHourMs + 7 * kMinuteMs;
  auto secs = klines(m, Interval::k1s, t, t + 59'999, 1000);
  ASSERT_EQ(secs.size(), 60u);
  for (size_t i = 0; i < secs.size(); ++i) {
    expect_sane(secs[i], "second " + std::to_string(i));
    if (i > 0) {
      ASSERT_EQ(secs[i].open, secs[i - 1].close);
    }
  }
  auto minute = klines(m, Interval::k1m, t, t, 10);
  ASSERT_EQ(minute.size(), 1u);
  EXPECT_EQ(minute[0], merge(secs, t, t + kMinuteMs - 1));
}

INSTANTIATE_TEST_SUITE_P(Symbols, EverySymbolTest,
                         ::testing::Values("BTCUSDT", "ETHUSDT", "SHIBUSDT", "PEPEUSDT", "XRPBTC", "USDCUSDT",
                                           "MKRUSDT", "FOOBARUSDT", "QQQBTC"));

TEST(MarketDataTest, RandomDaysOfEverySymbolAggregateExactly) {
  uint64_t x = 42;
  auto next = [&x] { return (x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (const auto& spec : table().all()) {
    const SymbolMarket& m = sym(spec.name);
    for (int rep = 0; rep < 2; ++rep) {
      int64_t days = (kNow - spec.listing_ms()) / kDayMs;
      int64_t day = spec.listing_ms() + static_cast<int64_t>(next() % static_cast<uint64_t>(days)) * kDayMs;
      std::string where = spec.name + " day " + std::to_string(day);
      auto d = klines(m, Interval::k1d, day, day, 1);
      auto hours = klines(m, Interval::k1h, day, day + kDayMs - 1, 24);
      auto minutes = klines(m, Interval::k1m, day, day + kDayMs - 1, 1000);
      auto rest = klines(m, Interval::k1m, day + 1000 * kMinuteMs, day + kDayMs - 1, 1000);
      minutes.insert(minutes.end(), rest.begin(), rest.end());
      ASSERT_EQ(d.size(), 1u) << where;
      ASSERT_EQ(hours.size(), 24u) << where;
      ASSERT_EQ(minutes.size(), 1440u) << where;
      expect_sane(d[0], where);
      ASSERT_EQ(d[0], merge(hours, day, day + kDayMs - 1)) << where;
      ASSERT_EQ(d[0], merge(minutes, day, day + kDayMs - 1)) << where;
      for (size_t i = 0; i < minutes.size(); ++i) {
        expect_sane(minutes[i], where);
        if (i > 0) {
          ASSERT_EQ(minutes[i].open, minutes[i - 1].close) << where;
        }
      }
      for (int j = 0; j < 3; ++j) {
        int64_t t = day + static_cast<int64_t>(next() % 1440) * kMinuteMs;
        auto secs = klines(m, Interval::k1s, t, t + kMinuteMs - 1, 60);
        ASSERT_EQ(secs.size(), 60u);
        for (const auto& sc : secs) expect_sane(sc, where + " second");
        ASSERT_EQ(minutes[static_cast<size_t>((t - day) / kMinuteMs)], merge(secs, t, t + kMinuteMs - 1))
            << where;
        // The trades of that minute: as many as the candle says, inside its range.
        int64_t first = m.trades_before(t, kNow);
        auto trades = m.trades_from_id(first, 1000, kNow);
        const Kline& k = minutes[static_cast<size_t>((t - day) / kMinuteMs)];
        int64_t in_minute = 0;
        for (const auto& tr : trades) {
          if (tr.time >= t + kMinuteMs) break;
          ASSERT_GE(tr.price, k.low) << where;
          ASSERT_LE(tr.price, k.high) << where;
          ++in_minute;
        }
        if (k.trades < 1000) {
          ASSERT_EQ(in_minute, k.trades) << where;
        }
      }
    }
  }
}

TEST(MarketDataTest, SameRequestSameAnswerAcrossInstances) {
  SymbolTable t1, t2;
  SimMarket a(t1), b(t2);
  for (Interval iv :
       {Interval::k1s, Interval::k1m, Interval::k5m, Interval::k1h, Interval::k1d, Interval::k1M}) {
    KlineQuery q;
    q.interval = iv;
    q.limit = 300;
    q.end_time = kNow - 1;
    auto x = a.find("ETHUSDT")->klines(q, kNow);
    auto y = b.find("ETHUSDT")->klines(q, kNow);
    ASSERT_FALSE(x.empty());
    EXPECT_EQ(x, y) << interval_name(iv);
    EXPECT_EQ(x, a.find("ETHUSDT")->klines(q, kNow)) << interval_name(iv);
  }
  EXPECT_EQ(a.find("BTCUSDT")->agg_trades_from_id(123456789, 1000, kNow),
            b.find("BTCUSDT")->agg_trades_from_id(123456789, 1000, kNow));
  // Different symbols differ.
  KlineQuery q;
  q.interval = Interval::k1h;
  q.limit = 24;
  auto eth = a.find("ETHUSDT")->klines(q, kNow);
  auto ethusdc = a.find("ETHUSDC")->klines(q, kNow);
  EXPECT_NE(eth.front().volume, ethusdc.front().volume);
}

TEST(MarketDataTest, CoarseIntervalsAreExactAggregationsOfFinerOnes) {
  const SymbolMarket& m = sym("BTCUSDT");
  auto ones = klines(m, Interval::k1m, kAug1, std::nullopt, 1000);
  struct Case {
    Interval iv;
    int minutes;
  } cases[] = {{Interval::k3m, 3},   {Interval::k5m, 5},   {Interval::k15m, 15},
               {Interval::k30m, 30}, {Interval::k1h, 60},  {Interval::k2h, 120},
               {Interval::k4h, 240}, {Interval::k6h, 360}, {Interval::k8h, 480}};
  for (const auto& c : cases) {
    auto coarse = klines(m, c.iv, kAug1, std::nullopt, 1000 / c.minutes);
    ASSERT_EQ(coarse.size(), static_cast<size_t>(1000 / c.minutes)) << interval_name(c.iv);
    for (size_t i = 0; i < coarse.size(); ++i) {
      std::vector<Kline> parts(ones.begin() + static_cast<long>(i) * c.minutes,
                               ones.begin() + static_cast<long>(i + 1) * c.minutes);
      ASSERT_EQ(coarse[i], merge(parts, coarse[i].open_time, coarse[i].open_time + c.minutes * kMinuteMs - 1))
          << interval_name(c.iv) << " #" << i;
    }
  }
  // 12h and 1d from hours; 3d, 1w and 1M from days.
  auto hours = klines(m, Interval::k1h, kAug1, std::nullopt, 48);
  auto halves = klines(m, Interval::k12h, kAug1, std::nullopt, 2);
  EXPECT_EQ(halves[0], merge({hours.begin(), hours.begin() + 12}, kAug1, kAug1 + 12 * kHourMs - 1));
  auto days = klines(m, Interval::k1d, 1719792000000, 1722470400000, 1000);  // 2024-07-01 .. 2024-08-01
  ASSERT_EQ(days.size(), 32u);
  auto month = klines(m, Interval::k1M, 1719792000000, 1719792000000, 1);
  ASSERT_EQ(month.size(), 1u);
  EXPECT_EQ(month[0].close_time, 1722470399999);
  EXPECT_EQ(month[0], merge({days.begin(), days.begin() + 31}, 1719792000000, 1722470399999));
  auto week = klines(m, Interval::k1w, 1720396800000, 1720396800000, 1);  // Monday 2024-07-08
  ASSERT_EQ(week.size(), 1u);
  EXPECT_EQ(week[0],
            merge({days.begin() + 7, days.begin() + 14}, 1720396800000, 1720396800000 + 7 * kDayMs - 1));
  auto three = klines(m, Interval::k3d, 1719792000000, std::nullopt, 1);
  ASSERT_EQ(three.size(), 1u);
  int64_t first_day = (three[0].open_time - 1719792000000) / kDayMs;
  EXPECT_EQ(three[0], merge({days.begin() + first_day, days.begin() + first_day + 3}, three[0].open_time,
                            three[0].open_time + 3 * kDayMs - 1));
}

TEST(MarketDataTest, KlineSelectionFollowsBinance) {
  const SymbolMarket& m = sym("BTCUSDT");
  // startTime inside a candle: the first candle is the next one (open time >= startTime).
  auto a = klines(m, Interval::k1h, kAug1 + 1, std::nullopt, 3);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].open_time, kAug1 + kHourMs);
  // endTime inclusive on open time.
  auto b = klines(m, Interval::k1h, kAug1, kAug1 + 2 * kHourMs, 500);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.back().open_time, kAug1 + 2 * kHourMs);
  // endTime only: the last `limit` candles up to it.
  auto c = klines(m, Interval::k1h, std::nullopt, kAug1 + 5 * kHourMs + 5, 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].open_time, kAug1 + 4 * kHourMs);
  EXPECT_EQ(c[1].open_time, kAug1 + 5 * kHourMs);
  // Neither: the most recent candles, the last one still open and partial.
  int64_t now = kAug1 + 10 * kHourMs + 30 * kMinuteMs + 15'500;
  auto d = klines(m, Interval::k1h, std::nullopt, std::nullopt, 3, now);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.back().open_time, kAug1 + 10 * kHourMs);
  auto minutes = klines(m, Interval::k1m, kAug1 + 10 * kHourMs, std::nullopt, 1000, now);
  ASSERT_EQ(minutes.size(), 31u);  // 10:00 .. 10:30, the last one partial
  auto seconds = klines(m, Interval::k1s, kAug1 + 10 * kHourMs + 30 * kMinuteMs, std::nullopt, 1000, now);
  ASSERT_EQ(seconds.size(), 16u);  // 10:30:00 .. 10:30:15
  EXPECT_EQ(d.back(), merge(minutes, d.back().open_time, d.back().close_time));
  EXPECT_EQ(minutes.back(), merge({seconds.begin(), seconds.begin() + 15}, minutes.back().open_time,
                                  minutes.back().close_time));  // the current second is not visible yet
  EXPECT_EQ(seconds.back().trades, 0);
  // Later, the same candle is complete and differs.
  auto later = klines(m, Interval::k1h, kAug1 + 10 * kHourMs, kAug1 + 10 * kHourMs, 1);
  EXPECT_GT(later[0].trades, d.back().trades);
  // Start after end, start in the future: nothing.
  EXPECT_TRUE(klines(m, Interval::k1m, kAug1 + kHourMs, kAug1, 10).empty());
  EXPECT_TRUE(klines(m, Interval::k1m, kNow + kDayMs, std::nullopt, 10).empty());
  // Default-size and max-size pages.
  EXPECT_EQ(klines(m, Interval::k1m, std::nullopt, std::nullopt, 500).size(), 500u);
  EXPECT_EQ(klines(m, Interval::k1m, 0, std::nullopt, 1000).size(), 1000u);
}

TEST(MarketDataTest, NothingBeforeTheListing) {
  const SymbolMarket& m = sym("SOLUSDT");  // listed 2020-08-11
  const int64_t listing = m.spec().listing_ms();
  EXPECT_EQ(listing, 1597104000000);
  EXPECT_TRUE(klines(m, Interval::k1m, 0, listing - 1, 1000).empty());
  EXPECT_TRUE(klines(m, Interval::k1d, std::nullopt, std::nullopt, 10, listing - 1).empty());
  auto first = klines(m, Interval::k1m, 0, std::nullopt, 5);
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first[0].open_time, listing);
  // The first weekly candle opens on the Monday before the listing and holds only post-listing days.
  auto week = klines(m, Interval::k1w, 0, std::nullopt, 1);
  ASSERT_EQ(week.size(), 1u);
  EXPECT_EQ(week[0].open_time, 1597017600000);  // Monday 2020-08-10; the listing was on the Tuesday
  auto days = klines(m, Interval::k1d, 0, std::nullopt, 6);
  EXPECT_EQ(days[0].open_time, listing);
  EXPECT_EQ(week[0], merge(days, week[0].open_time, week[0].close_time));
  EXPECT_EQ(m.trades_before(listing, kNow), 0);
  EXPECT_EQ(m.trade_count(listing - 1), 0);
  EXPECT_TRUE(m.recent_trades(10, listing - 1).empty());
}

TEST(MarketDataTest, TradesMatchTheirMinuteCandle) {
  for (const char* name : {"BTCUSDT", "XRPBTC", "MKRUSDT"}) {
    const SymbolMarket& m = sym(name);
    int64_t t = kAug1 + 15 * kHourMs + 42 * kMinuteMs;
    auto minute = klines(m, Interval::k1m, t, t, 1);
    ASSERT_EQ(minute.size(), 1u);
    const Kline& k = minute[0];
    int64_t first = m.trades_before(t, kNow);
    int64_t next = m.trades_before(t + kMinuteMs, kNow);
    EXPECT_EQ(next - first, k.trades) << name;
    auto trades = m.trades_from_id(first, static_cast<int>(k.trades), kNow);
    ASSERT_EQ(static_cast<int64_t>(trades.size()), k.trades);
    int64_t volume = 0;
    for (size_t i = 0; i < trades.size(); ++i) {
      const Trade& tr = trades[i];
      ASSERT_EQ(tr.id, first + static_cast<int64_t>(i));
      ASSERT_GE(tr.time, t);
      ASSERT_LT(tr.time, t + kMinuteMs);
      if (i > 0) {
        ASSERT_GE(tr.time, trades[i - 1].time);
      }
      ASSERT_GE(tr.price, k.low);
      ASSERT_LE(tr.price, k.high);
      ASSERT_GE(tr.qty, 1);
      volume += tr.qty;
    }
    EXPECT_EQ(volume, k.volume) << name;
    EXPECT_EQ(trades.back().price, k.close) << name;
    int64_t hi = 0, lo = INT64_MAX;
    for (const auto& tr : trades) {
      hi = std::max(hi, tr.price);
      lo = std::min(lo, tr.price);
    }
    // The extremes are trade prices, unless an extreme is the open carried over from the previous candle.
    if (k.high != k.open) {
      EXPECT_EQ(hi, k.high) << name;
    }
    if (k.low != k.open) {
      EXPECT_EQ(lo, k.low) << name;
    }
  }
}

TEST(MarketDataTest, TradesLieWithinTheirSecondCandle) {
  const SymbolMarket& m = sym("ETHUSDT");
  int64_t t = kAug1 + 3 * kHourMs;
  auto secs = klines(m, Interval::k1s, t, t + 299'999, 300);
  int64_t id = m.trades_before(t, kNow);
  auto trades = m.trades_from_id(id, 1000, kNow);
  size_t j = 0;
  for (const auto& s : secs) {
    for (int64_t n = 0; n < s.trades && j < trades.size(); ++n, ++j) {
      const Trade& tr = trades[j];
      ASSERT_GE(tr.time, s.open_time);
      ASSERT_LE(tr.time, s.close_time);
      ASSERT_GE(tr.price, s.low);
      ASSERT_LE(tr.price, s.high);
    }
    if (j >= trades.size()) break;
  }
  EXPECT_EQ(j, trades.size());
}

TEST(MarketDataTest, AggregateTradesCoverContiguousTrades) {
  const SymbolMarket& m = sym("BTCUSDT");
  int64_t t = kAug1 + 8 * kHourMs;
  int64_t first_agg = m.agg_trades_before(t, kNow);
  auto aggs = m.agg_trades_from_id(first_agg, 1000, kNow);
  ASSERT_EQ(aggs.size(), 1000u);
  auto trades = m.trades_from_id(aggs.front().first_trade_id, 5000, kNow);
  EXPECT_EQ(aggs.front().first_trade_id, m.trades_before(t, kNow));
  std::map<int64_t, Trade> by_id;
  for (const auto& tr : trades) by_id[tr.id] = tr;
  for (size_t i = 0; i < aggs.size(); ++i) {
    const AggTrade& a = aggs[i];
    ASSERT_EQ(a.id, first_agg + static_cast<int64_t>(i));
    ASSERT_GE(a.time, t);
    ASSERT_LE(a.first_trade_id, a.last_trade_id);
    if (i > 0) {
      ASSERT_EQ(a.first_trade_id, aggs[i - 1].last_trade_id + 1);
      ASSERT_GE(a.time, aggs[i - 1].time);
    }
    int64_t qty = 0;
    for (int64_t id = a.first_trade_id; id <= a.last_trade_id; ++id) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;  // beyond the fetched trades
      ASSERT_EQ(it->second.price, a.price);
      ASSERT_EQ(it->second.time, a.time);
      ASSERT_EQ(it->second.is_buyer_maker, a.is_buyer_maker);
      qty += it->second.qty;
    }
    if (by_id.count(a.last_trade_id)) {
      ASSERT_EQ(qty, a.qty);
    }
  }
}

TEST(MarketDataTest, IdLookupsAndTimeWindows) {
  const SymbolMarket& m = sym("BTCUSDT");
  int64_t t = kAug1 + 12 * kHourMs + 34 * kMinuteMs + 56'789;
  int64_t id = m.trades_before(t, kNow);
  auto at = m.trades_from_id(id, 1, kNow);
  ASSERT_EQ(at.size(), 1u);
  EXPECT_GE(at[0].time, t);
  auto before = m.trades_from_id(id - 1, 1, kNow);
  EXPECT_LT(before[0].time, t);
  EXPECT_EQ(m.trade_time(id, kNow), at[0].time);

  int64_t start = kAug1 + 6 * kHourMs, end = start + 10 * kMinuteMs;
  auto window = m.agg_trades_between(start, end, 1000, kNow);
  ASSERT_FALSE(window.empty());
  EXPECT_GE(window.front().time, start);
  EXPECT_EQ(window.front().id, m.agg_trades_before(start, kNow));
  for (const auto& a : window) ASSERT_LE(a.time, end);
  auto tail = m.agg_trades_between(std::nullopt, end, 10, kNow);
  ASSERT_EQ(tail.size(), 10u);
  EXPECT_LE(tail.back().time, end);
  EXPECT_EQ(tail.back().id + 1, m.agg_trades_before(end + 1, kNow));
  auto head = m.agg_trades_between(start, std::nullopt, 7, kNow);
  ASSERT_EQ(head.size(), 7u);
  EXPECT_EQ(head.front().id, window.front().id);

  // Totals, most recent, and ids past the end.
  int64_t total = m.trade_count(kNow);
  auto recent = m.recent_trades(5, kNow);
  ASSERT_EQ(recent.size(), 5u);
  EXPECT_EQ(recent.back().id, total - 1);
  EXPECT_LT(recent.back().time, kNow);
  EXPECT_TRUE(m.trades_from_id(total, 10, kNow).empty());
  EXPECT_EQ(m.trades_from_id(total - 3, 10, kNow).size(), 3u);
  auto recent_aggs = m.recent_agg_trades(3, kNow);
  EXPECT_EQ(recent_aggs.back().id, m.agg_trade_count(kNow) - 1);
  EXPECT_EQ(recent_aggs.back().last_trade_id, total - 1);
  // More data appears as time passes; what existed does not change.
  EXPECT_GT(m.trade_count(kNow + kMinuteMs), total);
  EXPECT_EQ(m.trades_from_id(total - 3, 3, kNow + kMinuteMs), m.trades_from_id(total - 3, 3, kNow));
}

TEST(MarketDataTest, WireFormat) {
  const SymbolMarket& btc = sym("BTCUSDT");
  EXPECT_EQ(btc.price_text(6452310), "64523.10000000");
  EXPECT_EQ(btc.qty_text(123), "0.00123000");
  const SymbolMarket& doge = sym("DOGEUSDT");
  EXPECT_EQ(doge.qty_text(42), "42.00000000");
  EXPECT_EQ(quote_text(static_cast<QuoteUnits>(123456789012)), "1234.56789012");
  Kline k;
  k.open_time = 1499040000000;
  k.close_time = 1499644799999;
  k.open = 163479;
  k.high = 8000000;
  k.low = 157580;
  k.close = 157710;
  k.volume = 14897611427;
  k.quote_volume = 243419055334;
  k.trades = 308;
  k.taker_buy_base = 1756;
  k.taker_buy_quote = 2846694368;
  std::string out;
  btc.append_kline_json(out, k);
  EXPECT_EQ(
      out,
      R"([1499040000000,"1634.79000000","80000.00000000","1575.80000000","1577.10000000","148976.11427000",)"
      R"(1499644799999,"2434.19055334",308,"0.01756000","28.46694368","0"])");
  out.clear();
  btc.append_trade_json(out, Trade{28457, 1499865549590, 400, 1200000, true});
  EXPECT_EQ(out, R"({"id":28457,"price":"4.00000000","qty":"12.00000000","quoteQty":"48.00000000",)"
                 R"("time":1499865549590,"isBuyerMaker":true,"isBestMatch":true})");
  out.clear();
  btc.append_agg_trade_json(out, AggTrade{26129, 1498793709153, 163, 470443, 27781, 27781, true});
  EXPECT_EQ(
      out,
      R"({"a":26129,"p":"1.63000000","q":"4.70443000","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true})");
}

}  // namespace
}  // namespace sf::exchange::sim
