// The REST loader through the real manager (QueueManager + InProcessLauncher + the built-in jobs) against a
// real ExchangeSim on 127.0.0.1:0, with the embedded bus and RocksDB in a temporary directory: the whole flow
// from `POST /queues/start` to documents in the store. Stored documents are compared with documents built
// from the simulator's own market data.
#include "services/loaders/rest_loader.h"

#include <gtest/gtest.h>

#include <map>

#include "exchange/sim/exchange_sim.h"
#include "exchange/sim/intervals.h"
#include "protocol/records.h"
#include "services/connector/arango_connector_job.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/tests/loader_test_util.h"
#include "services/manager/queue_manager.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
namespace sim = exchange::sim;

constexpr int64_t kAug1 = 1722470400000;  // 2024-08-01T00:00:00Z
constexpr int64_t kDayMs = 86'400'000;

// A clock running `rate` times faster than real time from `base` (shared by the simulator and the loader's
// weight budget, so a "minute" of the exchange's weight limit passes in 60/rate real seconds).
std::function<int64_t()> fast_clock(int64_t base, double rate) {
  const auto t0 = std::chrono::steady_clock::now();
  return [t0, base, rate] {
    const auto real =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return base + static_cast<int64_t>(real * rate);
  };
}

class RestLoaderTest : public testing::LoaderTest {
 protected:
  // The simulator; `clock` empty = the system clock.
  void start_sim(sim::ExchangeSimOptions o = {}) {
    o.listen = "127.0.0.1:0";
    sim_ = std::make_unique<sim::ExchangeSim>(std::move(o));
    ASSERT_TRUE(sim_->start());
  }

  // The manager with the built-in jobs; `loader` replaces the built-in REST loader (custom options).
  void open(std::optional<RestLoaderOptions> loader = std::nullopt, int32_t data_partitions = 2) {
    if (loader) {
      registry_.add(protocol::Worker::kRestLoader,
                    [opts = *loader] { return std::make_unique<RestLoaderJob>(opts); });
    }
    open_manager([this](JobEnvironment& e) { e.settings.exchange_rest_url = sim_->base_url(); },
                 data_partitions);
  }
  void close() { close_manager(); }

  // The documents the loader should produce, built from the simulator's market data through the same
  // REST JSON and parser.
  std::map<std::string, std::string> expected_candles(const std::string& symbol, const std::string& interval,
                                                      int64_t start, int64_t end) {
    const sim::SymbolMarket& m = *sim_->market().find(symbol);
    sim::KlineQuery q;
    q.interval = *sim::parse_interval(interval);
    q.end_time = end - 1;
    q.limit = 1000;
    std::map<std::string, std::string> out;
    std::vector<protocol::Kline> parsed;
    for (int64_t t = start;;) {
      q.start_time = t;
      auto page = m.klines(q, sim_->now_ms());
      if (page.empty()) break;
      std::string body = "[";
      for (size_t i = 0; i < page.size(); ++i) {
        if (i > 0) body += ',';
        m.append_kline_json(body, page[i]);
      }
      body += ']';
      EXPECT_TRUE(parser_.parse_klines(body, symbol, interval, parsed));
      for (const auto& k : parsed) out.emplace(protocol::record_key(k), document(k));
      t = sim::interval_next(q.interval, page.back().open_time);
    }
    return out;
  }
  std::map<std::string, std::string> expected_agg_trades(const std::string& symbol, int64_t start,
                                                         int64_t end) {
    const sim::SymbolMarket& m = *sim_->market().find(symbol);
    const int64_t now = sim_->now_ms();
    std::map<std::string, std::string> out;
    std::vector<protocol::AggTrade> parsed;
    for (int64_t id = m.agg_trades_before(start, now), stop = m.agg_trades_before(end, now); id < stop;) {
      auto page = m.agg_trades_from_id(id, static_cast<int>(std::min<int64_t>(1000, stop - id)), now);
      std::string body = "[";
      for (size_t i = 0; i < page.size(); ++i) {
        if (i > 0) body += ',';
        m.append_agg_trade_json(body, page[i]);
      }
      body += ']';
      EXPECT_TRUE(parser_.parse_agg_trades(body, symbol, parsed));
      for (const auto& a : parsed) out.emplace(protocol::record_key(a), document(a));
      id = page.back().id + 1;
    }
    return out;
  }
  std::map<std::string, std::string> expected_trades(const std::string& symbol, int64_t start, int64_t end) {
    const sim::SymbolMarket& m = *sim_->market().find(symbol);
    const int64_t now = sim_->now_ms();
    std::map<std::string, std::string> out;
    std::vector<protocol::Trade> parsed;
    for (int64_t id = m.trades_before(start, now), stop = m.trades_before(end, now); id < stop;) {
      auto page = m.trades_from_id(id, static_cast<int>(std::min<int64_t>(1000, stop - id)), now);
      std::string body = "[";
      for (size_t i = 0; i < page.size(); ++i) {
        if (i > 0) body += ',';
        m.append_trade_json(body, page[i]);
      }
      body += ']';
      EXPECT_TRUE(parser_.parse_trades(body, symbol, parsed));
      for (const auto& t : parsed) out.emplace(protocol::record_key(t), document(t));
      id = page.back().id + 1;
    }
    return out;
  }
  template <typename R>
  static std::string document(const R& r) {
    std::string d;
    protocol::append_document(r, d);
    return d;
  }

