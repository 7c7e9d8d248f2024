// ws_depth and ws_orderbook through the real manager (QueueManager + InProcessLauncher + the built-in jobs,
// connector included) against a real ExchangeSim on 127.0.0.1:0 whose clock runs 20 times faster than real
// time, with the embedded bus and RocksDB in a temporary directory: the local book survives dropped
// connections and a sequence gap by resyncing, and every stored top-N book equals the simulator's book at
// the same update id; diff events are stored once each across reconnects and overlapping renewals.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "exchange/sim/exchange_sim.h"
#include "exchange/sim/order_book.h"
#include "protocol/naming.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/tests/live_loader_test_util.h"
#include "services/loaders/ws/ws_loader.h"
#include "services/manager/queue_manager.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
using Json = nlohmann::json;
namespace sim = exchange::sim;

class WsDepthLoaderTest : public testing::LiveLoaderTest {
 protected:
  // id -> parsed document.
  std::map<int64_t, Json> stored_json(const std::string& collection) {
    std::map<int64_t, Json> out;
    for (auto& [id, d] : stored_by_id(collection)) out.emplace(id, Json::parse(d));
    return out;
  }

  // The largest value of an extra field over the loader's telemetry events.
  int64_t max_telemetry(const std::string& queue_id, const std::string& field) {
    int64_t out = 0;
    for (auto& raw : testing::read_topic(env_.bus(), kEventsTopic)) {
      auto event = protocol::parse_event_message(raw);
      if (!event || event->queue_id != queue_id) continue;  // only the loader sets the depth fields
      if (auto v = event->extra_field<int64_t>(field); v && v->has_value()) out = std::max(out, **v);
    }
    return out;
  }

  // The simulator's levels as [["price","qty"],..] with at most `n` per side.
  static Json levels_json(const sim::SymbolMarket& m, const std::vector<sim::BookLevel>& levels, size_t n) {
    Json out = Json::array();
    for (size_t i = 0; i < levels.size() && i < n; ++i) {
      out.push_back(Json::array({m.price_text(levels[i].price), m.qty_text(levels[i].qty)}));
    }
    return out;
  }
};

