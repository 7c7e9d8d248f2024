// The WebSocket loader through the real manager (QueueManager + InProcessLauncher + the built-in jobs)
// against a real ExchangeSim on 127.0.0.1:0 whose clock runs 20 times faster than real time (a minute of
// market in 3 s), with the embedded bus and RocksDB in a temporary directory: live workflows from start to
// `stop`, with the connection dropped under them, malformed frames, and the stored documents compared with
// the simulator's own REST data.
#include "services/loaders/ws/ws_loader.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "exchange/sim/exchange_sim.h"
#include "protocol/naming.h"
#include "protocol/records.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/tests/live_loader_test_util.h"
#include "services/manager/queue_manager.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
namespace sim = exchange::sim;

class WsLoaderTest : public testing::LiveLoaderTest {
 protected:
  int64_t topic_size(const std::string& topic) {
    auto info = env_.bus().describe_topic(topic);
    if (!info) return 0;
    int64_t n = 0;
    for (const auto& p : info->partitions) n += p.log_end_offset - p.log_start_offset;
    return n;
  }

  // The simulator's trades [from, to] as documents, through its REST JSON and the REST parser.
  std::map<int64_t, std::string> expected_trades(const std::string& symbol, int64_t from, int64_t to) {
    const sim::SymbolMarket& m = *sim_->market().find(symbol);
    std::map<int64_t, std::string> out;
    std::vector<protocol::Trade> parsed;
    for (int64_t id = from; id <= to;) {
      auto page = m.trades_from_id(id, static_cast<int>(std::min<int64_t>(1000, to - id + 1)), clock_());
      if (page.empty()) break;
      std::string body = "[";
      for (size_t i = 0; i < page.size(); ++i) {
        if (i > 0) body += ',';
        m.append_trade_json(body, page[i]);
      }
      body += ']';
      EXPECT_TRUE(parser_.parse_trades(body, symbol, parsed));
      for (const auto& t : parsed) {
        std::string d;
        protocol::append_document(t, d);
        out.emplace(t.trade_id, std::move(d));
      }
      id = page.back().id + 1;
    }
    return out;
  }

  std::map<int64_t, std::string> expected_candles(const std::string& symbol, int64_t first, int64_t last) {
    const sim::SymbolMarket& m = *sim_->market().find(symbol);
    sim::KlineQuery q;
    q.interval = sim::Interval::k1m;
    q.start_time = first;
    q.end_time = last;
    q.limit = 1000;
    std::string body = "[";
    auto page = m.klines(q, clock_());
    for (size_t i = 0; i < page.size(); ++i) {
      if (i > 0) body += ',';
      m.append_kline_json(body, page[i]);
    }
    body += ']';
    std::vector<protocol::Kline> parsed;
    EXPECT_TRUE(parser_.parse_klines(body, symbol, "1m", parsed));
    std::map<int64_t, std::string> out;
    for (const auto& k : parsed) {
      std::string d;
      protocol::append_document(k, d);
      out.emplace(k.open_time, std::move(d));
    }
    return out;
  }

  // Stored documents equal the expected ones, key by key (a few differences shown).
  static void expect_same(const std::map<int64_t, std::string>& got,
                          const std::map<int64_t, std::string>& want, const std::string& what) {
    EXPECT_EQ(got.size(), want.size()) << what;
    int shown = 0;
    for (const auto& [k, d] : want) {
      auto it = got.find(k);
      if (it == got.end()) {
        if (shown++ < 3) ADD_FAILURE() << what << ": missing " << k;
      } else if (it->second != d) {
        if (shown++ < 3)
          ADD_FAILURE() << what << ": key " << k << "\n got  " << it->second << "\n want " << d;
      }
    }
  }

  protocol::RecordParser parser_;
};