  void expect_equal_documents(const std::map<std::string, std::string>& got,
                              const std::map<std::string, std::string>& want) {
    EXPECT_EQ(got.size(), want.size());
    size_t shown = 0;
    for (const auto& [key, doc] : want) {
      auto it = got.find(key);
      if (it == got.end()) {
        if (shown++ < 5) ADD_FAILURE() << "missing " << key;
      } else if (it->second != doc) {
        if (shown++ < 5) ADD_FAILURE() << "key " << key << "\n got  " << it->second << "\n want " << doc;
      }
    }
    for (const auto& [key, doc] : got) {
      if (!want.count(key) && shown++ < 5) ADD_FAILURE() << "unexpected " << key << ": " << doc;
    }
  }

  // The loader's lifecycle on queue-events: started, loading..., then its terminal status.
  void expect_lifecycle(const WorkflowState& w, WorkflowStatus terminal) {
    const ServiceState& l = loader(w);
    auto events = testing::read_events(env_.bus(), w.queue_id, l.telemetry_id);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.front().event.status, WorkflowStatus::kStarted);
    EXPECT_EQ(events.back().event.status, terminal);
    EXPECT_TRUE(events.back().event.is_finished());
    for (size_t i = 1; i + 1 < events.size(); ++i) {
      EXPECT_EQ(events[i].event.status, WorkflowStatus::kLoading);
      EXPECT_FALSE(events[i].event.is_finished());
    }
    for (const char* field : {"\"queue_id\"", "\"producer\"", "\"symbol\"", "\"type\"", "\"status\"",
                              "\"message\"", "\"records_written\"", "\"finished\"", "\"timestamp\""}) {
      EXPECT_NE(events.back().raw.find(field), std::string::npos) << field << " in " << events.back().raw;
    }
  }

  std::unique_ptr<sim::ExchangeSim> sim_;
  protocol::RecordParser parser_;
};

TEST_F(RestLoaderTest, OneDayOf5mCandlesIsExactlyTheSimsCandlesAndARerunChangesNothing) {
  start_sim();
  open();
  WorkflowState w = start("BTCUSDT", "api_candles_5m", "2024-08-01:2024-08-02");
  EXPECT_EQ(w.services[0].telemetry_id, "loader-producer__a1b2c3");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  EXPECT_EQ(done.records_written, 288);
  EXPECT_EQ(loader(done).records_written, 288);
  EXPECT_NE(loader(done).message.find("Published 288 records"), std::string::npos) << loader(done).message;
  EXPECT_NE(loader(done).message.find("429s: 0, 418s: 0"), std::string::npos) << loader(done).message;
  const auto want = expected_candles("BTCUSDT", "5m", kAug1, kAug1 + kDayMs);
  ASSERT_EQ(want.size(), 288u);
  expect_equal_documents(stored(w.collection_name), want);
  expect_lifecycle(done, WorkflowStatus::kCompleted);

  // The same workflow again: a new workflow, the same collection, still 288 documents.
  WorkflowState again = start("BTCUSDT", "api_candles_5m", "2024-08-01:2024-08-02");
  EXPECT_NE(again.queue_id, w.queue_id);
  EXPECT_EQ(again.collection_name, w.collection_name);
  WorkflowState done_again = finish(again.queue_id);
  EXPECT_EQ(done_again.status, WorkflowStatus::kCompleted) << done_again.error;
  EXPECT_EQ(loader(done_again).records_written, 288);
  EXPECT_EQ(docs(w.collection_name), 288u);

  const std::string metrics = render_metrics(*metrics_);
  for (const char* name : {"streamforge_loader_requests_total", "streamforge_loader_request_weight_total",
                           "streamforge_loader_rate_limited_total", "streamforge_loader_retries_total",
                           "streamforge_loader_records_published_total{loader=\"api\"} 576"}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  }
}

