// The simulator's WebSocket market streams through the project's stream client, on 127.0.0.1: payloads equal
// to what REST returns for the same trades and candles, combined-stream envelopes, live SUBSCRIBE /
// UNSUBSCRIBE / LIST_SUBSCRIPTIONS with their replies and errors, the per-connection limits, lifetime and
// injected faults.
#include "exchange/sim/ws/stream_server.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "exchange/binance_ws.h"
#include "exchange/tests/sim_test_util.h"

namespace sf::exchange::sim {
namespace {

using testing::kNow;
using testing::SimFixture;
using Json = nlohmann::json;
using namespace std::chrono_literals;

// A stream client on its own io_context thread that keeps every frame.
class Client {
 public:
  explicit Client(const std::string& url) : work_(ioc_.get_executor()) {
    StreamConnectionHandlers h;
    h.on_open = [this] {
      std::lock_guard lock(mu_);
      open_ = true;
      cv_.notify_all();
    };
    h.on_message = [this](std::string&& frame) {
      std::lock_guard lock(mu_);
      frames_.push_back(std::move(frame));
      cv_.notify_all();
    };
    h.on_close = [this](const Status& why) {
      std::lock_guard lock(mu_);
      closed_ = true;
      why_ = why;
      cv_.notify_all();
    };
    conn_ = value_or_throw(StreamConnection::create(ioc_, url, {}, std::move(h)));
    conn_->start();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Client() {
    conn_->close();
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  bool wait_open() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return open_ || closed_; }) && open_;
  }
  bool wait_closed(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closed_; });
  }
  // Waits until a frame satisfies `pred`; returns it (or "" on timeout).
  template <typename Pred>
  std::string wait_for(Pred pred, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    std::string found;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& f : frames_) {
        if (pred(f)) {
          found = f;
          return true;
        }
      }
      return closed_;
    });
    return found;
  }
  std::vector<std::string> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }
  void send(std::string text) { conn_->send(std::move(text)); }
  Status why() {
    std::lock_guard lock(mu_);
    return why_;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::shared_ptr<StreamConnection> conn_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false, closed_ = false;
  Status why_;
  std::vector<std::string> frames_;
};

ExchangeSimOptions fast_ticks() {
  ExchangeSimOptions o;
  o.streams.tick = 10ms;
  return o;
}

