#include "protocol/records.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sf::protocol {
namespace {

// Binance's documented examples (GET /api/v3/klines, /api/v3/trades, /api/v3/aggTrades).
constexpr std::string_view kKlines = R"([
  [
    1499040000000,
    "0.01634790",
    "0.80000000",
    "0.01575800",
    "0.01577100",
    "148976.11427815",
    1499644799999,
    "2434.19055334",
    308,
    "1756.87402397",
    "28.46694368",
    "0"
  ]
])";
constexpr std::string_view kKlineDoc =
    R"({"_key":"1499040000000","open_time":1499040000000,"open":"0.01634790","high":"0.80000000",)"
    R"("low":"0.01575800","close":"0.01577100","volume":"148976.11427815","close_time":1499644799999,)"
    R"("quote_asset_volume":"2434.19055334","number_of_trades":308,"taker_buy_base_asset_volume":"1756.87402397",)"
    R"("taker_buy_quote_asset_volume":"28.46694368","symbol":"BNBBTC","interval":"1m"})";

constexpr std::string_view kTrades = R"([
  {
    "id": 28457,
    "price": "4.00000100",
    "qty": "12.00000000",
    "quoteQty": "48.000012",
    "time": 1499865549590,
    "isBuyerMaker": true,
    "isBestMatch": true
  }
])";
constexpr std::string_view kTradeDoc =
    R"({"_key":"28457","symbol":"BNBBTC","trade_id":28457,"price":"4.00000100","quantity":"12.00000000",)"
    R"("quote_quantity":"48.000012","trade_time":1499865549590,"is_buyer_maker":true,"is_best_match":true})";

constexpr std::string_view kAggTrades = R"([
  {
    "a": 26129,
    "p": "0.01633102",
    "q": "4.70443515",
    "f": 27781,
    "l": 27781,
    "T": 1498793709153,
    "m": true,
    "M": true
  }
])";
constexpr std::string_view kAggTradeDoc =
    R"({"_key":"26129","symbol":"BNBBTC","agg_trade_id":26129,"price":"0.01633102","quantity":"4.70443515",)"
    R"("first_trade_id":27781,"last_trade_id":27781,"trade_time":1498793709153,"is_buyer_maker":true,)"
    R"("is_best_match":true})";

template <typename Record>
std::string document_of(const Record& r) {
  std::string out;
  append_document(r, out);
  return out;
}

// A kline row with one element replaced by `replacement` (raw JSON).
std::string kline_row_with(int index, std::string_view replacement) {
  std::vector<std::string> row = {"1499040000000",      R"("0.01634790")",    R"("0.80000000")",
                                  R"("0.01575800")",    R"("0.01577100")",    R"("148976.11427815")",
                                  "1499644799999",      R"("2434.19055334")", "308",
                                  R"("1756.87402397")", R"("28.46694368")",   R"("0")"};
  row[index] = std::string(replacement);
  std::string out = "[[";
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i) out += ',';
    out += row[i];
  }
  out += "]]";
  return out;
}

Status klines_status(std::string_view body) {
  RecordParser parser;
  std::vector<Kline> out;
  return parser.parse_klines(body, "BNBBTC", "1m", out);
}

// ------------------------------------------------------------------------------------------------
// Decimal