TEST_F(RestLoaderTest, TwoDaysOf1mCrossThePageLimitAndATimedRangeIsExact) {
  start_sim();
  open();
  WorkflowState w = start("ETHUSDT", "api_candles_1m", "2024-08-01:2024-08-03");
  WorkflowState timed = start("BTCUSDT", "api_candles_1m", "2024-08-01T10:30:00Z:2024-08-01T12:00:00Z");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  EXPECT_EQ(docs(w.collection_name), 2880u);
  expect_equal_documents(stored(w.collection_name),
                         expected_candles("ETHUSDT", "1m", kAug1, kAug1 + 2 * kDayMs));
  for (const auto& [key, n] : topic_keys(w.kafka_topic)) EXPECT_EQ(n, 1) << key;

  WorkflowState done_timed = finish(timed.queue_id);
  ASSERT_EQ(done_timed.status, WorkflowStatus::kCompleted) << done_timed.error;
  const int64_t from = kAug1 + 10 * 3'600'000 + 30 * 60'000;
  const int64_t to = kAug1 + 12 * 3'600'000;
  auto got = stored(timed.collection_name);
  EXPECT_EQ(got.size(), 90u);
  EXPECT_EQ(got.begin()->first, std::to_string(from));
  expect_equal_documents(got, expected_candles("BTCUSDT", "1m", from, to));
}

TEST_F(RestLoaderTest, MonthlyCandlesFollowTheCalendar) {
  start_sim();
  open();
  WorkflowState w = start("BTCUSDT", "api_candles_1M", "2024-01-01:2024-07-01");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  auto got = stored(w.collection_name);
  EXPECT_EQ(got.size(), 6u);
  EXPECT_EQ(got.begin()->first, "1704067200000");  // 2024-01-01
  EXPECT_TRUE(got.count("1717200000000"));         // 2024-06-01
  expect_equal_documents(got, expected_candles("BTCUSDT", "1M", 1704067200000, 1719792000000));
}

TEST_F(RestLoaderTest, AnHourOfAggTradesHasEveryIdExactlyOnce) {
  start_sim();
  open();
  WorkflowState w = start("SOLUSDT", "api_agg_trades", "2024-08-01T10:00:00Z:2024-08-01T11:00:00Z");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  const auto want = expected_agg_trades("SOLUSDT", kAug1 + 10 * 3'600'000, kAug1 + 11 * 3'600'000);
  ASSERT_GT(want.size(), 1000u);  // several pages
  expect_equal_documents(stored(w.collection_name), want);
  EXPECT_EQ(loader(done).records_written, static_cast<int64_t>(want.size()));
  auto keys = topic_keys(w.kafka_topic);
  EXPECT_EQ(keys.size(), want.size());
  for (const auto& [key, n] : keys) EXPECT_EQ(n, 1) << key;
}

