// Parsing of Binance stream events into records (offline): the same document as the REST form of the record,
// and errors that name the field.
#include "services/loaders/ws/stream_events.h"

#include <gtest/gtest.h>

namespace sf::services::loaders {
namespace {

TEST(StreamEventsTest, TradeEqualsItsRestForm) {
  StreamEventParser p(StreamEventKind::kTrade, "BNBBTC", "");
  StreamEvent e;
  ASSERT_TRUE(
      p.parse(R"({"stream":"bnbbtc@trade","data":{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,)"
              R"("p":"0.00123000","q":"12345.67000000","T":1672515782130,"m":true,"M":true}})",
              e));
  EXPECT_EQ(e.event_time, 1672515782136);
  protocol::RecordParser rest;
  std::vector<protocol::Trade> trades;
  ASSERT_TRUE(rest.parse_trades(
      R"([{"id":12345,"price":"0.00123000","qty":"12345.67000000",)"
      R"("quoteQty":"15.18517410","time":1672515782130,"isBuyerMaker":true,"isBestMatch":true}])",
      "BNBBTC", trades));
  EXPECT_EQ(e.trade, trades[0]);
}

TEST(StreamEventsTest, KlineAndAggTradeAndRawPayloads) {
  StreamEventParser k(StreamEventKind::kKline, "BTCUSDT", "1m");
  StreamEvent e;
  ASSERT_TRUE(
      k.parse(R"({"e":"kline","E":2,"s":"BTCUSDT","k":{"t":60000,"T":119999,"s":"BTCUSDT","i":"1m","f":1,)"
              R"("L":2,"o":"1.0","c":"2.0","h":"3.0","l":"0.5","v":"10","n":2,"x":true,"q":"20","V":"5",)"
              R"("Q":"10","B":"0"}})",
              e));
  EXPECT_TRUE(e.kline_closed);
  EXPECT_EQ(e.kline.open_time, 60000);
  EXPECT_EQ(e.kline.close.view(), "2.0");
  EXPECT_EQ(e.kline.interval, "1m");
  StreamEventParser a(StreamEventKind::kAggTrade, "BTCUSDT", "");
  ASSERT_TRUE(a.parse(
      R"({"e":"aggTrade","E":5,"s":"BTCUSDT","a":7,"p":"1.5","q":"2","f":10,"l":12,"T":4,"m":false,"M":true})",
      e));
  EXPECT_EQ(e.agg_trade.agg_trade_id, 7);
  EXPECT_EQ(e.agg_trade.last_trade_id, 12);
}

TEST(StreamEventsTest, MalformedFramesNameTheProblem) {
  StreamEventParser p(StreamEventKind::kTrade, "BTCUSDT", "");
  StreamEvent e;
  Status s = p.parse(R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTC)", e);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("invalid JSON"), std::string::npos) << s.message();
  s = p.parse(R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":1.5,"q":"1","T":1,"m":true})", e);
  EXPECT_NE(s.message().find("'p' must be a string"), std::string::npos) << s.message();
  s = p.parse(R"({"e":"aggTrade","E":1})", e);
  EXPECT_NE(s.message().find("expected 'trade'"), std::string::npos) << s.message();
}

TEST(StreamEventsTest, MultiplyDecimalsTruncatesToEightPlaces) {
  std::string out;
  ASSERT_TRUE(multiply_decimals("0.00123000", "12345.67000000", out));
  EXPECT_EQ(out, "15.18517410");
  ASSERT_TRUE(multiply_decimals("64000.12", "0.00001", out));
  EXPECT_EQ(out, "0.64000120");
  ASSERT_TRUE(multiply_decimals("3", "7", out));
  EXPECT_EQ(out, "21.00000000");
  EXPECT_FALSE(multiply_decimals("1e5", "1", out));
}

}  // namespace
}  // namespace sf::services::loaders