TEST(Decimal, ValidAndInvalidText) {
  for (std::string_view ok : {"0", "0.01634790", "148976.11427815", "-1.5", "00012",
                              "123456789012345678901234567890", "0.000000000000000000000000000000000001"}) {
    EXPECT_TRUE(Decimal::is_valid(ok)) << ok;
    auto d = Decimal::parse(ok);
    ASSERT_TRUE(d) << ok;
    EXPECT_EQ(d->view(), ok);
  }
  for (std::string_view bad : {"", "-", "1.", ".5", "+1", "1e5", "1E5", "abc", " 1", "1 ", "1.2.3", "0x10",
                               "NaN", "inf", "--1", "1,5", "１"}) {
    EXPECT_FALSE(Decimal::is_valid(bad)) << bad;
    auto d = Decimal::parse(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
  }
  std::string longest(Decimal::kMaxSize, '9');
  EXPECT_TRUE(Decimal::is_valid(longest));
  EXPECT_FALSE(Decimal::is_valid(fmt::format("{}9", longest)));
}

TEST(Decimal, KeepsTextAndCompareTextually) {
  Decimal d;
  EXPECT_EQ(d.view(), "0");
  ASSERT_TRUE(d.assign("0.01634790"));
  EXPECT_EQ(d.str(), "0.01634790");  // trailing zeros kept
  EXPECT_FALSE(d.assign("1e5"));
  EXPECT_EQ(d.view(), "0.01634790");  // unchanged on failure
  EXPECT_DOUBLE_EQ(d.to_double(), 0.0163479);
  EXPECT_NE(*Decimal::parse("1.0"), *Decimal::parse("1.00"));
  Decimal copy = d;
  EXPECT_EQ(copy, d);
}

// ------------------------------------------------------------------------------------------------
// Exchange responses

TEST(Records, KlineFromTheBinanceExample) {
  RecordParser parser;
  std::vector<Kline> klines;
  Status s = parser.parse_klines(kKlines, "BNBBTC", "1m", klines);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(klines.size(), 1u);
  const Kline& k = klines[0];
  EXPECT_EQ(k.open_time, 1499040000000);
  EXPECT_EQ(k.open.view(), "0.01634790");
  EXPECT_EQ(k.high.view(), "0.80000000");
  EXPECT_EQ(k.low.view(), "0.01575800");
  EXPECT_EQ(k.close.view(), "0.01577100");
  EXPECT_EQ(k.volume.view(), "148976.11427815");
  EXPECT_EQ(k.close_time, 1499644799999);
  EXPECT_EQ(k.quote_asset_volume.view(), "2434.19055334");
  EXPECT_EQ(k.number_of_trades, 308);
  EXPECT_EQ(k.taker_buy_base_asset_volume.view(), "1756.87402397");
  EXPECT_EQ(k.taker_buy_quote_asset_volume.view(), "28.46694368");
  EXPECT_EQ(k.symbol, "BNBBTC");
  EXPECT_EQ(k.interval, "1m");
  EXPECT_FALSE(k.open_time_us.has_value());
  EXPECT_FALSE(k.close_time_us.has_value());
  EXPECT_EQ(record_key(k), "1499040000000");
  EXPECT_EQ(document_of(k), kKlineDoc);
}

TEST(Records, TradeFromTheBinanceExample) {
  RecordParser parser;
  std::vector<Trade> trades;
  Status s = parser.parse_trades(kTrades, "BNBBTC", trades);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(trades.size(), 1u);
  const Trade& t = trades[0];
  EXPECT_EQ(t.trade_id, 28457);
  EXPECT_EQ(t.price.view(), "4.00000100");
  EXPECT_EQ(t.quantity.view(), "12.00000000");
  EXPECT_EQ(t.quote_quantity.view(), "48.000012");
  EXPECT_EQ(t.trade_time, 1499865549590);
  EXPECT_TRUE(t.is_buyer_maker);
  EXPECT_TRUE(t.is_best_match);
  EXPECT_EQ(record_key(t), "28457");
  EXPECT_EQ(document_of(t), kTradeDoc);
}

TEST(Records, AggTradeFromTheBinanceExample) {
  RecordParser parser;
  std::vector<AggTrade> trades;
  Status s = parser.parse_agg_trades(kAggTrades, "BNBBTC", trades);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(trades.size(), 1u);
  const AggTrade& t = trades[0];
  EXPECT_EQ(t.agg_trade_id, 26129);
  EXPECT_EQ(t.price.view(), "0.01633102");
  EXPECT_EQ(t.quantity.view(), "4.70443515");
  EXPECT_EQ(t.first_trade_id, 27781);
  EXPECT_EQ(t.last_trade_id, 27781);
  EXPECT_EQ(t.trade_time, 1498793709153);
  EXPECT_TRUE(t.is_buyer_maker);
  EXPECT_TRUE(t.is_best_match);
  EXPECT_EQ(record_key(t), "26129");
  EXPECT_EQ(document_of(t), kAggTradeDoc);
}

TEST(Records, FieldOrderInObjectsDoesNotMatterAndUnknownKeysAreIgnored) {
  RecordParser parser;
  std::vector<AggTrade> trades;
  Status s = parser.parse_agg_trades(
      R"([{"M":false,"m":false,"T":1498793709153,"x":"new","l":27782,"f":27781,"q":"4.70443515","p":"0.01633102","a":26129}])",
      "BNBBTC", trades);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].last_trade_id, 27782);
  EXPECT_FALSE(trades[0].is_best_match);
}