// The test: two dropped connections and a spell of lost depth events (sequence gaps) under a
// ws_orderbook workflow; the book resyncs from new snapshots each time, and every stored top-50 book -
// before, between and after the faults - equals the simulator's book at the same update id.
TEST_F(WsDepthLoaderTest, OrderBookResyncsAfterDropsAndAGapAndEqualsTheSimulatorsBook) {
  start_sim();
  open();
  const size_t kTop = 50;
  WorkflowState w =
      start_live("BNBUSDT", "ws_orderbook", Json{{"top_levels", kTop}, {"snapshot_interval_ms", 1000}});
  const sim::SymbolMarket& m = *sim_->market().find("BNBUSDT");
  std::this_thread::sleep_for(1500ms);
  for (int i = 0; i < 2; ++i) {
    sim_->streams().drop_all();
    std::this_thread::sleep_for(1000ms);
  }
  sim::StreamFaultOptions gaps;
  gaps.depth_gap_rate = 0.03;  // ~6 lost events a second at 200 events/s
  sim_->streams().set_faults(gaps);
  std::this_thread::sleep_for(1500ms);
  sim_->streams().set_faults({});
  const int64_t faults_over = sim::depth_update_id(m.spec(), sim::last_depth_slot(m.spec(), clock_()));
  // Until a book after the faults is published (the last gap's resync needs a snapshot: bounded wait, a
  // loaded machine may take a while).
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto published_after_faults = [&] {
    for (const auto& [key, n] : topic_keys(protocol::data_topic(w.queue_id))) {
      if (std::stoll(key) > faults_over) return true;
    }
    return false;
  };
  while (!published_after_faults() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  std::this_thread::sleep_for(500ms);
  WorkflowState done = stop_and_wait(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kStopped) << done.error;

  auto books = stored_json(done.collection_name);
  ASSERT_GT(books.size(), 20u);
  EXPECT_GT(books.rbegin()->first, faults_over) << "no book stored after the faults: it never resynced";
  sim::OrderBook expected;
  for (const auto& [id, doc] : books) {
    ASSERT_EQ(doc["last_update_id"], id);
    ASSERT_EQ(doc["symbol"], "BNBUSDT");
    ASSERT_TRUE(doc["event_time"].is_number_integer());
    auto slot = sim::depth_slot_of(m.spec(), id);
    ASSERT_TRUE(slot) << id << " is not an update id the simulator ended a slot with";
    sim::order_book_at(m, *slot, expected);
    ASSERT_EQ(doc["bids"], levels_json(m, expected.bids, kTop)) << "bids at " << id;
    ASSERT_EQ(doc["asks"], levels_json(m, expected.asks, kTop)) << "asks at " << id;
  }
  EXPECT_GE(max_telemetry(w.queue_id, "book_resyncs"), 3);  // two drops and at least one gap
  EXPECT_GE(max_telemetry(w.queue_id, "sequence_gaps"), 1);
  // Every book published once, and every published book stored.
  auto keys = topic_keys(protocol::data_topic(w.queue_id));
  for (const auto& [k, n] : keys) EXPECT_EQ(n, 1) << "book " << k << " published " << n << " times";
  EXPECT_EQ(keys.size(), books.size());
  EXPECT_EQ(max_telemetry(w.queue_id, "books_stored"), static_cast<int64_t>(keys.size()));
}

// ws_depth: a drop and connection renewals (the exchange closes connections after 2 s, the hub replaces them
// after 0.8 s with an overlap): every diff event is published and stored once, in update-id order, each the
// simulator's diff between the books at its U - 1 and its u.
TEST_F(WsDepthLoaderTest, DepthEventsAreStoredOnceAcrossReconnectsAndRenewals) {
  start_sim({}, 2000ms);
  loaders::StreamHubOptions hub_options;
  hub_options.renew_after = 800ms;
  hub_options.renew_overlap = 300ms;
  open(hub_options);
  WorkflowState w = start_live("ETHUSDT", "ws_depth", Json{{"depth_speed_ms", 100}});
  std::this_thread::sleep_for(1500ms);
  sim_->streams().drop_all();
  std::this_thread::sleep_for(2000ms);
  WorkflowState done = stop_and_wait(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kStopped) << done.error;
  EXPECT_GE(hub_->stats().renewals, 2);

  auto keys = topic_keys(protocol::data_topic(w.queue_id));
  ASSERT_GT(keys.size(), 50u);
  for (const auto& [k, n] : keys) ASSERT_EQ(n, 1) << "event u=" << k << " published " << n << " times";
  auto events = stored_json(done.collection_name);
  EXPECT_EQ(events.size(), keys.size());

  const sim::SymbolMarket& m = *sim_->market().find("ETHUSDT");
  int64_t prev_u = -1;
  int holes = 0;
  size_t index = 0;
  sim::OrderBook before, after;
  std::vector<sim::BookLevel> bids, asks;
  for (const auto& [u, doc] : events) {
    const int64_t first = doc["first_update_id"];
    ASSERT_EQ(doc["final_update_id"], u);
    if (prev_u >= 0) {
      ASSERT_GT(first, prev_u) << "overlapping events";
      if (first != prev_u + 1) ++holes;
    }
    prev_u = u;
    if (index++ % 10 != 0) continue;  // the generator is slow under ASan: compare every tenth event
    auto from = sim::depth_slot_of(m.spec(), first - 1);
    auto to = sim::depth_slot_of(m.spec(), u);
    ASSERT_TRUE(from && to) << first << ".." << u;
    sim::order_book_at(m, *from, before);
    sim::order_book_at(m, *to, after);
    sim::diff_books(before, after, bids, asks);
    ASSERT_EQ(doc["bids"], levels_json(m, bids, bids.size())) << u;
    ASSERT_EQ(doc["asks"], levels_json(m, asks, asks.size())) << u;
  }
  EXPECT_LE(holes, 1);  // the drop's hole at most (a diff stream cannot be repaired); renewals lose nothing
  EXPECT_EQ(max_telemetry(w.queue_id, "sequence_gaps"), holes);
}

}  // namespace
}  // namespace sf::services
