// The depth loaders' pieces, offline: fixed-point decimals, depthUpdate and snapshot parsing, the local book
// and Binance's synchronisation procedure (snapshot + buffered diffs, stale events, gaps and resyncs).
#include "services/loaders/ws/local_order_book.h"

#include <gtest/gtest.h>

#include "services/loaders/ws/depth_follower.h"

namespace sf::services::loaders {
namespace {

constexpr int64_t kUnit = 100'000'000;  // 1.0 in 10^-8 units

DepthUpdate update(int64_t first, int64_t last, std::vector<PriceLevel> bids, std::vector<PriceLevel> asks) {
  DepthUpdate u;
  u.event_time = 1'000 + last;
  u.first_update_id = first;
  u.final_update_id = last;
  u.bids = std::move(bids);
  u.asks = std::move(asks);
  return u;
}

DepthSnapshot snapshot(int64_t id) {
  DepthSnapshot s;
  s.last_update_id = id;
  s.bids = {{100 * kUnit, 1 * kUnit}, {99 * kUnit, 2 * kUnit}, {98 * kUnit, 3 * kUnit}};  // best first
  s.asks = {{101 * kUnit, 4 * kUnit}, {102 * kUnit, 5 * kUnit}};
  return s;
}

std::vector<PriceLevel> top_bids(const LocalOrderBook& b, size_t n = 10) {
  std::vector<PriceLevel> bids, asks;
  b.top(n, bids, asks);
  return bids;
}
std::vector<PriceLevel> top_asks(const LocalOrderBook& b, size_t n = 10) {
  std::vector<PriceLevel> bids, asks;
  b.top(n, bids, asks);
  return asks;
}

TEST(DepthEventsTest, FixedPointDecimalsRoundTripAndRejectWhatTheyCannotHold) {
  int64_t v = 0;
  ASSERT_TRUE(parse_fixed8("4.00000200", v));
  EXPECT_EQ(v, 400'000'200);
  ASSERT_TRUE(parse_fixed8("12", v));
  EXPECT_EQ(v, 12 * kUnit);
  ASSERT_TRUE(parse_fixed8("0.5", v));
  EXPECT_EQ(v, kUnit / 2);
  std::string text;
  append_fixed8(text, 400'000'200);
  EXPECT_EQ(text, "4.00000200");
  for (std::string_view bad : {"", "-1", "1.000000001", "1e5", "1.", ".5", "1.2.3", "99999999999999"}) {
    EXPECT_FALSE(parse_fixed8(bad, v)) << bad;
  }
}

TEST(DepthEventsTest, ParsesUpdatesAndSnapshotsAndNamesWhatIsWrong) {
  DepthParser parser;
  DepthUpdate u;
  ASSERT_TRUE(parser.parse_update(
      R"({"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1700000000123,"s":"BNBBTC","U":157,"u":160,"b":[["0.00240000","10.00000000"]],"a":[["0.00260000","0.00000000"],["0.00270000","1.5"]]}})",
      u));
  EXPECT_EQ(u.event_time, 1700000000123);
  EXPECT_EQ(u.first_update_id, 157);
  EXPECT_EQ(u.final_update_id, 160);
  ASSERT_EQ(u.bids.size(), 1u);
  EXPECT_EQ(u.bids[0], (PriceLevel{240'000, 10 * kUnit}));
  ASSERT_EQ(u.asks.size(), 2u);
  EXPECT_EQ(u.asks[0].qty, 0);

  auto error = [&](std::string_view frame) { return parser.parse_update(frame, u).message(); };
  EXPECT_NE(error(R"({"e":"depthUpdate","E":1,"U":2)").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error(R"({"e":"trade","E":1})").find("'e'"), std::string::npos);
  EXPECT_NE(error(R"({"e":"depthUpdate","E":1,"U":5,"b":[],"a":[]})").find("'u'"), std::string::npos);
  EXPECT_NE(error(R"({"e":"depthUpdate","E":1,"U":5,"u":4,"b":[],"a":[]})").find("'U'"), std::string::npos);
  EXPECT_NE(error(R"({"e":"depthUpdate","E":1,"U":1,"u":2,"b":[["1","x"]],"a":[]})").find("b[0]"),
            std::string::npos);

  DepthSnapshot s;
  ASSERT_TRUE(parser.parse_snapshot(
      R"({"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]})",
      s));
  EXPECT_EQ(s.last_update_id, 1027024);
  EXPECT_EQ(s.asks[0], (PriceLevel{400'000'200, 12 * kUnit}));
  EXPECT_NE(parser.parse_snapshot(R"({"code":-1121,"msg":"Invalid symbol."})", s).message().find("-1121"),
            std::string::npos);
}