TEST(Records, EmptyResponseGivesNoRecords) {
  RecordParser parser;
  std::vector<Kline> klines(3);
  ASSERT_TRUE(parser.parse_klines("[]", "BNBBTC", "1m", klines).is_ok());
  EXPECT_TRUE(klines.empty());
}

TEST(Records, ParserAndVectorAreReusable) {
  RecordParser parser;
  std::vector<Kline> klines;
  std::string three = "[";
  for (int i = 0; i < 3; ++i) {
    if (i) three += ',';
    three += fmt::format(R"([{},"1.{}","2","0.5","1.5","10",{},"15",{},"5","7.5","0"])", 1000 + i * 60000, i,
                         1000 + i * 60000 + 59999, i);
  }
  three += "]";
  ASSERT_TRUE(parser.parse_klines(three, "BTCUSDT", "1m", klines).is_ok());
  ASSERT_EQ(klines.size(), 3u);
  EXPECT_EQ(klines[2].open.view(), "1.2");
  EXPECT_EQ(klines[2].number_of_trades, 2);
  ASSERT_TRUE(parser.parse_klines(kKlines, "BNBBTC", "1m", klines).is_ok());
  ASSERT_EQ(klines.size(), 1u);
  EXPECT_EQ(document_of(klines[0]), kKlineDoc);
  std::vector<Trade> trades;
  ASSERT_TRUE(parser.parse_trades(kTrades, "BNBBTC", trades).is_ok());
  ASSERT_TRUE(parser.parse_klines(three, "BTCUSDT", "1m", klines).is_ok());
  EXPECT_EQ(klines.size(), 3u);
}

TEST(Records, ThousandKlines) {
  std::string body = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i) body += ',';
    int64_t open = 1722470400000 + int64_t{i} * 300000;
    body += fmt::format(
        R"([{},"64000.{:02}000000","64100.00000000","63900.00000000","64050.10000000","12.34567000",{},)"
        R"("790000.12345678",{},"6.00000000","384000.00000000","0"])",
        open, i % 100, open + 299999, 100 + i);
  }
  body += "]";
  RecordParser parser;
  std::vector<Kline> klines;
  ASSERT_TRUE(parser.parse_klines(body, "BTCUSDT", "5m", klines).is_ok());
  ASSERT_EQ(klines.size(), 1000u);
  EXPECT_EQ(klines[999].open_time, 1722470400000 + 999 * 300000LL);
  EXPECT_EQ(klines[999].open.view(), "64000.99000000");
  EXPECT_EQ(klines[999].number_of_trades, 1099);
}

