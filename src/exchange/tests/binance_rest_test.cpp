// BinanceRestClient against the simulator: requests, metadata, error mapping, transport failures.
#include "exchange/binance_rest.h"

#include <gtest/gtest.h>

#include "exchange/tests/sim_test_util.h"

namespace sf::exchange {
namespace {

using sim::testing::kAug1;
using sim::testing::SimFixture;
using Json = nlohmann::json;

std::unique_ptr<BinanceRestClient> client_for(SimFixture& f) {
  BinanceRestOptions o;
  o.base_url = f.sim().base_url();
  return value_or_throw(BinanceRestClient::create(o));
}

TEST(BinanceRestTest, FetchesEveryEndpoint) {
  SimFixture f;
  auto c = client_for(f);
  auto ping = c->ping();
  ASSERT_TRUE(ping.ok()) << ping.status.to_string();
  EXPECT_EQ(ping.http_status, 200);
  EXPECT_EQ(ping.body, "{}");
  EXPECT_EQ(ping.used_weight, 1);
  EXPECT_EQ(Json::parse(c->server_time().body)["serverTime"], sim::testing::kNow);
  EXPECT_EQ(Json::parse(c->exchange_info("BTCUSDT").body)["symbols"].size(), 1u);

  auto k = c->get_klines("BTCUSDT", "1m", kAug1, kAug1 + 9 * 60'000, 1000);
  ASSERT_TRUE(k.ok());
  auto candles = Json::parse(k.body);
  ASSERT_EQ(candles.size(), 10u);
  EXPECT_EQ(candles[0][0], kAug1);
  EXPECT_EQ(Json::parse(c->get_klines("BTCUSDT", "1h", std::nullopt, std::nullopt, std::nullopt).body).size(),
            500u);

  auto aggs = c->get_agg_trades("BTCUSDT", {.start_time = kAug1, .limit = 10});
  ASSERT_TRUE(aggs.ok());
  auto a = Json::parse(aggs.body);
  ASSERT_EQ(a.size(), 10u);
  auto again =
      Json::parse(c->get_agg_trades("BTCUSDT", {.from_id = a[3]["a"].get<int64_t>(), .limit = 2}).body);
  EXPECT_EQ(again[0], a[3]);
  auto recent = Json::parse(c->get_trades("BTCUSDT", 7).body);
  ASSERT_EQ(recent.size(), 7u);
  auto hist = Json::parse(c->get_historical_trades("BTCUSDT", a[0]["f"].get<int64_t>(), 1).body);
  EXPECT_EQ(hist[0]["id"], a[0]["f"]);
  auto raw = c->get("/api/v3/klines",
                    net::QueryBuilder().add("symbol", "ETHUSDT").add("interval", "1d").add("limit", 2));
  EXPECT_EQ(Json::parse(raw.body).size(), 2u);
  EXPECT_EQ(c->http().connections_opened(), 1u);  // one keep-alive connection for all of it
}

TEST(BinanceRestTest, ExchangeErrorsBecomeStatusesWithTheExchangeMessage) {
  SimFixture f;
  auto c = client_for(f);
  auto bad = c->get_klines("NOPEUSDT", "1m", std::nullopt, std::nullopt, std::nullopt);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(bad.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.binance_code, -1121);
  EXPECT_EQ(bad.binance_msg, "Invalid symbol.");
  EXPECT_NE(bad.status.message().find("binance -1121: Invalid symbol."), std::string::npos)
      << bad.status.message();
  EXPECT_NE(bad.status.message().find("/api/v3/klines?symbol=NOPEUSDT"), std::string::npos);

  f.sim().set_weight_limit(3);
  EXPECT_TRUE(c->ping().ok());
  auto limited = c->get_klines("BTCUSDT", "1m", std::nullopt, std::nullopt, 1);
  EXPECT_EQ(limited.http_status, 429);
  EXPECT_EQ(limited.status.code(), ErrorCode::kRateLimited);
  EXPECT_EQ(limited.binance_code, -1003);
  ASSERT_TRUE(limited.retry_after_s.has_value());
  EXPECT_GE(*limited.retry_after_s, 1);
  EXPECT_EQ(limited.used_weight, 5);  // 2 (the bad request) + 1 + 2

  f.sim().set_weight_limit(100000);
  f.set_clock(f.clock() + 60'000);
  f.sim().set_faults(sim::FaultOptions{.error_rate = 1.0});
  auto down = c->ping();
  EXPECT_GE(down.http_status, 500);
  EXPECT_TRUE(down.status.code() == ErrorCode::kUnavailable || down.status.code() == ErrorCode::kTimeout);
  f.sim().set_faults(sim::FaultOptions{.malformed_rate = 1.0});
  auto garbled = c->get_klines("BTCUSDT", "1m", std::nullopt, std::nullopt, 3);
  EXPECT_TRUE(garbled.ok());  // the client does not parse successes: the loader's parser will refuse it
  EXPECT_TRUE(Json::parse(garbled.body, nullptr, false).is_discarded());
  f.sim().set_faults(sim::FaultOptions{.drop_rate = 1.0});
  auto dropped = c->ping();
  EXPECT_EQ(dropped.http_status, 0);
  EXPECT_EQ(dropped.status.code(), ErrorCode::kUnavailable);
}

TEST(BinanceRestTest, TransportFailuresAndTimeouts) {
  BinanceRestOptions o;
  o.base_url = "http://127.0.0.1:1";
  auto c = value_or_throw(BinanceRestClient::create(o));
  auto r = c->ping();
  EXPECT_EQ(r.http_status, 0);
  EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable);

  SimFixture f;
  f.sim().set_faults(sim::FaultOptions{.latency_ms = 700});
  BinanceRestOptions slow;
  slow.base_url = f.sim().base_url();
  slow.http.request_timeout = std::chrono::milliseconds(200);
  auto impatient = value_or_throw(BinanceRestClient::create(slow));
  auto t = impatient->ping();
  EXPECT_EQ(t.status.code(), ErrorCode::kTimeout);
  EXPECT_FALSE(BinanceRestClient::create({.base_url = "not a url"}));
}

TEST(BinanceRestTest, InterpretsHeadersAndBodies) {
  net::HttpResponse r;
  r.status = 418;
  r.headers.add("x-mbx-used-weight-1m", "6123");
  r.headers.add("retry-after", "120");
  r.body = R"({"code":-1003,"msg":"Way too much request weight used; IP banned until 1722557000000."})";
  auto b = interpret_binance_response(r, "/api/v3/ping");
  EXPECT_EQ(b.status.code(), ErrorCode::kRateLimited);
  EXPECT_EQ(b.used_weight, 6123);
  EXPECT_EQ(b.retry_after_s, 120);
  EXPECT_EQ(b.binance_code, -1003);
  net::HttpResponse html;
  html.status = 502;
  html.body = "<html>Bad Gateway</html>";
  auto h = interpret_binance_response(html, "/x");
  EXPECT_EQ(h.status.code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(h.binance_code.has_value());
  EXPECT_EQ(h.body, "<html>Bad Gateway</html>");
  net::HttpResponse gone;
  gone.status = 504;
  EXPECT_EQ(interpret_binance_response(gone, "/x").status.code(), ErrorCode::kTimeout);
  net::HttpResponse missing;
  missing.status = 404;
  EXPECT_EQ(interpret_binance_response(missing, "/x").status.code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace sf::exchange