TEST(OrderBookSyncTest, SnapshotPlusBufferedDiffsDropsWhatTheSnapshotHoldsAndAppliesTheRest) {
  OrderBookSync sync;
  EXPECT_EQ(sync.on_update(update(95, 100, {{99 * kUnit, 9 * kUnit}}, {})),
            OrderBookSync::Action::kNeedSnapshot);
  sync.on_update(update(101, 105, {{100 * kUnit, 0}, {97 * kUnit, 7 * kUnit}}, {}));
  sync.on_update(update(106, 110, {}, {{101 * kUnit, 6 * kUnit}, {103 * kUnit, 1 * kUnit}}));
  EXPECT_EQ(sync.buffered(), 3u);
  EXPECT_FALSE(sync.synced());

  // lastUpdateId 103 lies inside the second event: the first (u 100 <= 103) is dropped, not applied.
  EXPECT_EQ(sync.on_snapshot(snapshot(103)), OrderBookSync::Action::kNone);
  ASSERT_TRUE(sync.synced());
  EXPECT_EQ(sync.book().last_update_id(), 110);
  EXPECT_EQ(
      top_bids(sync.book()),
      (std::vector<PriceLevel>{{99 * kUnit, 2 * kUnit}, {98 * kUnit, 3 * kUnit}, {97 * kUnit, 7 * kUnit}}));
  EXPECT_EQ(top_asks(sync.book()),
            (std::vector<PriceLevel>{
                {101 * kUnit, 6 * kUnit}, {102 * kUnit, 5 * kUnit}, {103 * kUnit, 1 * kUnit}}));
  EXPECT_EQ(top_bids(sync.book(), 1).size(), 1u);

  // Stale events (a renewal overlap delivers them twice) change nothing.
  EXPECT_EQ(sync.on_update(update(106, 110, {{50 * kUnit, 1}}, {})), OrderBookSync::Action::kNone);
  EXPECT_EQ(sync.stale(), 1);
  EXPECT_EQ(sync.book().bid_count(), 3u);
  // The next event continues; removing an absent level is normal.
  EXPECT_EQ(sync.on_update(update(111, 111, {{42 * kUnit, 0}}, {{102 * kUnit, 0}})),
            OrderBookSync::Action::kNone);
  EXPECT_EQ(sync.book().last_update_id(), 111);
  EXPECT_EQ(sync.book().ask_count(), 2u);
  EXPECT_EQ(sync.resyncs(), 0);
}

TEST(OrderBookSyncTest, GapAndDisconnectResyncFromANewSnapshot) {
  OrderBookSync sync;
  sync.on_update(update(101, 105, {}, {}));
  ASSERT_EQ(sync.on_snapshot(snapshot(102)), OrderBookSync::Action::kNone);
  ASSERT_TRUE(sync.synced());

  // 106..107 never came: the book is discarded, the gap's event opens the new buffer.
  EXPECT_EQ(sync.on_update(update(108, 110, {{100 * kUnit, 0}}, {})), OrderBookSync::Action::kNeedSnapshot);
  EXPECT_FALSE(sync.synced());
  EXPECT_EQ(sync.resyncs(), 1);
  EXPECT_EQ(sync.gaps(), 1);
  EXPECT_EQ(sync.buffered(), 1u);
  // A snapshot older than the buffer cannot be used (106..107 unknown): fetch again.
  EXPECT_EQ(sync.on_snapshot(snapshot(105)), OrderBookSync::Action::kNeedSnapshot);
  EXPECT_EQ(sync.rejected_snapshots(), 1);
  sync.on_update(update(111, 112, {}, {{101 * kUnit, 0}}));
  EXPECT_EQ(sync.on_snapshot(snapshot(109)), OrderBookSync::Action::kNone);
  ASSERT_TRUE(sync.synced());
  EXPECT_EQ(sync.book().last_update_id(), 112);
  EXPECT_EQ(sync.book().bid_count(), 2u);  // 108..110 applied over the snapshot: 100 removed
  EXPECT_EQ(sync.book().ask_count(), 1u);

  sync.on_disconnect();
  EXPECT_FALSE(sync.synced());
  EXPECT_EQ(sync.resyncs(), 2);
  EXPECT_EQ(sync.buffered(), 0u);
  // No events buffered yet: a snapshot cannot be checked.
  EXPECT_EQ(sync.on_snapshot(snapshot(200)), OrderBookSync::Action::kNeedSnapshot);
  // A buffer with a hole right after the snapshot starts over.
  sync.on_update(update(150, 160, {}, {}));
  sync.on_update(update(170, 180, {}, {}));
  EXPECT_EQ(sync.on_snapshot(snapshot(165)), OrderBookSync::Action::kNeedSnapshot);
  EXPECT_FALSE(sync.synced());
}