TEST(Records, MicrosecondTimestampsKeepTheirPrecision) {
  RecordParser parser;
  std::vector<Kline> klines;
  std::string body = kline_row_with(0, "1499040000000123");
  body = body.replace(body.find("1499644799999"), 13, "1499644799999999");
  ASSERT_TRUE(parser.parse_klines(body, "BNBBTC", "1m", klines).is_ok());
  ASSERT_EQ(klines.size(), 1u);
  EXPECT_EQ(klines[0].open_time, 1499040000000);
  EXPECT_EQ(klines[0].open_time_us, 1499040000000123);
  EXPECT_EQ(klines[0].close_time, 1499644799999);
  EXPECT_EQ(klines[0].close_time_us, 1499644799999999);
  EXPECT_EQ(record_key(klines[0]), "1499040000000");
  std::string doc = document_of(klines[0]);
  EXPECT_TRUE(
      doc.ends_with(R"("interval":"1m","open_time_us":1499040000000123,"close_time_us":1499644799999999})"))
      << doc;

  std::vector<Trade> trades;
  ASSERT_TRUE(parser
                  .parse_trades(R"([{"id":1,"price":"1","qty":"2","quoteQty":"2","time":1499865549590456,)"
                                R"("isBuyerMaker":false,"isBestMatch":true}])",
                                "BNBBTC", trades)
                  .is_ok());
  EXPECT_EQ(trades[0].trade_time, 1499865549590);
  EXPECT_EQ(trades[0].trade_time_us, 1499865549590456);
  EXPECT_TRUE(document_of(trades[0]).ends_with(R"("is_best_match":true,"trade_time_us":1499865549590456})"));

  std::vector<AggTrade> aggs;
  ASSERT_TRUE(
      parser
          .parse_agg_trades(R"([{"a":1,"p":"1","q":"2","f":3,"l":4,"T":1498793709153999,"m":true,"M":true}])",
                            "BNBBTC", aggs)
          .is_ok());
  EXPECT_EQ(aggs[0].trade_time, 1498793709153);
  EXPECT_EQ(aggs[0].trade_time_us, 1498793709153999);
}

TEST(Records, ExplicitTimeUnits) {
  RecordParser parser;
  std::vector<AggTrade> aggs;
  // Told it is microseconds, even a small value converts.
  ASSERT_TRUE(parser
                  .parse_agg_trades(R"([{"a":1,"p":"1","q":"2","f":3,"l":4,"T":1500,"m":true,"M":true}])",
                                    "X", aggs, TimeUnit::kMicroseconds)
                  .is_ok());
  EXPECT_EQ(aggs[0].trade_time, 1);
  EXPECT_EQ(aggs[0].trade_time_us, 1500);
  // Told it is milliseconds, a big value stays as is and no _us field appears.
  ASSERT_TRUE(
      parser
          .parse_agg_trades(R"([{"a":1,"p":"1","q":"2","f":3,"l":4,"T":1498793709153999,"m":true,"M":true}])",
                            "X", aggs, TimeUnit::kMilliseconds)
          .is_ok());
  EXPECT_EQ(aggs[0].trade_time, 1498793709153999);
  EXPECT_FALSE(aggs[0].trade_time_us.has_value());
  // A reused record loses a previous _us value.
  ASSERT_TRUE(parser.parse_agg_trades(kAggTrades, "X", aggs).is_ok());
  EXPECT_FALSE(aggs[0].trade_time_us.has_value());
}

// ------------------------------------------------------------------------------------------------
// Malformed responses

TEST(Records, KlineRowOfTheWrongLength) {
  Status s = klines_status(
      R"([[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",)"
      R"(1499644799999,"2434.19055334",308,"1756.87402397","28.46694368"]])");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "klines[0]: expected 12 elements, got 11");
  s = klines_status(kline_row_with(11, R"("0","extra")"));
  EXPECT_EQ(s.message(), "klines[0]: expected 12 elements, got 13");
  EXPECT_EQ(klines_status("[[]]").message(), "klines[0]: expected 12 elements, got 0");
}

TEST(Records, KlineFieldsOfTheWrongType) {
  EXPECT_EQ(klines_status(kline_row_with(1, "0.0163479")).message(),
            "klines[0]: field 'open' (index 1) must be a decimal string, got number 0.0163479");
  EXPECT_EQ(klines_status(kline_row_with(0, R"("1499040000000")")).message(),
            "klines[0]: field 'open_time' (index 0) must be an integer, got string \"1499040000000\"");
  EXPECT_EQ(klines_status(kline_row_with(8, "308.5")).message(),
            "klines[0]: field 'number_of_trades' (index 8) must be an integer, got number 308.5");
  EXPECT_EQ(klines_status(kline_row_with(6, "null")).message(),
            "klines[0]: field 'close_time' (index 6) must be an integer, got null null");
  EXPECT_EQ(klines_status(kline_row_with(5, "[]")).message(),
            "klines[0]: field 'volume' (index 5) must be a decimal string, got array");
  EXPECT_EQ(klines_status(kline_row_with(10, "true")).message(),
            "klines[0]: field 'taker_buy_quote_asset_volume' (index 10) must be a decimal string, got "
            "boolean true");
  // Index 11 is "ignore": any value is accepted.
  EXPECT_TRUE(klines_status(kline_row_with(11, "{\"x\":1}")).is_ok());
}