TEST(StreamServerTest, CombinedTradesAndKlinesMatchRest) {
  SimFixture f(fast_ticks());
  const int64_t start = kNow + 500;
  f.set_clock(start);
  Client c("ws://" + f.sim().address() + "/stream?streams=btcusdt@trade/btcusdt@kline_1m/ethusdt@aggTrade");
  ASSERT_TRUE(c.wait_open());
  // Let the streams register at `start`, then move the exchange clock past a minute boundary in steps.
  std::this_thread::sleep_for(50ms);
  for (int64_t t = start; t <= start + 62'000; t += 500) {
    f.set_clock(t);
    std::this_thread::sleep_for(2ms);
  }
  const auto closed_kline =
      c.wait_for([](const std::string& s) { return s.find("\"x\":true") != std::string::npos; });
  ASSERT_FALSE(closed_kline.empty());
  std::this_thread::sleep_for(100ms);

  const SymbolMarket& btc = *f.sim().market().find("BTCUSDT");
  const SymbolMarket& eth = *f.sim().market().find("ETHUSDT");
  std::vector<int64_t> trade_ids, agg_ids;
  int closed = 0;
  for (const auto& frame : c.frames()) {
    Json j = Json::parse(frame);
    ASSERT_TRUE(j.contains("stream") && j.contains("data")) << frame;
    const Json& d = j["data"];
    if (j["stream"] == "btcusdt@trade") {
      EXPECT_EQ(d["e"], "trade");
      EXPECT_EQ(d["s"], "BTCUSDT");
      EXPECT_FALSE(d.contains("b"));  // no buyer/seller order ids since 2024
      auto rest = btc.trades_from_id(d["t"], 1, f.clock());
      ASSERT_EQ(rest.size(), 1u);
      EXPECT_EQ(d["p"], btc.price_text(rest[0].price));
      EXPECT_EQ(d["q"], btc.qty_text(rest[0].qty));
      EXPECT_EQ(d["T"], rest[0].time);
      EXPECT_GE(d["E"].get<int64_t>(), d["T"].get<int64_t>());
      trade_ids.push_back(d["t"]);
    } else if (j["stream"] == "ethusdt@aggTrade") {
      auto rest = eth.agg_trades_from_id(d["a"], 1, f.clock());
      ASSERT_EQ(rest.size(), 1u);
      EXPECT_EQ(d["f"], rest[0].first_trade_id);
      EXPECT_EQ(d["l"], rest[0].last_trade_id);
      agg_ids.push_back(d["a"]);
    } else {
      ASSERT_EQ(j["stream"], "btcusdt@kline_1m");
      const Json& k = d["k"];
      EXPECT_EQ(k["i"], "1m");
      if (k["x"] == true) {
        ++closed;
        auto rest = btc.kline_at(Interval::k1m, k["t"], f.clock());
        ASSERT_TRUE(rest.has_value());
        EXPECT_EQ(k["c"], btc.price_text(rest->close));
        EXPECT_EQ(k["v"], btc.qty_text(rest->volume));
        EXPECT_EQ(k["n"], rest->trades);
        EXPECT_EQ(k["L"].get<int64_t>() - k["f"].get<int64_t>() + 1, rest->trades);
      }
    }
  }
  EXPECT_EQ(closed, 1);
  ASSERT_GT(trade_ids.size(), 10u);
  ASSERT_GT(agg_ids.size(), 10u);
  for (size_t i = 1; i < trade_ids.size(); ++i) ASSERT_EQ(trade_ids[i], trade_ids[i - 1] + 1);
  for (size_t i = 1; i < agg_ids.size(); ++i) ASSERT_EQ(agg_ids[i], agg_ids[i - 1] + 1);
  // Everything up to the clock was pushed: the stream ends where REST's visible trades end.
  EXPECT_EQ(trade_ids.back() + 1, btc.trade_count(f.clock()));
}

TEST(StreamServerTest, RawStreamHasNoEnvelope) {
  SimFixture f(fast_ticks());
  Client c("ws://" + f.sim().address() + "/ws/btcusdt@aggTrade");
  ASSERT_TRUE(c.wait_open());
  std::this_thread::sleep_for(30ms);
  f.set_clock(kNow + 3000);
  auto frame = c.wait_for([](const std::string&) { return true; });
  ASSERT_FALSE(frame.empty());
  Json j = Json::parse(frame);
  EXPECT_EQ(j["e"], "aggTrade");
  EXPECT_FALSE(j.contains("stream"));
}

TEST(StreamServerTest, LiveSubscribeListUnsubscribeAndErrors) {
  SimFixture f(fast_ticks());
  Client c("ws://" + f.sim().address() + "/stream");
  ASSERT_TRUE(c.wait_open());
  auto reply = [&](const std::string& id) {
    return c.wait_for([&](const std::string& s) { return s.find("\"id\":" + id) != std::string::npos; });
  };
  c.send(R"({"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@kline_1m"],"id":1})");
  EXPECT_EQ(Json::parse(reply("1")), Json::parse(R"({"result":null,"id":1})"));
  c.send(R"({"method":"LIST_SUBSCRIPTIONS","id":"abc"})");
  EXPECT_EQ(Json::parse(reply("\"abc\"")),
            Json::parse(R"({"result":["btcusdt@trade","ethusdt@kline_1m"],"id":"abc"})"));
  c.send(R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":3})");
  EXPECT_EQ(Json::parse(reply("3")), Json::parse(R"({"result":null,"id":3})"));
  std::this_thread::sleep_for(1100ms);  // stay under 5 incoming messages per second
  c.send(R"({"method":"LIST_SUBSCRIPTIONS","id":4})");
  EXPECT_EQ(Json::parse(reply("4"))["result"], Json::parse(R"(["ethusdt@kline_1m"])"));

  c.send(R"({"method":"SUBSCRIBE","params":["BTCUSDT@trade"],"id":5})");
  Json e = Json::parse(reply("5"));
  EXPECT_EQ(e["error"]["code"], 2);
  EXPECT_NE(e["error"]["msg"].get<std::string>().find("lower case"), std::string::npos) << e;
  c.send(R"({"method":"PUBLISH","id":6})");
  e = Json::parse(reply("6"));
  EXPECT_EQ(e["error"]["code"], 2);
  EXPECT_NE(e["error"]["msg"].get<std::string>().find("unknown variant `PUBLISH`"), std::string::npos);
  std::this_thread::sleep_for(1100ms);
  c.send("{not json");
  auto bad = c.wait_for([](const std::string& s) { return s.find("\"code\":3") != std::string::npos; });
  EXPECT_NE(bad.find("Invalid JSON"), std::string::npos) << bad;
  EXPECT_TRUE(c.wait_for([](const std::string& s) { return s.find("\"stream\"") != std::string::npos; }, 5s)
                  .find("ethusdt@kline_1m") != std::string::npos);
}