TEST(DepthFollowerTest, DepthEventsAreStoredOnceAndOrderBooksAtTheirInterval) {
  std::vector<std::pair<int64_t, std::string>> docs;
  auto sink = [&](int64_t key, std::string_view doc) { docs.emplace_back(key, std::string(doc)); };
  DepthFollower events("BNBBTC", {}, sink);
  int64_t e = 0;
  const std::string first =
      R"({"e":"depthUpdate","E":5000,"s":"BNBBTC","U":10,"u":12,"b":[["1.5","2"]],"a":[]})";
  ASSERT_TRUE(events.on_frame(first, e));
  ASSERT_TRUE(events.on_frame(first, e));  // the overlap's copy
  ASSERT_TRUE(events.on_frame(R"({"e":"depthUpdate","E":5100,"s":"BNBBTC","U":20,"u":21,"b":[],"a":[]})", e));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].first, 12);
  EXPECT_EQ(
      docs[0].second,
      R"({"_key":"12","symbol":"BNBBTC","event_time":5000,"first_update_id":10,"final_update_id":12,"bids":[["1.50000000","2.00000000"]],"asks":[]})");
  EXPECT_EQ(events.sequence_gaps(), 1);
  EXPECT_FALSE(events.on_frame(R"({"e":"depthUpdate","E":5)", e));
  EXPECT_FALSE(events.needs_snapshot());

  docs.clear();
  DepthFollowerOptions o;
  o.keep_book = true;
  o.top_levels = 1;
  o.snapshot_interval_ms = 1000;
  DepthFollower book("BNBBTC", o, sink);
  ASSERT_TRUE(book.on_frame(R"({"e":"depthUpdate","E":5000,"U":10,"u":12,"b":[["1.5","2"]],"a":[]})", e));
  EXPECT_TRUE(book.needs_snapshot());
  ASSERT_TRUE(book.on_snapshot(R"({"lastUpdateId":11,"bids":[["1.0","1"]],"asks":[["2.0","1"]]})"));
  EXPECT_FALSE(book.needs_snapshot());
  ASSERT_EQ(docs.size(), 1u);  // stored at sync
  EXPECT_EQ(
      docs[0].second,
      R"({"_key":"12","symbol":"BNBBTC","event_time":5000,"last_update_id":12,"bids":[["1.50000000","2.00000000"]],"asks":[["2.00000000","1.00000000"]]})");
  ASSERT_TRUE(book.on_frame(R"({"e":"depthUpdate","E":5500,"U":13,"u":13,"b":[],"a":[]})", e));
  EXPECT_EQ(docs.size(), 1u);  // not due before 6000
  ASSERT_TRUE(book.on_frame(R"({"e":"depthUpdate","E":6001,"U":14,"u":15,"b":[],"a":[]})", e));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1].first, 15);
  ASSERT_TRUE(book.on_frame(R"({"e":"depthUpdate","E":6100,"U":17,"u":18,"b":[],"a":[]})", e));  // gap
  EXPECT_TRUE(book.needs_snapshot());
  EXPECT_EQ(book.resyncs(), 1);
  EXPECT_FALSE(book.on_snapshot(R"({"lastUpdateId":)"));  // a truncated body is an error (retried)
  EXPECT_TRUE(book.needs_snapshot());
}

}  // namespace
}  // namespace sf::services::loaders