TEST(Records, BadDecimals) {
  for (std::string_view bad :
       {R"("1e5")", R"("abc")", R"("")", R"("-")", R"(".5")", R"("1.")", R"(" 1")", R"("+1")", R"("NaN")"}) {
    Status s = klines_status(kline_row_with(2, bad));
    ASSERT_FALSE(s.is_ok()) << bad;
    std::string text(bad.substr(1, bad.size() - 2));
    EXPECT_EQ(s.message(),
              fmt::format("klines[0]: field 'high' (index 2) is not a plain decimal: '{}'", text));
  }
}

TEST(Records, ErrorNamesTheElementAndKeepsTheRecordsBefore) {
  std::string body =
      fmt::format("[{},{}", kKlines.substr(1, kKlines.size() - 2), kline_row_with(4, R"("x")").substr(1));
  RecordParser parser;
  std::vector<Kline> klines;
  Status s = parser.parse_klines(body, "BNBBTC", "1m", klines);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "klines[1]: field 'close' (index 4) is not a plain decimal: 'x'");
  ASSERT_EQ(klines.size(), 1u);
  EXPECT_EQ(document_of(klines[0]), kKlineDoc);
}

TEST(Records, NotAnArray) {
  EXPECT_EQ(klines_status(R"({"code":-1121,"msg":"Invalid symbol."})").message(),
            "klines: the exchange answered with error -1121: Invalid symbol.");
  EXPECT_EQ(klines_status(R"({"a":1})").message(), "klines: expected a JSON array, got object");
  EXPECT_EQ(klines_status("42").message(), "klines: expected a JSON array, got number");
  EXPECT_EQ(klines_status(R"([{"a":1}])").message(), "klines[0]: must be an array, got object");
  EXPECT_EQ(klines_status(R"([1])").message(), "klines[0]: must be an array, got number 1");
}

TEST(Records, BrokenJsonIsAnErrorNotACrash) {
  for (std::string_view body :
       {"", " ", "[", "[[", "]", "[1499040000000", R"([[1499040000000,"0.01634790")", R"([[1,"2"]] trailing)",
        R"([[1,"2"]]])", "[\"\xff\"]", "nul", R"([[1499040000000,"0.0163)", "[,]", "[1,]"}) {
    Status s = klines_status(body);
    EXPECT_FALSE(s.is_ok()) << body;
    EXPECT_TRUE(s.message().starts_with("klines")) << s.message();
  }
  RecordParser parser;
  std::vector<Trade> trades;
  EXPECT_FALSE(parser.parse_trades(R"([{"id":1,"price":"1")", "X", trades).is_ok());
  std::vector<AggTrade> aggs;
  EXPECT_FALSE(parser.parse_agg_trades(R"([{"a":1,,}])", "X", aggs).is_ok());
}