TEST_F(RestLoaderTest, AggTradesUnderTheOldOneHourWindowRule) {
  sim::ExchangeSimOptions o;
  o.agg_trades_max_window_ms = 3'600'000;
  start_sim(o);
  open();
  // SOLUSDT is listed on 2020-08-11: the first two hours are empty, so the hour-by-hour search moves on.
  WorkflowState w = start("SOLUSDT", "api_agg_trades", "2020-08-10T22:00:00Z:2020-08-11T00:20:00Z");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  const int64_t listing = 1597104000000;  // 2020-08-11T00:00:00Z
  const auto want = expected_agg_trades("SOLUSDT", listing - 2 * 3'600'000, listing + 20 * 60'000);
  ASSERT_GT(want.size(), 0u);
  expect_equal_documents(stored(w.collection_name), want);
}

TEST_F(RestLoaderTest, AFewMinutesOfTradesHaveEveryIdExactlyOnce) {
  start_sim();
  open();
  WorkflowState w = start("BTCUSDT", "api_trades", "2024-08-01T10:00:30Z:2024-08-01T10:03:00Z");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  const int64_t from = kAug1 + 10 * 3'600'000 + 30'000;
  const auto want = expected_trades("BTCUSDT", from, from + 150'000);
  ASSERT_GT(want.size(), 1000u);
  expect_equal_documents(stored(w.collection_name), want);
  for (const auto& [key, n] : topic_keys(w.kafka_topic)) EXPECT_EQ(n, 1) << key;
}

TEST_F(RestLoaderTest, ABadSymbolEndsTheWorkflowWithTheExchangesMessage) {
  start_sim();
  open();
  WorkflowState w = start("NOSUCHCOINUSDT", "api_candles_5m", "2024-08-01:2024-08-02");
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kError);
  EXPECT_NE(done.error.find("Invalid symbol."), std::string::npos) << done.error;
  EXPECT_EQ(done.error.rfind("loader-producer__", 0), 0u) << done.error;
  EXPECT_EQ(loader(done).status, WorkflowStatus::kError);
  expect_lifecycle(done, WorkflowStatus::kError);
}

TEST_F(RestLoaderTest, ARangeBeforeTheListingCompletesEmptySayingSo) {
  start_sim();
  open();
  // BTCUSDT is listed on 2017-08-17.
  for (const char* type : {"api_candles_1h", "api_agg_trades", "api_trades"}) {
    WorkflowState w = start("BTCUSDT", type, "2017-01-01:2017-01-02");
    WorkflowState done = finish(w.queue_id);
    EXPECT_EQ(done.status, WorkflowStatus::kCompleted) << type << ": " << done.error;
    EXPECT_EQ(done.records_written, 0) << type;
    EXPECT_NE(loader(done).message.find("Published 0 records: the exchange has no"), std::string::npos)
        << loader(done).message;
    EXPECT_NE(loader(done).message.find("before the symbol's listing"), std::string::npos);
    EXPECT_EQ(docs(w.collection_name), 0u);
  }
}

TEST_F(RestLoaderTest, ARangeReachingIntoThePresentLeavesTheOpenCandleOut) {
  const auto clock = fast_clock(kAug1 + 12 * 3'600'000 + 30'000, 1);  // the exchange's now: 12:00:30
  sim::ExchangeSimOptions o;
  o.clock = clock;
  start_sim(o);
  RestLoaderOptions lo;
  lo.budget =
      std::make_shared<loaders::WeightBudget>(loaders::WeightBudgetOptions{}, loaders::LoaderClock{clock});
  open(lo);
  WorkflowState w = start("BTCUSDT", "api_candles_1m", "2024-08-01T11:00:00Z:2024-08-01T13:00:00Z");
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  auto got = stored(w.collection_name);
  EXPECT_EQ(got.size(), 60u);  // 11:00 .. 11:59; the 12:00 candle is still open
  EXPECT_EQ(got.rbegin()->first, std::to_string(kAug1 + 11 * 3'600'000 + 59 * 60'000));
}

// A small budget (60 weight per exchange minute; the clock runs 30x, so a minute is 2 s) and faults: every
// record arrives, retries are counted, nothing is ever banned, and no window goes over the limit.
TEST_F(RestLoaderTest, SmallBudgetAndFaultsStillDeliverEveryRecordWithoutA418) {
  const auto clock = fast_clock(1'735'689'600'000, 30);  // from 2025-01-01
  sim::ExchangeSimOptions o;
  o.clock = clock;
  o.rate_limit.weight_limit = 60;
  o.faults = {.error_rate = 0.1, .malformed_rate = 0.1, .drop_rate = 0.05, .seed = 7};
  start_sim(o);
  RestLoaderOptions lo;
  lo.budget = std::make_shared<loaders::WeightBudget>(loaders::WeightBudgetOptions{},
                                                      loaders::LoaderClock{clock, 30});
  lo.retry.initial_backoff = 5ms;
  lo.retry.max_backoff = 50ms;
  open(lo);
  WorkflowState w = start("BTCUSDT", "api_candles_1m", "2024-08-01:2024-08-02", {{"page_limit", 100}});
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  EXPECT_EQ(docs(w.collection_name), 1440u);
  expect_equal_documents(stored(w.collection_name), expected_candles("BTCUSDT", "1m", kAug1, kAug1 + kDayMs));
  const std::string& message = loader(done).message;
  EXPECT_NE(message.find("418s: 0"), std::string::npos) << message;
  EXPECT_EQ(message.find(" 0 retries"), std::string::npos) << message;  // faults were met and retried
  EXPECT_EQ(lo.budget->limit(), 60);                                    // learnt from exchangeInfo
  for (const auto& [window, used] : lo.budget->used_by_window()) EXPECT_LE(used, 60) << "window " << window;
  EXPECT_NE(render_metrics(*metrics_).find("streamforge_loader_banned_total{loader=\"api\"} 0"),
            std::string::npos);
}

// The loader believes in 10x the weight the exchange allows: it meets 429s, waits each out as told, reports
// them, and never earns a 418.
TEST_F(RestLoaderTest, RateLimitedLoaderWaitsAsToldAndReportsThe429s) {
  const auto clock = fast_clock(1'735'689'600'000, 60);  // a minute per real second
  sim::ExchangeSimOptions o;
  o.clock = clock;
  o.rate_limit.weight_limit = 20;
  start_sim(o);
  RestLoaderOptions lo;
  lo.budget = std::make_shared<loaders::WeightBudget>(loaders::WeightBudgetOptions{},
                                                      loaders::LoaderClock{clock, 60});
  lo.weight_limit = 200;
  open(lo);
  WorkflowState w = start("BTCUSDT", "api_candles_1m", "2024-08-01:2024-08-02", {{"page_limit", 60}});
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  EXPECT_EQ(docs(w.collection_name), 1440u);
  const std::string& message = loader(done).message;
  EXPECT_EQ(message.find("429s: 0,"), std::string::npos) << message;
  EXPECT_NE(message.find("418s: 0"), std::string::npos) << message;
  for (const auto& [key, n] : topic_keys(w.kafka_topic)) EXPECT_EQ(n, 1) << key;
}

TEST_F(RestLoaderTest, RetriesAreBoundedThenTheWorkflowFailsNamingTheCause) {
  sim::ExchangeSimOptions o;
  o.faults = {.error_rate = 1.0};
  start_sim(o);
  RestLoaderOptions lo;
  lo.weight_limit = 6000;
  lo.budget = std::make_shared<loaders::WeightBudget>();
  lo.retry.initial_backoff = 1ms;
  open(lo);
  WorkflowState w = start("BTCUSDT", "api_candles_5m", "2024-08-01:2024-08-02",
                          {{"max_retries", 3}, {"max_backoff_ms", 5}});
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kError);
  EXPECT_NE(done.error.find("giving up after 3 attempts"), std::string::npos) << done.error;
  EXPECT_NE(done.error.find("klines BTCUSDT 5m"), std::string::npos) << done.error;
  EXPECT_NE(done.error.find("HTTP 50"), std::string::npos) << done.error;
  EXPECT_NE(done.error.find("2 retries"), std::string::npos) << done.error;
}

TEST_F(RestLoaderTest, StopMidBackfillEndsStoppedWithWhatWasPublishedStored) {
  sim::ExchangeSimOptions o;
  o.faults.latency_ms = 20;
  start_sim(o);
  open();
  WorkflowState w = start("BTCUSDT", "api_candles_1m", "2024-07-01:2024-08-01", {{"page_limit", 50}});
  ASSERT_TRUE(testing::wait_until([&] { return docs(w.collection_name) >= 200; }));
  ASSERT_TRUE(manager_->stop(w.queue_id));
  WorkflowState done = finish(w.queue_id);
  EXPECT_EQ(done.status, WorkflowStatus::kStopped);
  EXPECT_EQ(loader(done).status, WorkflowStatus::kStopped);
  EXPECT_NE(loader(done).message.find("stopped after"), std::string::npos) << loader(done).message;
  const auto keys = topic_keys(w.kafka_topic);
  EXPECT_LT(keys.size(), 31u * 1440);
  EXPECT_EQ(docs(w.collection_name), keys.size());
  EXPECT_EQ(loader(done).records_written, static_cast<int64_t>(keys.size()));
  expect_lifecycle(done, WorkflowStatus::kStopped);
}

TEST_F(RestLoaderTest, ARelaunchedLoaderContinuesAfterTheLastRecordOnTheTopic) {
  sim::ExchangeSimOptions o;
  o.faults.latency_ms = 10;
  start_sim(o);
  open();
  WorkflowState w = start("BTCUSDT", "api_candles_1m", "2024-08-01:2024-08-03", {{"page_limit", 100}});
  ASSERT_TRUE(testing::wait_until([&] { return docs(w.collection_name) >= 500; }));
  // The whole process goes down mid-backfill (manager, jobs, bus, store); the simulator stays.
  close();
  const auto before = topic_keys(w.kafka_topic);
  EXPECT_LT(before.size(), 2880u);
  env_.close();
  env_.open();
  open();
  WorkflowState done = finish(w.queue_id);
  ASSERT_EQ(done.status, WorkflowStatus::kCompleted) << done.error;
  EXPECT_EQ(docs(w.collection_name), 2880u);
  EXPECT_EQ(loader(done).records_written, 2880);
  const auto keys = topic_keys(w.kafka_topic);
  EXPECT_EQ(keys.size(), 2880u);
  for (const auto& [key, n] : keys) EXPECT_EQ(n, 1) << key;  // nothing published twice
  expect_equal_documents(stored(w.collection_name),
                         expected_candles("BTCUSDT", "1m", kAug1, kAug1 + 2 * kDayMs));
}

}  // namespace
}  // namespace sf::services
