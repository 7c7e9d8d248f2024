// Dump CSV rows into records: Binance's columns, milliseconds and microseconds, exact decimals, bad rows.
#include "services/loaders/bulk/csv_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace sf::services::loaders::bulk {
namespace {

TEST(CsvRows, KlineInMilliseconds) {
  protocol::Kline k;
  std::string why;
  ASSERT_TRUE(
      parse_kline_row("1601510340000,4.15070000,4.15870000,4.15060000,4.15540000,539.23000000,"
                      "1601510399999,2240.39860900,13,401.82000000,1669.98121300,0",
                      k, why))
      << why;
  EXPECT_EQ(k.open_time, 1601510340000);
  EXPECT_EQ(k.close_time, 1601510399999);
  EXPECT_EQ(k.open.view(), "4.15070000");
  EXPECT_EQ(k.high.view(), "4.15870000");
  EXPECT_EQ(k.low.view(), "4.15060000");
  EXPECT_EQ(k.close.view(), "4.15540000");
  EXPECT_EQ(k.volume.view(), "539.23000000");
  EXPECT_EQ(k.quote_asset_volume.view(), "2240.39860900");
  EXPECT_EQ(k.number_of_trades, 13);
  EXPECT_EQ(k.taker_buy_base_asset_volume.view(), "401.82000000");
  EXPECT_EQ(k.taker_buy_quote_asset_volume.view(), "1669.98121300");
  EXPECT_FALSE(k.open_time_us);
  EXPECT_FALSE(k.close_time_us);
}

TEST(CsvRows, KlineInMicrosecondsKeepsTheFullValue) {
  protocol::Kline k;
  std::string why;
  ASSERT_TRUE(
      parse_kline_row("1735689600000000,93576.00,93610.93,93537.50,93610.93,8.21827000,1735689659999999,"
                      "768978.40,1726,3.78236000,353874.42,0\r",
                      k, why))
      << why;
  EXPECT_EQ(k.open_time, 1735689600000);
  EXPECT_EQ(k.close_time, 1735689659999);
  EXPECT_EQ(k.open_time_us, 1735689600000000);
  EXPECT_EQ(k.close_time_us, 1735689659999999);
  EXPECT_EQ(k.taker_buy_quote_asset_volume.view(), "353874.42");
}

TEST(CsvRows, AggTradeAndTrade) {
  protocol::AggTrade a;
  std::string why;
  ASSERT_TRUE(parse_agg_trade_row("26129,0.01633102,4.70443515,27781,27781,1498793709153,True,False", a, why))
      << why;
  EXPECT_EQ(a.agg_trade_id, 26129);
  EXPECT_EQ(a.price.view(), "0.01633102");
  EXPECT_EQ(a.quantity.view(), "4.70443515");
  EXPECT_EQ(a.first_trade_id, 27781);
  EXPECT_EQ(a.last_trade_id, 27781);
  EXPECT_EQ(a.trade_time, 1498793709153);
  EXPECT_TRUE(a.is_buyer_maker);
  EXPECT_FALSE(a.is_best_match);
  ASSERT_TRUE(parse_agg_trade_row("1,2.5,3,4,5,1735689600123456,false,true", a, why)) << why;
  EXPECT_EQ(a.trade_time, 1735689600123);
  EXPECT_EQ(a.trade_time_us, 1735689600123456);
  EXPECT_FALSE(a.is_buyer_maker);

  protocol::Trade t;
  ASSERT_TRUE(parse_trade_row("51175358,17.80180000,5.69000000,101.29224200,1583709433583,True,True", t, why))
      << why;
  EXPECT_EQ(t.trade_id, 51175358);
  EXPECT_EQ(t.quote_quantity.view(), "101.29224200");
  EXPECT_EQ(t.trade_time, 1583709433583);
  EXPECT_TRUE(t.is_best_match);
}

TEST(CsvRows, BadRowsSayWhichColumn) {
  protocol::Kline k;
  protocol::AggTrade a;
  std::string why;
  EXPECT_FALSE(parse_kline_row("1601510340000,4.1,x,4.1,4.1,5,1601510399999,2,13,4,1,0", k, why));
  EXPECT_NE(why.find("column 3 (high)"), std::string::npos) << why;
  EXPECT_FALSE(parse_kline_row("1601510340000,4.1,4.1", k, why));
  EXPECT_NE(why.find("3 columns, expected 12"), std::string::npos) << why;
  EXPECT_FALSE(parse_agg_trade_row("1,2,3,4,5,6,maybe,True", a, why));
  EXPECT_NE(why.find("is_buyer_maker"), std::string::npos) << why;
  EXPECT_FALSE(parse_agg_trade_row("1,1e5,3,4,5,6,True,True", a, why));
  EXPECT_NE(why.find("price"), std::string::npos) << why;
  EXPECT_FALSE(parse_agg_trade_row("-1,2,3,4,5,6,True,True", a, why));
  EXPECT_FALSE(parse_agg_trade_row("1,2,3,4,5,6,True,True,extra", a, why));
  EXPECT_TRUE(is_header_row("open_time,open,high"));
  EXPECT_FALSE(is_header_row("1601510340000,4.1"));
}

// Rows with one random byte changed, inserted or removed: whenever the parser accepts one, writing its fields
// back must give the row again (the fast kline path must not accept what the column rules reject, such as
// "1e5", "4.", "-", 19-digit ids or 13 columns), and a rejected row always says why.
TEST(CsvRows, KlineMutationsAreAcceptedOnlyWhenEveryColumnIsValid) {
  const std::string base =
      "1601510340000,4.15070000,4.15870000,4.15060000,4.15540000,539.23000000,"
      "1601510399999,2240.39860900,13,401.82000000,1669.98121300,0";
  const std::string alphabet = "0123456789.,-e+ \r";
  std::mt19937_64 rng(42);  // fixed seed: the same rows every run
  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string row = base;
    const size_t at = rng() % row.size();
    const char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
      case 0:
        row[at] = c;
        break;
      case 1:
        row.insert(row.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        row.erase(at, 1);
        break;
    }
    protocol::Kline k;
    std::string why;
    if (!parse_kline_row(row, k, why)) {
      ++rejected;
      EXPECT_FALSE(why.empty()) << row;
      continue;
    }
    ++accepted;
    const auto time = [](int64_t ms, const std::optional<int64_t>& us) {
      return std::to_string(us ? *us : ms);
    };
    std::string back = time(k.open_time, k.open_time_us);
    for (const protocol::Decimal* d : {&k.open, &k.high, &k.low, &k.close, &k.volume}) {
      back += ',';
      back += d->view();
    }
    back += ',' + time(k.close_time, k.close_time_us) + ',' + std::string(k.quote_asset_volume.view()) + ',' +
            std::to_string(k.number_of_trades) + ',' + std::string(k.taker_buy_base_asset_volume.view()) +
            ',' + std::string(k.taker_buy_quote_asset_volume.view()) + ',';
    std::string trimmed = row;
    if (!trimmed.empty() && trimmed.back() == '\r') trimmed.pop_back();
    // Leading zeros of integers are not kept: compare the integer columns by value through a second parse.
    protocol::Kline again;
    ASSERT_TRUE(parse_kline_row(back + trimmed.substr(trimmed.rfind(',') + 1), again, why)) << back;
    EXPECT_EQ(again.open_time, k.open_time) << row;
    EXPECT_EQ(again.close_time, k.close_time) << row;
    EXPECT_EQ(again.number_of_trades, k.number_of_trades) << row;
    EXPECT_EQ(std::count(trimmed.begin(), trimmed.end(), ','), 11) << row;
    const std::string columns = trimmed.substr(0, trimmed.rfind(','));  // all but "ignore"
    EXPECT_EQ(columns.find_first_not_of("0123456789.,-"), std::string::npos)
        << "a character no column allows was accepted: " << row;
  }
  EXPECT_GT(accepted, 1000);  // digit changes keep rows valid
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace sf::services::loaders::bulk