TEST(Records, TradeErrorsNameTheField) {
  RecordParser parser;
  std::vector<Trade> trades;
  Status s = parser.parse_trades(
      R"([{"id":1,"price":"1","qty":"2","quoteQty":"2","time":5,"isBuyerMaker":true,"isBestMatch":true},)"
      R"({"id":2,"price":"1","qty":"2","time":5,"isBuyerMaker":true,"isBestMatch":true}])",
      "X", trades);
  EXPECT_EQ(s.message(), "trades[1]: field 'quoteQty' is missing");
  EXPECT_EQ(trades.size(), 1u);
  s = parser.parse_trades(
      R"([{"id":1,"price":1.5,"qty":"2","quoteQty":"2","time":5,"isBuyerMaker":true,"isBestMatch":true}])",
      "X", trades);
  EXPECT_EQ(s.message(), "trades[0]: field 'price' must be a decimal string, got number 1.5");
  s = parser.parse_trades(
      R"([{"id":1,"price":"1","qty":"2","quoteQty":"2","time":5,"isBuyerMaker":"yes","isBestMatch":true}])",
      "X", trades);
  EXPECT_EQ(s.message(), "trades[0]: field 'isBuyerMaker' must be a boolean, got string \"yes\"");
  s = parser.parse_trades(R"([[1,2]])", "X", trades);
  EXPECT_EQ(s.message(), "trades[0]: must be an object, got array");

  std::vector<AggTrade> aggs;
  s = parser.parse_agg_trades(R"([{"a":1,"p":"1e-8","q":"2","f":3,"l":4,"T":5,"m":true,"M":true}])", "X",
                              aggs);
  EXPECT_EQ(s.message(), "aggTrades[0]: field 'p' is not a plain decimal: '1e-8'");
  s = parser.parse_agg_trades(R"([{"a":1,"p":"1","q":"2","f":3,"l":4,"T":5,"m":true}])", "X", aggs);
  EXPECT_EQ(s.message(), "aggTrades[0]: field 'M' is missing");
  s = parser.parse_agg_trades(R"([{"a":"1","p":"1","q":"2","f":3,"l":4,"T":5,"m":true,"M":true}])", "X",
                              aggs);
  EXPECT_EQ(s.message(), "aggTrades[0]: field 'a' must be an integer, got string \"1\"");
  s = parser.parse_agg_trades(
      R"([{"a":99999999999999999999,"p":"1","q":"2","f":3,"l":4,"T":5,"m":true,"M":true}])", "X", aggs);
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(s.message().starts_with("aggTrades[0]: field 'a' ")) << s.message();
}

// ------------------------------------------------------------------------------------------------
// Stored documents

TEST(Records, DocumentRoundTripsExactly) {
  RecordParser parser;
  Kline k;
  ASSERT_TRUE(parser.parse_document(kKlineDoc, k).is_ok());
  EXPECT_EQ(document_of(k), kKlineDoc);
  Trade t;
  ASSERT_TRUE(parser.parse_document(kTradeDoc, t).is_ok());
  EXPECT_EQ(document_of(t), kTradeDoc);
  AggTrade a;
  ASSERT_TRUE(parser.parse_document(kAggTradeDoc, a).is_ok());
  EXPECT_EQ(document_of(a), kAggTradeDoc);

  // And records survive record -> document -> record.
  std::vector<Kline> klines;
  ASSERT_TRUE(parser.parse_klines(kKlines, "BNBBTC", "1m", klines).is_ok());
  EXPECT_EQ(k, klines[0]);
}

TEST(Records, MicrosecondDocumentsRoundTrip) {
  RecordParser parser;
  std::vector<Kline> klines;
  std::string body = kline_row_with(0, "1499040000000123");
  ASSERT_TRUE(parser.parse_klines(body, "BNBBTC", "1m", klines).is_ok());
  std::string doc = document_of(klines[0]);
  Kline back;
  back.close_time_us = 7;  // must be cleared: the document has no close_time_us
  ASSERT_TRUE(parser.parse_document(doc, back).is_ok());
  EXPECT_EQ(back, klines[0]);
  EXPECT_EQ(document_of(back), doc);

  Trade t;
  std::string tdoc =
      fmt::format("{},\"trade_time_us\":1499865549590001}}", kTradeDoc.substr(0, kTradeDoc.size() - 1));
  ASSERT_TRUE(parser.parse_document(tdoc, t).is_ok());
  EXPECT_EQ(t.trade_time_us, 1499865549590001);
  EXPECT_EQ(document_of(t), tdoc);
}