TEST(StreamServerTest, TooManyStreamsAndTooManyMessages) {
  ExchangeSimOptions o = fast_ticks();
  o.streams.max_streams = 2;
  SimFixture f(o);
  Client c("ws://" + f.sim().address() + "/stream?streams=btcusdt@trade");
  ASSERT_TRUE(c.wait_open());
  c.send(R"({"method":"SUBSCRIBE","params":["ethusdt@trade","bnbusdt@trade"],"id":1})");
  auto e =
      Json::parse(c.wait_for([](const std::string& s) { return s.find("\"id\":1") != std::string::npos; }));
  EXPECT_EQ(e["error"]["code"], 2);
  EXPECT_NE(e["error"]["msg"].get<std::string>().find("at most 2"), std::string::npos) << e;
  // Binance disconnects a connection sending more than 5 messages a second.
  for (int i = 0; i < 6; ++i) c.send(R"({"method":"LIST_SUBSCRIPTIONS","id":9})");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_GE(f.sim().streams().stats().dropped, 1u);
}

TEST(StreamServerTest, LifetimeEndsTheConnectionAndDropsAreAbrupt) {
  ExchangeSimOptions o = fast_ticks();
  o.streams.lifetime = 300ms;
  SimFixture f(o);
  Client c("ws://" + f.sim().address() + "/ws/btcusdt@trade");
  ASSERT_TRUE(c.wait_open());
  ASSERT_TRUE(c.wait_closed(3s));
  EXPECT_TRUE(c.why().is_ok()) << c.why().to_string();  // a normal close frame

  ExchangeSimOptions o2 = fast_ticks();
  SimFixture f2(o2);
  Client d("ws://" + f2.sim().address() + "/ws/btcusdt@trade");
  ASSERT_TRUE(d.wait_open());
  std::this_thread::sleep_for(30ms);
  f2.sim().streams().drop_all();
  ASSERT_TRUE(d.wait_closed());
  EXPECT_FALSE(d.why().is_ok());  // no close frame: a failure
}

TEST(StreamServerTest, MalformedFramesByFault) {
  SimFixture f(fast_ticks());
  StreamFaultOptions faults;
  faults.malformed_rate = 0.5;
  f.sim().streams().set_faults(faults);
  Client c("ws://" + f.sim().address() + "/stream?streams=btcusdt@trade");
  ASSERT_TRUE(c.wait_open());
  std::this_thread::sleep_for(30ms);
  f.set_clock(kNow + 5000);
  std::this_thread::sleep_for(200ms);
  int bad = 0, good = 0;
  for (const auto& frame : c.frames()) {
    (Json::parse(frame, nullptr, false).is_discarded() ? bad : good)++;
  }
  EXPECT_GT(bad, 0);
  EXPECT_GT(good, 0);
  EXPECT_EQ(static_cast<uint64_t>(bad), f.sim().streams().stats().malformed);
}

}  // namespace
}  // namespace sf::exchange::sim
