// The simulator's order books: update ids and their inverse, book shape, diffs that rebuild the next book,
// GET /api/v3/depth (body, limit, weights, errors) and the diff depth streams (Binance's payload, U/u chain,
// events that turn the REST snapshot into the book at each u, the sequence-gap fault).
#include "exchange/sim/order_book.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "exchange/binance_ws.h"
#include "exchange/sim/symbols.h"
#include "exchange/tests/sim_test_util.h"

namespace sf::exchange::sim {
namespace {

using testing::kNow;
using testing::SimFixture;
using Json = nlohmann::json;
using namespace std::chrono_literals;

// A side as price -> qty (ticks, steps), for applying diffs.
using Side = std::map<int64_t, int64_t>;

void apply_diff(Side& side, const std::vector<BookLevel>& diff) {
  for (const auto& l : diff) {
    if (l.qty == 0) {
      side.erase(l.price);
    } else {
      side[l.price] = l.qty;
    }
  }
}

Side to_side(const std::vector<BookLevel>& levels) {
  Side s;
  for (const auto& l : levels) s[l.price] = l.qty;
  return s;
}

TEST(OrderBookTest, UpdateIdsIncreaseAndMapBackToTheirSlot) {
  SymbolTable table;
  const SymbolSpec& spec = *table.find("BTCUSDT");
  int64_t prev = depth_update_id(spec, -1);
  EXPECT_EQ(depth_slot_of(spec, prev), -1);
  for (int64_t slot = 0; slot < 2000; ++slot) {
    const int64_t u = depth_update_id(spec, slot);
    EXPECT_GE(u - prev, 1);
    EXPECT_LE(u - prev, 2 * kUpdatesPerSlot - 1);
    EXPECT_EQ(depth_slot_of(spec, u), slot);
    for (int64_t inside = prev + 1; inside < u; ++inside) EXPECT_FALSE(depth_slot_of(spec, inside));
    prev = u;
  }
  EXPECT_EQ(last_depth_slot(spec, spec.listing_ms()), -1);
  EXPECT_EQ(last_depth_slot(spec, spec.listing_ms() + kDepthSlotMs), 0);
  EXPECT_EQ(last_depth_slot(spec, spec.listing_ms() + 10 * kDepthSlotMs + 99), 9);
}

TEST(OrderBookTest, BooksAreSortedUncrossedAndFollowThePrice) {
  SymbolTable table;
  SimMarket market(table);
  const SymbolMarket& m = *market.find("ETHUSDT");
  const int64_t slot = last_depth_slot(m.spec(), kNow);
  OrderBook book, again;
  order_book_at(m, slot, book);
  order_book_at(m, slot, again);
  EXPECT_EQ(book.bids, again.bids);  // a pure function
  EXPECT_EQ(book.last_update_id, depth_update_id(m.spec(), slot));
  ASSERT_GT(book.bids.size(), kBookLevels / 2u);
  ASSERT_GT(book.asks.size(), kBookLevels / 2u);
  for (size_t i = 1; i < book.bids.size(); ++i) EXPECT_GT(book.bids[i - 1].price, book.bids[i].price);
  for (size_t i = 1; i < book.asks.size(); ++i) EXPECT_LT(book.asks[i - 1].price, book.asks[i].price);
  for (const auto& l : book.bids) EXPECT_GT(l.qty, 0);
  EXPECT_LT(book.bids.front().price, book.asks.front().price);
  // The window straddles the close of the last whole second.
  const int64_t second = (kNow / 1000) * 1000 - 1000;
  const int64_t close = m.kline_at(Interval::k1s, second, kNow)->close;
  EXPECT_LT(book.bids.front().price, close);
  EXPECT_GT(book.asks.front().price, close);
}

TEST(OrderBookTest, DiffsRebuildTheNextBookAndChangeFewLevels) {
  SymbolTable table;
  SimMarket market(table);
  const SymbolMarket& m = *market.find("BTCUSDT");
  const int64_t first = last_depth_slot(m.spec(), kNow);
  OrderBook before, after;
  order_book_at(m, first, before);
  Side bids = to_side(before.bids), asks = to_side(before.asks);
  std::vector<BookLevel> db, da;
  size_t changed = 0;
  for (int64_t slot = first + 1; slot <= first + 50; ++slot) {
    order_book_at(m, slot, after);
    diff_books(before, after, db, da);
    changed += db.size() + da.size();
    apply_diff(bids, db);
    apply_diff(asks, da);
    ASSERT_EQ(bids, to_side(after.bids)) << slot;
    ASSERT_EQ(asks, to_side(after.asks)) << slot;
    std::swap(before, after);
  }
  EXPECT_GT(changed, 0u);
  EXPECT_LT(changed / 50, static_cast<size_t>(kBookLevels));  // a diff, not a new book each time
}

TEST(OrderBookTest, RestDepthSnapshotLimitsAndWeights) {
  SimFixture f;
  const SymbolMarket& m = *f.sim().market().find("BTCUSDT");
  auto r = f.get("/api/v3/depth?symbol=BTCUSDT&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = SimFixture::json(r);
  OrderBook book;
  order_book_at(m, last_depth_slot(m.spec(), kNow), book);
  EXPECT_EQ(j["lastUpdateId"], book.last_update_id);
  ASSERT_EQ(j["bids"].size(), 5u);
  ASSERT_EQ(j["asks"].size(), 5u);
  EXPECT_EQ(j["bids"][0][0], m.price_text(book.bids[0].price));
  EXPECT_EQ(j["bids"][0][1], m.qty_text(book.bids[0].qty));
  EXPECT_EQ(j["asks"][4][0], m.price_text(book.asks[4].price));
  EXPECT_EQ(r.header("x-mbx-used-weight-1m"), "5");

  auto standard = f.get("/api/v3/depth?symbol=BTCUSDT");
  EXPECT_EQ(SimFixture::json(standard)["bids"].size(), 100u);  // the default limit
  EXPECT_EQ(standard.header("x-mbx-used-weight-1m"), "10");    // + 5
  EXPECT_EQ(f.get("/api/v3/depth?symbol=BTCUSDT&limit=500").header("x-mbx-used-weight-1m"), "35");
  EXPECT_EQ(f.get("/api/v3/depth?symbol=BTCUSDT&limit=1000").header("x-mbx-used-weight-1m"), "85");
  auto deep = f.get("/api/v3/depth?symbol=BTCUSDT&limit=5000");
  EXPECT_EQ(deep.header("x-mbx-used-weight-1m"), "335");
  EXPECT_EQ(SimFixture::json(deep)["asks"].size(), book.asks.size());  // the whole book

  auto bad = f.get("/api/v3/depth?symbol=BTCUSDT&limit=abc");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(f.get("/api/v3/depth?symbol=NOPEUSDT").status, 400);
  EXPECT_EQ(f.get("/api/v3/depth").status, 400);

  f.set_clock(kNow + 1000);  // ten slots later: a newer book
  EXPECT_GT(SimFixture::json(f.get("/api/v3/depth?symbol=BTCUSDT&limit=1"))["lastUpdateId"],
            book.last_update_id);
}

// A stream client on its own io_context thread that keeps every frame.
class Client {
 public:
  explicit Client(const std::string& url) : work_(ioc_.get_executor()) {
    StreamConnectionHandlers h;
    h.on_message = [this](std::string&& frame) {
      std::lock_guard lock(mu_);
      frames_.push_back(std::move(frame));
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
  // Waits until at least `n` frames came; returns them all.
  std::vector<std::string> wait_frames(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return frames_.size() >= n; });
    return frames_;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::shared_ptr<StreamConnection> conn_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> frames_;
};

// Applies Binance's [["price","qty"],..] to a side kept as text -> text.
void apply_json(std::map<std::string, std::string>& side, const Json& levels) {
  for (const auto& l : levels) {
    if (l[1].get<std::string>() == "0.00000000") {
      side.erase(l[0].get<std::string>());
    } else {
      side[l[0].get<std::string>()] = l[1].get<std::string>();
    }
  }
}

std::map<std::string, std::string> side_text(const SymbolMarket& m, const std::vector<BookLevel>& levels) {
  std::map<std::string, std::string> out;
  for (const auto& l : levels) out[m.price_text(l.price)] = m.qty_text(l.qty);
  return out;
}

TEST(OrderBookTest, DiffStreamTurnsTheRestSnapshotIntoTheBookAtEachUpdateId) {
  ExchangeSimOptions o;
  o.streams.tick = 10ms;
  SimFixture f(o);
  const SymbolMarket& m = *f.sim().market().find("BNBUSDT");
  Client c("ws://" + f.sim().address() + "/ws/bnbusdt@depth@100ms");
  std::this_thread::sleep_for(200ms);  // subscribed at kNow
  auto snapshot = SimFixture::json(f.get("/api/v3/depth?symbol=BNBUSDT&limit=5000"));
  std::map<std::string, std::string> bids, asks;
  apply_json(bids, snapshot["bids"]);
  apply_json(asks, snapshot["asks"]);
  int64_t book_id = snapshot["lastUpdateId"];

  for (int i = 1; i <= 8; ++i) f.set_clock(kNow + i * 100);  // eight slots end
  auto frames = c.wait_frames(8);
  ASSERT_GE(frames.size(), 8u);
  int64_t prev_u = -1;
  OrderBook expected;
  for (const auto& frame : frames) {
    auto e = Json::parse(frame);
    ASSERT_EQ(e["e"], "depthUpdate");
    EXPECT_EQ(e["s"], "BNBUSDT");
    EXPECT_TRUE(e["E"].is_number_integer());
    const int64_t U = e["U"], u = e["u"];
    if (prev_u >= 0) {
      EXPECT_EQ(U, prev_u + 1);  // no hole without the fault
    }
    prev_u = u;
    if (u <= book_id) continue;  // older than the snapshot
    ASSERT_LE(U, book_id + 1);
    apply_json(bids, e["b"]);
    apply_json(asks, e["a"]);
    book_id = u;
    auto slot = depth_slot_of(m.spec(), u);
    ASSERT_TRUE(slot);
    order_book_at(m, *slot, expected);
    EXPECT_EQ(bids, side_text(m, expected.bids)) << u;
    EXPECT_EQ(asks, side_text(m, expected.asks)) << u;
  }
  EXPECT_EQ(book_id, depth_update_id(m.spec(), last_depth_slot(m.spec(), kNow + 800)));

  // The 1000 ms stream: one event per second of exchange time.
  Client slow("ws://" + f.sim().address() + "/ws/bnbusdt@depth");
  std::this_thread::sleep_for(200ms);
  f.set_clock(kNow + 1000);
  auto first = slow.wait_frames(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(Json::parse(first[0])["U"], prev_u + 1);  // from the book it started at
  EXPECT_EQ(Json::parse(first[0])["u"], depth_update_id(m.spec(), last_depth_slot(m.spec(), kNow + 1000)));
  f.set_clock(kNow + 1500);  // mid-second: nothing
  f.set_clock(kNow + 3000);
  auto slow_frames = slow.wait_frames(3);
  ASSERT_EQ(slow_frames.size(), 3u);
  EXPECT_EQ(Json::parse(slow_frames[1])["u"],
            depth_update_id(m.spec(), last_depth_slot(m.spec(), kNow + 2000)));
  EXPECT_EQ(Json::parse(slow_frames[2])["U"], Json::parse(slow_frames[1])["u"].get<int64_t>() + 1);
}

TEST(OrderBookTest, SequenceGapFaultLosesWholeEvents) {
  ExchangeSimOptions o;
  o.streams.tick = 10ms;
  o.streams.faults.depth_gap_rate = 0.3;
  SimFixture f(o);
  Client c("ws://" + f.sim().address() + "/stream?streams=btcusdt@depth@100ms");
  std::this_thread::sleep_for(200ms);
  for (int i = 1; i <= 40; ++i) f.set_clock(kNow + i * 100);
  auto frames = c.wait_frames(10);
  ASSERT_GE(frames.size(), 10u);
  int gaps = 0;
  int64_t prev_u = -1;
  for (const auto& frame : frames) {
    auto j = Json::parse(frame);
    ASSERT_EQ(j["stream"], "btcusdt@depth@100ms");
    const int64_t U = j["data"]["U"], u = j["data"]["u"];
    if (prev_u >= 0) {
      EXPECT_GT(U, prev_u);  // never out of order
      if (U != prev_u + 1) ++gaps;
    }
    prev_u = u;
  }
  EXPECT_GT(gaps, 0);
}

}  // namespace
}  // namespace sf::exchange::sim