TEST(Records, DocumentFromTheStoreWithExtraFieldsAndAnotherOrder) {
  RecordParser parser;
  Trade t;
  Status s = parser.parse_document(
      R"({"_id":"btcusdt_api_trades_2024_08_01/28457","_rev":"_hX1","is_best_match":true,"is_buyer_maker":true,)"
      R"("trade_time":1499865549590,"quote_quantity":"48.000012","quantity":"12.00000000","price":"4.00000100",)"
      R"("trade_id":28457,"symbol":"BNBBTC","_key":"28457"})",
      t);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(document_of(t), kTradeDoc);
  // Without _key as well.
  AggTrade a;
  std::string no_key = fmt::format("{{{}", kAggTradeDoc.substr(kAggTradeDoc.find("\"symbol\"")));
  ASSERT_TRUE(parser.parse_document(no_key, a).is_ok());
  EXPECT_EQ(document_of(a), kAggTradeDoc);
}

TEST(Records, MalformedDocumentsAreCorruption) {
  RecordParser parser;
  Kline k;
  std::string missing = std::string(kKlineDoc);
  missing.replace(missing.find(R"("volume":"148976.11427815",)"), 27, "");
  Status s = parser.parse_document(missing, k);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(s.message(), "kline document: field 'volume' is missing");

  std::string typed = std::string(kKlineDoc);
  typed.replace(typed.find(R"("number_of_trades":308)"), 22, R"("number_of_trades":"308")");
  s = parser.parse_document(typed, k);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(s.message(), "kline document: field 'number_of_trades' must be an integer, got string \"308\"");

  std::string key = std::string(kKlineDoc);
  key.replace(key.find(R"("_key":"1499040000000")"), 22, R"("_key":"1499040000001")");
  s = parser.parse_document(key, k);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(s.message(),
            "kline document: field '_key' is '1499040000001' but the record's key is 1499040000000");

  Trade t;
  std::string price = std::string(kTradeDoc);
  price.replace(price.find(R"("4.00000100")"), 12, R"("4.0e0")");
  s = parser.parse_document(price, t);
  EXPECT_EQ(s.message(), "trade document: field 'price' is not a plain decimal: '4.0e0'");

  AggTrade a;
  for (std::string_view bad : {"", "[]", "{", R"({"_key":1})", "null", "{} {}"}) {
    s = parser.parse_document(bad, a);
    EXPECT_FALSE(s.is_ok()) << bad;
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << bad;
    EXPECT_TRUE(s.message().starts_with("aggregate trade document")) << s.message();
  }
}

TEST(Records, SymbolIsJsonEscaped) {
  Trade t;
  t.symbol = "A\"B\\C\n\x01/é";
  t.trade_id = 7;
  std::string doc = document_of(t);
  EXPECT_NE(doc.find(R"("symbol":"A\"B\\C\n\u0001/é")"), std::string::npos) << doc;
  auto parsed = nlohmann::json::parse(doc);
  EXPECT_EQ(parsed["symbol"], t.symbol);
  RecordParser parser;
  Trade back;
  ASSERT_TRUE(parser.parse_document(doc, back).is_ok());
  EXPECT_EQ(back, t);
}

TEST(Records, DocumentsAreValidJsonWithTheDocumentedFieldOrder) {
  RecordParser parser;
  std::vector<Kline> klines;
  ASSERT_TRUE(parser.parse_klines(kKlines, "BNBBTC", "1m", klines).is_ok());
  auto json = nlohmann::ordered_json::parse(document_of(klines[0]));
  std::vector<std::string> keys;
  for (auto it = json.begin(); it != json.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"_key", "open_time", "open", "high", "low", "close", "volume",
                                            "close_time", "quote_asset_volume", "number_of_trades",
                                            "taker_buy_base_asset_volume", "taker_buy_quote_asset_volume",
                                            "symbol", "interval"}));
  EXPECT_TRUE(json["open"].is_string());
  EXPECT_TRUE(json["open_time"].is_number_integer());
}

TEST(Records, AppendKeepsWhatIsAlreadyThere) {
  std::string out = "prefix\n";
  Trade t;
  t.trade_id = 1;
  append_document(t, out);
  EXPECT_TRUE(out.starts_with("prefix\n{\"_key\":\"1\","));
  append_key(t, out);
  EXPECT_TRUE(out.ends_with("}1"));
}

}  // namespace
}  // namespace sf::protocol