// 50 symbols x (trades + 1m candles) = 100 loader-ws jobs sharing one connection, run directly by the job
// launcher (the manager's path is covered below with one symbol): three drops under them, then `stop`. The
// first kStoredSymbols symbols' workflows also run their arango-connector jobs, and their COLLECTIONS are
// checked; the others' data topics (100 connectors under ASan on 2 cores would make the test slow, not
// stronger: every connector reads every event of the single-partition queue-events). Every data topic must
// hold each trade id / minute exactly once, and the stored or published series has no hole and equals the
// exchange's REST data.
constexpr size_t kStoredSymbols = 10;
TEST_F(WsLoaderTest, FiftySymbolsTradesAndCandlesSurviveDropsWithNoHoleAndNoDuplicate) {
  start_sim();
  open({}, 1000ms);
  std::vector<std::string> symbols;
  for (const auto& spec : sim_->symbols().all()) {
    if (symbols.size() == 50) break;
    symbols.push_back(spec.name);
  }
  ASSERT_EQ(symbols.size(), 50u);
  struct Started {
    std::string symbol;
    protocol::ControlMessage start;
    bool stored = false;  // with its connector
  };
  std::vector<Started> jobs;
  for (const auto& s : symbols) {
    for (const char* type : {"ws_trades", "ws_candles_1m"}) {
      const auto parsed_type = *protocol::parse_workflow_type(type);
      auto id = protocol::make_workflow_id(s, parsed_type, kBase, fmt::format("{:06x}", next_suffix_++));
      ASSERT_TRUE(id) << id.status().to_string();
      protocol::ControlMessage m = testing::make_start(*id, "loader-ws", type);
      m.symbol = s;
      m.time_range = std::to_string(kBase) + ":";
      auto collection = protocol::collection_name(s, parsed_type, kBase);
      ASSERT_TRUE(collection) << collection.status().to_string();
      m.collection_name = *collection;
      m.kafka_topic = protocol::data_topic(m.queue_id);
      const int64_t offset = testing::publish_command(env_.bus(), m);
      ASSERT_TRUE(launcher_->launch(testing::spec_for(m, offset)));
      const bool with_connector = jobs.size() < 2 * kStoredSymbols;
      jobs.push_back({s, m, with_connector});
      if (!with_connector) continue;
      // Its connector: the data topic into the collection, drained once the loader stopped.
      ASSERT_TRUE(env_.store().create_collection(m.collection_name));
      protocol::ControlMessage c = m;
      c.target = "arango-connector";
      c.telemetry_id = protocol::telemetry_id(c.target, c.queue_id);
      c.extra["upstream"] = protocol::Json::array({m.telemetry_id});
      const int64_t connector_offset = testing::publish_command(env_.bus(), c);
      ASSERT_TRUE(launcher_->launch(testing::spec_for(c, connector_offset)));
    }
  }
  // About four minutes of market with the connection dropped three times under the loaders.
  std::this_thread::sleep_for(3000ms);
  for (int i = 0; i < 3; ++i) {
    sim_->streams().drop_all();
    std::this_thread::sleep_for(3000ms);
  }
  const auto hub = hub_->stats();
  EXPECT_GE(hub.disconnects, 3);
  EXPECT_EQ(hub.open_connections, 1);  // 100 streams fit one connection
  for (const auto& j : jobs) testing::publish_command(env_.bus(), testing::make_stop(j.start.queue_id));
  ASSERT_TRUE(launcher_->wait_idle(120s));

  // Every job's events, read once (the topic holds thousands of `loading` events by now).
  std::map<std::string, std::vector<protocol::EventMessage>> events_of;
  for (auto& raw : testing::read_topic(env_.bus(), kEventsTopic)) {
    auto event = protocol::parse_event_message(raw);
    if (event) events_of[event->producer].push_back(std::move(event).value());
  }
  int64_t gaps_repaired = 0;
  size_t index = 0;
  for (const auto& j : jobs) {
    // Documents are compared for every fourth symbol (the generator is slow under ASan); ids and minutes for
    // all.
    const bool compare = (index++ / 2) % 4 == 0;
    const std::string& queue_id = j.start.queue_id;
    const auto& events = events_of[j.start.telemetry_id];
    ASSERT_FALSE(events.empty()) << queue_id;
    EXPECT_EQ(events.back().status, WorkflowStatus::kStopped) << events.back().message;
    for (const auto& ev : events) {
      if (auto g = ev.extra_field<int64_t>("repaired_gaps"); g && g->has_value()) {
        gaps_repaired = std::max(gaps_repaired, **g);
      }
    }
    // Each key exactly once on the data topic: nothing published twice.
    const auto keys = topic_keys(j.start.kafka_topic);
    for (const auto& [k, n] : keys)
      ASSERT_EQ(n, 1) << queue_id << ": key " << k << " published " << n << " times";
    std::map<int64_t, std::string> got;
    if (j.stored) {
      const auto& connector_events = events_of[protocol::telemetry_id("arango-connector", queue_id)];
      ASSERT_FALSE(connector_events.empty()) << queue_id;
      EXPECT_TRUE(protocol::is_terminal(connector_events.back().status)) << connector_events.back().message;
      // The store holds every published record.
      got = stored_by_id(j.start.collection_name);
      EXPECT_EQ(got.size(), keys.size()) << queue_id << ": published records missing from the store";
    } else {
      auto info = env_.bus().describe_topic(j.start.kafka_topic);
      ASSERT_TRUE(info) << queue_id;
      bus::FetchBatch batch;
      for (const auto& p : info->partitions) {
        PartitionTail tail(env_.bus(), j.start.kafka_topic, p.partition, p.log_start_offset);
        while (tail.position() < p.log_end_offset) {
          if (!tail.next(0ms, batch) || batch.empty()) break;
          for (const auto& r : batch) got.emplace(std::stoll(std::string(r.key)), std::string(r.value));
        }
      }
    }
    // Four minutes of market: at least two closed candles even when the jobs start late on a loaded machine.
    ASSERT_GE(got.size(), j.start.type == "ws_trades" ? 3u : 2u) << queue_id;
    const int64_t first = got.begin()->first, last = got.rbegin()->first;
    if (j.start.type == "ws_trades") {
      EXPECT_EQ(static_cast<int64_t>(got.size()), last - first + 1)
          << queue_id << ": a hole in the trade ids";
      if (compare) expect_same(got, expected_trades(j.symbol, first, last), queue_id);
    } else {
      EXPECT_EQ(static_cast<int64_t>(got.size()), (last - first) / 60'000 + 1)
          << queue_id << ": a missing minute";
      if (compare) expect_same(got, expected_candles(j.symbol, first, last), queue_id);
    }
  }
  EXPECT_GT(gaps_repaired, 0);  // the drops made holes, and REST filled them
}

TEST_F(WsLoaderTest, MalformedFramesAreDeadLetteredAndTheirTradesRepaired) {
  sim::StreamFaultOptions faults;
  faults.malformed_rate = 0.05;
  start_sim(faults);
  open();
  WorkflowState w = start_live("BTCUSDT", "ws_trades");
  std::this_thread::sleep_for(3s);
  WorkflowState done = stop_and_wait(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kStopped) << done.error;

  const int64_t bad = static_cast<int64_t>(sim_->streams().stats().malformed);
  ASSERT_GT(bad, 0);
  // Every malformed frame is on the dead-letter topic (the ones after the loader stopped never arrived).
  const int64_t dead = topic_size(protocol::dead_letter_topic(w.queue_id));
  EXPECT_GT(dead, 0);
  EXPECT_LE(dead, bad);
  // The trades those frames carried were repaired from REST: no hole, nothing twice, all stored.
  auto got = stored_by_id(done.collection_name);
  ASSERT_GT(got.size(), 10u);
  EXPECT_EQ(static_cast<int64_t>(got.size()), got.rbegin()->first - got.begin()->first + 1);
  EXPECT_EQ(static_cast<int64_t>(got.size()), topic_size(protocol::data_topic(w.queue_id)));
  expect_same(got, expected_trades("BTCUSDT", got.begin()->first, got.rbegin()->first), "BTCUSDT trades");
}

// The exchange closes connections after 2 s; the hub replaces each after 0.8 s with an overlapping one, so
// the stream never breaks: renewals, no disconnect, and the overlap's duplicates are skipped (each id once).
TEST_F(WsLoaderTest, ConnectionsAreRenewedWithOverlapBeforeTheExchangeClosesThem) {
  start_sim({}, 2000ms);
  loaders::StreamHubOptions hub_options;
  hub_options.renew_after = 800ms;
  hub_options.renew_overlap = 300ms;
  open(hub_options);
  protocol::ControlMessage m =
      testing::make_start("wf-btcusdt-ws_trades-20240802-00renw", "loader-ws", "ws_trades");
  m.symbol = "BTCUSDT";
  m.time_range = std::to_string(kBase) + ":";
  const int64_t offset = testing::publish_command(env_.bus(), m);
  ASSERT_TRUE(launcher_->launch(testing::spec_for(m, offset)));
  std::this_thread::sleep_for(4s);
  testing::publish_command(env_.bus(), testing::make_stop(m.queue_id));
  ASSERT_TRUE(launcher_->wait_idle(60s));
  const auto hub = hub_->stats();
  EXPECT_GE(hub.renewals, 3);
  EXPECT_EQ(hub.disconnects, 0);  // never cut by the exchange's lifetime
  auto keys = topic_keys(m.kafka_topic);
  ASSERT_GT(keys.size(), 10u);
  for (const auto& [k, n] : keys) ASSERT_EQ(n, 1) << "trade " << k << " published " << n << " times";
  std::set<int64_t> ids;
  for (const auto& [k, n] : keys) ids.insert(std::stoll(k));
  EXPECT_EQ(static_cast<int64_t>(ids.size()), *ids.rbegin() - *ids.begin() + 1) << "a hole in the trade ids";
}

// Aggregate trades through the manager and the connector: two drops, then `stop` -> `stopped`, and the store
// holds every aggregate trade between the first and the last once, equal to /api/v3/aggTrades.
TEST_F(WsLoaderTest, AggregateTradesThroughTheManagerSurviveDrops) {
  start_sim();
  open();
  WorkflowState w = start_live("ETHUSDT", "ws_agg_trades");
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(1500ms);
    sim_->streams().drop_all();
  }
  std::this_thread::sleep_for(1500ms);
  WorkflowState done = stop_and_wait(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kStopped) << done.error;
  auto got = stored_by_id(done.collection_name);
  ASSERT_GT(got.size(), 10u);
  const int64_t first = got.begin()->first, last = got.rbegin()->first;
  EXPECT_EQ(static_cast<int64_t>(got.size()), last - first + 1) << "a hole in the aggregate trade ids";
  EXPECT_EQ(static_cast<int64_t>(got.size()), topic_size(protocol::data_topic(w.queue_id)));
  const sim::SymbolMarket& m = *sim_->market().find("ETHUSDT");
  std::string body = "[";
  auto page = m.agg_trades_from_id(first, static_cast<int>(last - first + 1), clock_());
  for (size_t i = 0; i < page.size(); ++i) {
    if (i > 0) body += ',';
    m.append_agg_trade_json(body, page[i]);
  }
  body += ']';
  std::vector<protocol::AggTrade> parsed;
  ASSERT_TRUE(parser_.parse_agg_trades(body, "ETHUSDT", parsed));
  std::map<int64_t, std::string> want;
  for (const auto& a : parsed) {
    std::string d;
    protocol::append_document(a, d);
    want.emplace(a.agg_trade_id, std::move(d));
  }
  expect_same(got, want, "ETHUSDT aggregate trades");
}

}  // namespace
}  // namespace sf::services
