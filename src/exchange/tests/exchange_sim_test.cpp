// The simulator over real HTTP on 127.0.0.1: endpoints, Binance's selection rules and error answers,
// request weights and bans, faults.
#include "exchange/sim/exchange_sim.h"

#include <gtest/gtest.h>

#include "exchange/tests/sim_test_util.h"

namespace sf::exchange::sim {
namespace {

using testing::kAug1;
using testing::kNow;
using testing::SimFixture;
using Json = nlohmann::json;

void expect_error(const net::HttpResponse& r, int http_status, int code, const std::string& msg) {
  EXPECT_EQ(r.status, http_status) << r.body;
  auto j = Json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["code"], code) << r.body;
  EXPECT_EQ(j["msg"], msg) << r.body;
}

TEST(ExchangeSimTest, PingTimeAndExchangeInfo) {
  SimFixture f;
  auto ping = f.get("/api/v3/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "{}");
  EXPECT_EQ(ping.header("content-type"), "application/json;charset=UTF-8");
  EXPECT_EQ(SimFixture::json(f.get("/api/v3/time"))["serverTime"], kNow);

  auto info = SimFixture::json(f.get("/api/v3/exchangeInfo"));
  EXPECT_EQ(info["timezone"], "UTC");
  EXPECT_EQ(info["rateLimits"][0]["rateLimitType"], "REQUEST_WEIGHT");
  EXPECT_EQ(info["rateLimits"][0]["interval"], "MINUTE");
  EXPECT_EQ(info["rateLimits"][0]["intervalNum"], 1);
  EXPECT_EQ(info["rateLimits"][0]["limit"], 6000);
  EXPECT_EQ(info["rateLimits"][3]["rateLimitType"], "RAW_REQUESTS");
  EXPECT_GE(info["symbols"].size(), 50u);
  const auto& btc = info["symbols"][0];
  EXPECT_EQ(btc["symbol"], "BTCUSDT");
  EXPECT_EQ(btc["status"], "TRADING");
  EXPECT_EQ(btc["baseAsset"], "BTC");
  EXPECT_EQ(btc["quoteAsset"], "USDT");
  EXPECT_EQ(btc["filters"][0]["filterType"], "PRICE_FILTER");
  EXPECT_EQ(btc["filters"][0]["tickSize"], "0.01000000");
  EXPECT_EQ(btc["filters"][1]["filterType"], "LOT_SIZE");
  EXPECT_EQ(btc["filters"][1]["stepSize"], "0.00001000");

  auto one = SimFixture::json(f.get("/api/v3/exchangeInfo?symbol=ETHBTC"));
  ASSERT_EQ(one["symbols"].size(), 1u);
  EXPECT_EQ(one["symbols"][0]["quoteAsset"], "BTC");
  auto two = SimFixture::json(f.get("/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22,%22SOLUSDT%22%5D"));
  ASSERT_EQ(two["symbols"].size(), 2u);
  EXPECT_EQ(two["symbols"][1]["symbol"], "SOLUSDT");
  expect_error(f.get("/api/v3/exchangeInfo?symbol=NOPEUSDT"), 400, -1121, "Invalid symbol.");
  expect_error(
      f.get("/api/v3/exchangeInfo?symbols=BTCUSDT"), 400, -1100,
      R"(Illegal characters found in parameter 'symbols'; legal range is '^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'.)");
}

TEST(ExchangeSimTest, ExtraSymbolsFromTheCommandLine) {
  ExchangeSimOptions opts;
  opts.extra_symbols = {"ZZTOPUSDT"};
  SimFixture f(opts);
  auto info = SimFixture::json(f.get("/api/v3/exchangeInfo?symbol=ZZTOPUSDT"));
  EXPECT_EQ(info["symbols"][0]["baseAsset"], "ZZTOP");
  auto k = SimFixture::json(f.get("/api/v3/klines?symbol=ZZTOPUSDT&interval=1d&limit=3"));
  EXPECT_EQ(k.size(), 3u);
  EXPECT_THROW(ExchangeSim(ExchangeSimOptions{.extra_symbols = {"lower"}}), Error);
}

TEST(ExchangeSimTest, SameRequestSameBytesAcrossInstances) {
  SimFixture a, b;
  const std::string targets[] = {
      "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1722470400000&limit=1000",
      "/api/v3/klines?symbol=ETHUSDT&interval=1h&endTime=1722470400000",
      "/api/v3/klines?symbol=SOLUSDT&interval=1M",
      "/api/v3/aggTrades?symbol=BTCUSDT&fromId=1000000&limit=1000",
      "/api/v3/aggTrades?symbol=BNBUSDT&startTime=1722470400000&endTime=1722474000000",
      "/api/v3/historicalTrades?symbol=XRPUSDT&fromId=5000&limit=1000",
      "/api/v3/trades?symbol=DOGEUSDT",
  };
  for (const auto& t : targets) {
    auto x = a.get(t), y = a.get(t), z = b.get(t);
    ASSERT_EQ(x.status, 200) << t << " " << x.body;
    EXPECT_EQ(x.body, y.body) << t;
    EXPECT_EQ(x.body, z.body) << t;
    EXPECT_GT(x.body.size(), 100u) << t;
  }
}

TEST(ExchangeSimTest, KlinesResponseShapeAndPaging) {
  SimFixture f;
  auto first =
      SimFixture::json(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1722470400000&limit=1000"));
  ASSERT_EQ(first.size(), 1000u);
  const auto& k = first[0];
  ASSERT_EQ(k.size(), 12u);
  EXPECT_EQ(k[0], kAug1);
  EXPECT_TRUE(k[1].is_string() && k[2].is_string() && k[3].is_string() && k[4].is_string() &&
              k[5].is_string());
  EXPECT_EQ(k[6], kAug1 + 59'999);
  EXPECT_TRUE(k[7].is_string());
  EXPECT_TRUE(k[8].is_number_integer());
  EXPECT_TRUE(k[9].is_string() && k[10].is_string());
  EXPECT_EQ(k[11], "0");
  EXPECT_EQ(k[1].get<std::string>().size() - k[1].get<std::string>().find('.'), 9u);  // 8 decimals
  // The next page starts after the last open time; together they cover the day without gaps.
  int64_t next = first.back()[0].get<int64_t>() + 1;
  auto second =
      SimFixture::json(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=" + std::to_string(next) +
                             "&endTime=1722556799999&limit=1000"));
  ASSERT_EQ(second.size(), 440u);
  EXPECT_EQ(second[0][0], first.back()[0].get<int64_t>() + 60'000);
  EXPECT_EQ(second[0][1], first.back()[4]);  // open = previous close
  EXPECT_EQ(second.back()[0], kNow - 60'000);

  // Default 500; the most recent when neither start nor end is sent (the last one is the open candle).
  auto recent = SimFixture::json(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m"));
  ASSERT_EQ(recent.size(), 500u);
  EXPECT_EQ(recent.back()[0], kNow);
  auto by_end =
      SimFixture::json(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime=1722474000000&limit=3"));
  ASSERT_EQ(by_end.size(), 3u);
  EXPECT_EQ(by_end.back()[0], 1722474000000);
  auto window = SimFixture::json(
      f.get("/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime=1722470400001&endTime=1722471300000"));
  ASSERT_EQ(window.size(), 3u);  // open times 00:05, 00:10, 00:15
  EXPECT_EQ(window[0][0], kAug1 + 300'000);
  EXPECT_EQ(SimFixture::json(f.get(
                "/api/v3/uiKlines?symbol=BTCUSDT&interval=5m&startTime=1722470400001&endTime=1722471300000")),
            window);
  // Limits: 1000 is the maximum; more is capped, as Binance does.
  EXPECT_EQ(
      SimFixture::json(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=0&limit=1500")).size(),
      1000u);
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=0"), 400, -1130,
               "Data sent for parameter 'limit' is not valid.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=-5"), 400, -1100,
               "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.");
}

TEST(ExchangeSimTest, NoCandlesBeforeTheListing) {
  SimFixture f;
  auto r = f.get("/api/v3/klines?symbol=SOLUSDT&interval=1m&startTime=1500000000000&endTime=1597103999999");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[]");
  auto from_zero = SimFixture::json(f.get("/api/v3/klines?symbol=SOLUSDT&interval=1d&startTime=0&limit=2"));
  EXPECT_EQ(from_zero[0][0], 1597104000000);  // 2020-08-11, the listing day
  f.set_clock(1500000000000);                 // 2017-07-14: before SOL existed
  EXPECT_EQ(f.get("/api/v3/klines?symbol=SOLUSDT&interval=1m").body, "[]");
  EXPECT_EQ(f.get("/api/v3/aggTrades?symbol=SOLUSDT").body, "[]");
}

TEST(ExchangeSimTest, ParameterErrorsAreBinances) {
  SimFixture f;
  expect_error(f.get("/api/v3/klines?interval=1m"), 400, -1102,
               "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
  expect_error(f.get("/api/v3/klines?symbol=&interval=1m"), 400, -1102,
               "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT"), 400, -1102,
               "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.");
  expect_error(f.get("/api/v3/klines?symbol=btcusdt&interval=1m"), 400, -1100,
               "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.");
  expect_error(f.get("/api/v3/klines?symbol=NOPEUSDT&interval=1m"), 400, -1121, "Invalid symbol.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=2m"), 400, -1120, "Invalid interval.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=yesterday"), 400, -1100,
               "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&endTime="), 400, -1105,
               "Parameter 'endTime' was empty.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&symbol=ETHUSDT&interval=1m"), 400, -1101,
               "Duplicate values for a parameter detected.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&fromId=1"), 400, -1104,
               "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.");
  expect_error(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&timeZone=8"), 400, -1130,
               "Data sent for parameter 'timeZone' is not valid.");
  EXPECT_EQ(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&timeZone=0&limit=1").status, 200);
  expect_error(f.get("/api/v3/aggTrades"), 400, -1102,
               "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
  expect_error(f.get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=5&startTime=1722470400000"), 400, -1128,
               "Combination of optional parameters invalid.");
  expect_error(f.get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=-1"), 400, -1100,
               "Illegal characters found in parameter 'fromId'; legal range is '^[0-9]{1,20}$'.");
  EXPECT_EQ(SimFixture::json(f.get("/api/v3/trades?symbol=BTCUSDT&limit=5000")).size(), 1000u);
  expect_error(f.get("/api/v3/trades?symbol=BTCUSDT&limit=0"), 400, -1130,
               "Data sent for parameter 'limit' is not valid.");
  EXPECT_EQ(f.get("/api/v3/nope").status, 404);
}

TEST(ExchangeSimTest, TradesAndAggregateTrades) {
  SimFixture f;
  auto recent = SimFixture::json(f.get("/api/v3/trades?symbol=ETHUSDT&limit=1000"));
  ASSERT_EQ(recent.size(), 1000u);
  for (size_t i = 1; i < recent.size(); ++i) {
    ASSERT_EQ(recent[i]["id"].get<int64_t>(), recent[i - 1]["id"].get<int64_t>() + 1);
    ASSERT_GE(recent[i]["time"].get<int64_t>(), recent[i - 1]["time"].get<int64_t>());
  }
  EXPECT_LT(recent.back()["time"].get<int64_t>(), kNow);
  EXPECT_TRUE(recent[0]["isBestMatch"].get<bool>());
  EXPECT_EQ(SimFixture::json(f.get("/api/v3/trades?symbol=ETHUSDT")).size(), 500u);

  int64_t from = recent[0]["id"].get<int64_t>() - 2000;
  auto hist = SimFixture::json(
      f.get("/api/v3/historicalTrades?symbol=ETHUSDT&fromId=" + std::to_string(from) + "&limit=3"));
  ASSERT_EQ(hist.size(), 3u);
  EXPECT_EQ(hist[0]["id"], from);
  EXPECT_EQ(SimFixture::json(f.get("/api/v3/historicalTrades?symbol=ETHUSDT&limit=1000")), recent);

  auto aggs = SimFixture::json(
      f.get("/api/v3/aggTrades?symbol=ETHUSDT&startTime=1722470400000&endTime=1722470420000&limit=1000"));
  ASSERT_FALSE(aggs.empty());
  ASSERT_LT(aggs.size(), 1000u);  // the whole window
  EXPECT_GE(aggs[0]["T"].get<int64_t>(), kAug1);
  for (size_t i = 0; i < aggs.size(); ++i) {
    const auto& a = aggs[i];
    ASSERT_LE(a["T"].get<int64_t>(), kAug1 + 20'000);
    ASSERT_LE(a["f"].get<int64_t>(), a["l"].get<int64_t>());
    if (i > 0) {
      ASSERT_EQ(a["a"].get<int64_t>(), aggs[i - 1]["a"].get<int64_t>() + 1);
      ASSERT_EQ(a["f"].get<int64_t>(), aggs[i - 1]["l"].get<int64_t>() + 1);
    }
  }
  auto by_id =
      SimFixture::json(f.get("/api/v3/aggTrades?symbol=ETHUSDT&fromId=" + aggs[0]["a"].dump() + "&limit=5"));
  ASSERT_EQ(by_id.size(), 5u);
  EXPECT_EQ(by_id[0], aggs[0]);
  // The aggregate trade's first trade is that trade.
  auto trade = SimFixture::json(
      f.get("/api/v3/historicalTrades?symbol=ETHUSDT&fromId=" + aggs[0]["f"].dump() + "&limit=1"));
  EXPECT_EQ(trade[0]["price"], aggs[0]["p"]);
  EXPECT_EQ(trade[0]["time"], aggs[0]["T"]);
  // Only one end of the window: from the start, or the last ones up to the end.
  auto from_start =
      SimFixture::json(f.get("/api/v3/aggTrades?symbol=ETHUSDT&startTime=1722470400000&limit=2"));
  EXPECT_EQ(from_start[0], aggs[0]);
  auto up_to_end = SimFixture::json(f.get("/api/v3/aggTrades?symbol=ETHUSDT&endTime=1722470420000&limit=1"));
  EXPECT_EQ(up_to_end[0], aggs.back());
  EXPECT_EQ(SimFixture::json(f.get("/api/v3/aggTrades?symbol=ETHUSDT")).size(), 500u);
}

TEST(ExchangeSimTest, LegacyOneHourWindowForAggTrades) {
  ExchangeSimOptions opts;
  opts.agg_trades_max_window_ms = 3'600'000;
  SimFixture f(opts);
  expect_error(f.get("/api/v3/aggTrades?symbol=BTCUSDT&startTime=1722470400000&endTime=1722477600000"), 400,
               -1127, "More than 1 hours between startTime and endTime.");
  EXPECT_EQ(
      f.get("/api/v3/aggTrades?symbol=BTCUSDT&startTime=1722470400000&endTime=1722474000000&limit=1").status,
      200);
}

int used_weight(const net::HttpResponse& r) {
  return std::stoi(std::string(r.header("X-MBX-USED-WEIGHT-1M").value()));
}

TEST(ExchangeSimTest, WeightsCountUpPerMinute) {
  SimFixture f;
  f.set_clock(kNow + 5'000);
  EXPECT_EQ(used_weight(f.get("/api/v3/ping")), 1);
  EXPECT_EQ(used_weight(f.get("/api/v3/time")), 2);
  EXPECT_EQ(used_weight(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1")), 4);
  EXPECT_EQ(used_weight(f.get("/api/v3/aggTrades?symbol=BTCUSDT&limit=1")), 8);
  EXPECT_EQ(used_weight(f.get("/api/v3/trades?symbol=BTCUSDT&limit=1")), 33);
  EXPECT_EQ(used_weight(f.get("/api/v3/historicalTrades?symbol=BTCUSDT&limit=1")), 58);
  auto info = f.get("/api/v3/exchangeInfo?symbol=BTCUSDT");
  EXPECT_EQ(used_weight(info), 78);
  EXPECT_EQ(info.header("x-mbx-used-weight"), "78");
  // Errors cost weight too.
  EXPECT_EQ(used_weight(f.get("/api/v3/klines?symbol=NOPEUSDT&interval=1m")), 80);
  f.set_clock(kNow + 60'000);  // a new calendar minute
  EXPECT_EQ(used_weight(f.get("/api/v3/ping")), 1);
}

TEST(ExchangeSimTest, Over429ThenBannedWith418ThenRecovered) {
  ExchangeSimOptions opts;
  opts.rate_limit.weight_limit = 10;
  opts.rate_limit.rejections_before_ban = 2;
  SimFixture f(opts);
  f.set_clock(kNow + 45'500);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1").status, 200);
  auto limited = f.get("/api/v3/ping");
  expect_error(limited, 429, -1003,
               "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
               "Please use WebSocket Streams for live updates to avoid polling the API.");
  EXPECT_EQ(limited.header("Retry-After"), "15");  // seconds to the next minute
  EXPECT_EQ(used_weight(limited), 11);
  EXPECT_EQ(f.get("/api/v3/ping").status, 429);
  // Keeping on after two 429s: banned for two minutes.
  auto banned = f.get("/api/v3/ping");
  int64_t until = kNow + 45'500 + 120'000;
  expect_error(banned, 418, -1003,
               "Way too much request weight used; IP banned until " + std::to_string(until) +
                   ". Please use WebSocket Streams for live updates to avoid bans.");
  EXPECT_EQ(banned.header("Retry-After"), "120");
  f.set_clock(kNow + 90'000);  // next minute, still banned
  EXPECT_EQ(f.get("/api/v3/ping").status, 418);
  f.set_clock(until);  // the ban is over
  auto ok = f.get("/api/v3/ping");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(used_weight(ok), 1);
}

TEST(ExchangeSimTest, Over429RecoversNextMinuteWithoutBan) {
  ExchangeSimOptions opts;
  opts.rate_limit.weight_limit = 4;
  SimFixture f(opts);
  f.set_clock(kNow + 59'000);
  EXPECT_EQ(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1").status, 200);
  EXPECT_EQ(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1").status, 200);
  auto limited = f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("Retry-After"), "1");
  f.set_clock(kNow + 60'000);
  EXPECT_EQ(f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1").status, 200);
  // The limit can change while serving.
  f.sim().set_weight_limit(1);
  EXPECT_EQ(f.get("/api/v3/ping").status, 429);
}

TEST(ExchangeSimTest, FaultLatency) {
  SimFixture f;
  f.sim().set_faults(FaultOptions{.latency_ms = 250});
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.get("/api/v3/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
}

TEST(ExchangeSimTest, FaultServerErrors) {
  SimFixture f;
  f.sim().set_faults(FaultOptions{.error_rate = 1.0});
  for (int i = 0; i < 10; ++i) {
    auto r = f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m");
    ASSERT_GE(r.status, 500) << r.body;
    auto j = Json::parse(r.body);
    EXPECT_TRUE(j["code"] == -1000 || j["code"] == -1001 || j["code"] == -1007) << r.body;
  }
  f.sim().set_faults({});
  EXPECT_EQ(f.get("/api/v3/ping").status, 200);
}

TEST(ExchangeSimTest, FaultMalformedBodies) {
  SimFixture f;
  f.sim().set_faults(FaultOptions{.malformed_rate = 1.0, .seed = 3});
  for (int i = 0; i < 10; ++i) {
    auto r = f.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(Json::parse(r.body, nullptr, false).is_discarded()) << r.body;
  }
  // Errors are not garbled: only successful bodies are.
  auto err = f.get("/api/v3/klines?symbol=NOPEUSDT&interval=1m");
  EXPECT_EQ(err.status, 400);
  EXPECT_FALSE(Json::parse(err.body, nullptr, false).is_discarded());
}

TEST(ExchangeSimTest, FaultDroppedConnections) {
  SimFixture f;
  f.sim().set_faults(FaultOptions{.drop_rate = 1.0});
  for (int i = 0; i < 3; ++i) {
    auto r = f.http().get("/api/v3/ping");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  }
  f.sim().set_faults(FaultOptions{.drop_rate = 0.5, .seed = 9});
  int dropped = 0;
  for (int i = 0; i < 40; ++i) dropped += f.http().get("/api/v3/ping") ? 0 : 1;
  EXPECT_GT(dropped, 5);
  EXPECT_LT(dropped, 35);
}

TEST(ExchangeSimTest, FaultSequenceIsReproducibleFromTheSeed) {
  auto run = [] {
    SimFixture f;
    f.sim().set_faults(FaultOptions{.error_rate = 0.3, .malformed_rate = 0.3, .seed = 77});
    std::string pattern;
    for (int i = 0; i < 30; ++i) {
      auto r = f.get("/api/v3/time");
      pattern += r.status >= 500 ? 'E' : Json::parse(r.body, nullptr, false).is_discarded() ? 'M' : '.';
    }
    return pattern;
  };
  std::string a = run();
  EXPECT_EQ(a, run());
  EXPECT_NE(a.find('E'), std::string::npos);
  EXPECT_NE(a.find('M'), std::string::npos);
  EXPECT_NE(a.find('.'), std::string::npos);
}

}  // namespace
}  // namespace sf::exchange::sim
