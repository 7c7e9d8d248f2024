// The Bus contract through its public interface, run against both backends (backend_harness.h): topics,
// produce/fetch, partitioning, blocking fetch, concurrency, errors, consumer groups with durable commits,
// auto_offset_reset, range assignment and rebalance, blocking poll and wakeup. Every storage test reopens
// what it wrote. Kafka's group protocol is asynchronous, so assignments are awaited (immediate with the
// embedded bus) and "nothing more came" waits a little longer there.
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "bus/tests/backend_harness.h"
#include "bus/tests/test_util.h"

namespace sf::bus {
namespace {

using namespace std::chrono_literals;
using testing::Backend;
using testing::BackendBus;
using testing::options_for;
using testing::partitions;
using testing::read_all;
using testing::RecordSet;
using testing::TempDir;

class BusContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  BackendBus open(EmbeddedBusOptions options = {}) { return BackendBus(GetParam(), tmp_.path(), options); }
  bool kafka() const { return GetParam() != Backend::kEmbedded; }
  // How long "no more records" is waited for: Kafka needs a fetch round trip after each rebalance.
  std::chrono::milliseconds quiet() const { return kafka() ? 1500ms : 200ms; }
  // An upper bound for "woken by the event, not by a polling loop" (librdkafka's fetch.wait.max.ms is
  // 100 ms in the harness; a polling loop would show its period).
  std::chrono::milliseconds wake_latency() const { return kafka() ? 400ms : 50ms; }

  TempDir tmp_;
};

std::unique_ptr<Consumer> join(Bus& bus, const std::string& group, const std::vector<std::string>& topics,
                               ConsumerOptions options = {}) {
  auto c = bus.subscribe(group, topics, options);
  EXPECT_TRUE(c) << c.status().to_string();
  return c ? std::move(*c) : nullptr;
}

// Waits until the consumer owns `n` partitions (at once with the embedded bus, a rebalance with Kafka).
std::vector<TopicPartition> await_assignment(Consumer& c, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto a = c.assignment();
  while (a.size() != n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    a = c.assignment();
  }
  EXPECT_EQ(a.size(), n);
  return a;
}

// Polls until `n` records arrived or nothing came for `quiet`; returns them as "partition:offset:value".
std::vector<std::string> drain(Consumer& c, std::size_t n, std::chrono::milliseconds quiet) {
  std::vector<std::string> out;
  FetchBatch batch;
  while (out.size() < n) {
    Status s = c.poll(quiet, batch);
    EXPECT_TRUE(s) << s.to_string();
    if (!s || batch.empty()) break;
    for (const auto& r : batch) {
      out.push_back(std::to_string(r.partition) + ":" + std::to_string(r.offset) + ":" +
                    std::string(r.value));
    }
  }
  return out;
}

TEST_P(BusContractTest, CreateListDescribeDeleteTopicsAndReopen) {
  {
    auto bus = open();
    TopicConfig c = partitions(3);
    c.retention_ms = 3600000;
    ASSERT_TRUE(bus->create_topic("trades.btc", c));
    ASSERT_TRUE(bus->create_topic("a-topic_1", {}));
    ASSERT_TRUE(bus->create_topic("doomed", {}));
    EXPECT_EQ(bus->create_topic("doomed", {}).code(), ErrorCode::kAlreadyExists);
    EXPECT_TRUE(bus->ensure_topic("doomed", partitions(5))) << "idempotent";
    EXPECT_TRUE(bus->ensure_topic("fresh", partitions(2)));
    EXPECT_EQ(*bus->list_topics(), (std::vector<std::string>{"a-topic_1", "doomed", "fresh", "trades.btc"}));

    auto info = bus->describe_topic("trades.btc");
    ASSERT_TRUE(info) << info.status().to_string();
    EXPECT_EQ(info->config.partitions, 3);
    EXPECT_EQ(info->config.retention_ms, 3600000);
    EXPECT_EQ(info->config.segment_bytes, 256 << 20) << "resolved from the bus default";
    ASSERT_EQ(info->partitions.size(), 3u);
    EXPECT_EQ(info->partitions[2].log_end_offset, 0);

    RecordSet rs = RecordSet::make(3, "x");
    ASSERT_TRUE(bus->produce("doomed", rs.records));
    ASSERT_TRUE(bus->delete_topic("doomed"));
    EXPECT_EQ(bus->delete_topic("doomed").code(), ErrorCode::kNotFound);
    EXPECT_EQ(bus->describe_topic("doomed").status().code(), ErrorCode::kNotFound);
    ASSERT_TRUE(bus->create_topic("doomed", {})) << "a deleted name can be reused";
    EXPECT_EQ(bus->describe_topic("doomed")->partitions[0].log_end_offset, 0) << "and starts empty";
    ASSERT_TRUE(bus->delete_topic("doomed"));
  }
  auto bus = open();
  EXPECT_EQ(*bus->list_topics(), (std::vector<std::string>{"a-topic_1", "fresh", "trades.btc"}));
  EXPECT_EQ(bus->describe_topic("trades.btc")->config.retention_ms, 3600000);
  EXPECT_EQ(bus->describe_topic("fresh")->config.partitions, 2);
}

TEST_P(BusContractTest, RejectsBadNamesAndConfigs) {
  auto bus = open();
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "a/b", "sp ace", "ü", std::string(250, 'a')}) {
    Status s = bus->create_topic(bad, {});
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << "'" << bad << "': " << s.to_string();
  }
  EXPECT_TRUE(bus->create_topic(std::string(249, 'a'), {}));
  EXPECT_EQ(bus->create_topic("p0", partitions(0)).code(), ErrorCode::kInvalidArgument);
  TopicConfig c;
  c.retention_bytes = -7;
  EXPECT_EQ(bus->create_topic("r", c).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bus->subscribe("bad/group", {"r"}, {}).status().code(), ErrorCode::kInvalidArgument);
}

TEST_P(BusContractTest, ProduceFetchRoundTripContiguousAcrossReopen) {
  RecordSet first = RecordSet::make(100, "first-");
  RecordSet second = RecordSet::make(50, "second-");
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", {}));
  auto r1 = bus->produce("t", first.records);
  ASSERT_TRUE(r1) << r1.status().to_string();
  ASSERT_EQ(r1->records.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(r1->records[i].partition, 0);
    EXPECT_EQ(r1->records[i].offset, i);
  }
  auto r2 = bus->produce("t", std::span(first.records).subspan(0, 1));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->records[0].offset, 100);
  EXPECT_TRUE(bus->produce("t", std::span<const OutgoingRecord>{})) << "empty produce is fine";
  bus.reopen();
  auto values = read_all(*bus, "t", 0);
  ASSERT_EQ(values.size(), 101u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(values[i], "first-" + std::to_string(i));
  EXPECT_EQ(values[100], "first-0");
  auto r3 = bus->produce("t", second.records);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->records.front().offset, 101) << "offsets continue after reopen";
  bus.reopen();
  values = read_all(*bus, "t", 0);
  ASSERT_EQ(values.size(), 151u);
  EXPECT_EQ(values[150], "second-49");
  auto tail = read_all(*bus, "t", 0, 120);  // from the middle
  ASSERT_EQ(tail.size(), 31u);
  EXPECT_EQ(tail[0], "second-19");
}

TEST_P(BusContractTest, RecordFieldsSurviveTheBus) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", {}));
  const Header headers[] = {{"source", "binance"}, {"nil", "", true}};
  std::vector<OutgoingRecord> in(3);
  in[0].key = "BTCUSDT";
  in[0].value = "v0";
  in[0].timestamp_ms = 1722470400000;
  in[0].headers = headers;
  in[1].value = "";  // null key, empty value
  in[2].key = "";
  in[2].value_is_null = true;
  ASSERT_TRUE(bus->produce("t", in));
  FetchBatch batch;
  ASSERT_TRUE(bus->fetch("t", 0, 0, {}, batch));
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].topic, "t");
  EXPECT_EQ(batch[0].key, "BTCUSDT");
  EXPECT_EQ(batch[0].timestamp_ms, 1722470400000);
  ASSERT_EQ(batch[0].headers.size(), 2u);
  EXPECT_EQ(batch[0].headers[0].key, "source");
  EXPECT_EQ(batch[0].headers[0].value, "binance");
  EXPECT_TRUE(batch[0].headers[1].value_is_null);
  EXPECT_TRUE(batch[1].key_is_null);
  EXPECT_FALSE(batch[1].value_is_null);
  EXPECT_GT(batch[1].timestamp_ms, 1722470400000) << "0 means now";
  EXPECT_FALSE(batch[2].key_is_null);
  EXPECT_TRUE(batch[2].value_is_null);
  EXPECT_TRUE(batch[2].headers.empty());
}

TEST_P(BusContractTest, KeyedRecordsLandWhereKafkaPutsThem) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("k", partitions(4)));
  RecordSet rs = RecordSet::make(200, "v", /*key_mod=*/17);
  std::map<std::string, int32_t> partition_of;
  std::map<int32_t, std::vector<std::string>> expected;
  for (int round = 0; round < 2; ++round) {
    auto result = bus->produce("k", rs.records);
    ASSERT_TRUE(result);
    for (std::size_t i = 0; i < rs.records.size(); ++i) {
      const std::string key(*rs.records[i].key);
      const int32_t p = result->records[i].partition;
      EXPECT_EQ(p, default_partition(key, 4));
      auto [it, fresh] = partition_of.emplace(key, p);
      EXPECT_EQ(it->second, p) << "same key, same partition";
      expected[p].push_back(rs.values[i]);
    }
  }
  EXPECT_EQ(partition_of.size(), 17u);
  for (int32_t p = 0; p < 4; ++p)
    EXPECT_EQ(read_all(*bus, "k", p), expected[p]) << "order kept per partition";

  // Null keys: one partition per call (one batch), the next call the next partition.
  RecordSet nulls = RecordSet::make(10, "n");
  std::set<int32_t> used;
  for (int call = 0; call < 4; ++call) {
    auto result = bus->produce("k", nulls.records);
    ASSERT_TRUE(result);
    for (const auto& m : result->records) EXPECT_EQ(m.partition, result->records[0].partition);
    used.insert(result->records[0].partition);
  }
  EXPECT_EQ(used.size(), 4u);

  auto direct = bus->produce_to_partition("k", 3, rs.records);
  ASSERT_TRUE(direct);
  for (const auto& m : direct->records) EXPECT_EQ(m.partition, 3);
  EXPECT_EQ(bus->produce_to_partition("k", 4, rs.records).status().code(), ErrorCode::kNotFound);
}

TEST_P(BusContractTest, UnknownTopicIsNotFoundUnlessAutoCreate) {
  RecordSet rs = RecordSet::make(2, "x");
  {
    auto bus = open();
    FetchBatch batch;
    auto produced = bus->produce("nope", rs.records);
    EXPECT_EQ(produced.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(produced.status().message().find("'nope'"), std::string::npos);
    EXPECT_EQ(bus->fetch("nope", 0, 0, {}, batch).code(), ErrorCode::kNotFound);
    EXPECT_EQ(bus->describe_topic("nope").status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(bus->subscribe("g", {"nope"}, {}).status().code(), ErrorCode::kNotFound);
    ASSERT_TRUE(bus->create_topic("one", {}));
    EXPECT_EQ(bus->fetch("one", 1, 0, {}, batch).code(), ErrorCode::kNotFound);
    EXPECT_TRUE(bus->list_topics()->size() == 1) << "nothing was created by the failures";
  }
  EmbeddedBusOptions options;
  options.auto_create_topics = true;
  options.default_partitions = 3;
  auto bus = open(options);
  ASSERT_TRUE(bus->produce("auto", rs.records));
  EXPECT_EQ(bus->describe_topic("auto")->config.partitions, 3);
}

TEST_P(BusContractTest, FetchLimitsAndOutOfRange) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", {}));
  RecordSet rs = RecordSet::make(100, "v");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bus->produce("t", rs.records));
  FetchBatch batch;
  FetchOptions o;
  o.max_records = 5;
  ASSERT_TRUE(bus->fetch("t", 0, 98, o, batch));
  ASSERT_EQ(batch.size(), 5u);
  EXPECT_EQ(batch[0].offset, 98);
  EXPECT_EQ(batch[4].offset, 102) << "across a batch boundary";
  ASSERT_TRUE(bus->fetch("t", 0, 300, {}, batch));
  EXPECT_TRUE(batch.empty()) << "at the end: empty, no error";
  Status s = bus->fetch("t", 0, 301, {}, batch);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("out of range"), std::string::npos) << s.message();
}

TEST_P(BusContractTest, BlockingFetchWakesOnProduceAndTimesOut) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", {}));
  FetchBatch batch;
  FetchOptions o;
  o.timeout = 150ms;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(bus->fetch("t", 0, 0, o, batch));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(batch.empty());
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);

  std::atomic<int64_t> produced_at{0};
  std::thread producer([&] {
    std::this_thread::sleep_for(100ms);
    RecordSet rs = RecordSet::make(1, "hello");
    produced_at = std::chrono::steady_clock::now().time_since_epoch().count();
    ASSERT_TRUE(bus->produce("t", rs.records));
  });
  o.timeout = 10s;
  ASSERT_TRUE(bus->fetch("t", 0, 0, o, batch));
  const auto woke = std::chrono::steady_clock::now().time_since_epoch().count();
  producer.join();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].value, "hello0");
  EXPECT_LT(std::chrono::nanoseconds(woke - produced_at.load()), wake_latency())
      << "woken by the append, not by a polling loop";
}

TEST_P(BusContractTest, ConcurrentProducersNeitherLoseNorDuplicateOffsets) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("c", partitions(3)));
  constexpr int kThreads = 4, kCalls = 40, kPerCall = 25;
  std::vector<std::vector<RecordMetadata>> acked(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        RecordSet rs = RecordSet::make(kPerCall, "t" + std::to_string(t) + "c" + std::to_string(c) + "r", 7);
        auto result = bus->produce("c", rs.records);
        ASSERT_TRUE(result);
        acked[t].insert(acked[t].end(), result->records.begin(), result->records.end());
      }
    });
  }
  std::atomic<bool> done{false};
  std::thread reader([&] {  // a concurrent reader sees contiguous offsets
    FetchBatch batch;
    while (!done) {
      ASSERT_TRUE(bus->fetch("c", 0, 0, {}, batch));
      for (std::size_t i = 0; i < batch.size(); ++i) ASSERT_EQ(batch[i].offset, static_cast<int64_t>(i));
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  reader.join();

  std::set<std::pair<int32_t, int64_t>> all;
  for (const auto& v : acked) {
    for (const auto& m : v) EXPECT_TRUE(all.insert({m.partition, m.offset}).second) << "duplicate offset";
  }
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kCalls * kPerCall));
  bus.reopen();
  std::multiset<std::string> values;
  std::size_t total = 0;
  for (int32_t p = 0; p < 3; ++p) {
    auto vs = read_all(*bus, "c", p);  // checks contiguity
    total += vs.size();
    values.insert(vs.begin(), vs.end());
    EXPECT_EQ(static_cast<int64_t>(vs.size()), bus->describe_topic("c")->partitions[p].log_end_offset);
  }
  EXPECT_EQ(total, all.size());
  for (const auto& v : values) EXPECT_EQ(values.count(v), 1u) << v;
}

// --- consumer groups --------------------------------------------------------------------------------------

TEST_P(BusContractTest, CommitSurvivesReopenAndConsumerResumes) {
  RecordSet rs = RecordSet::make(100, "v");
  auto bus = open();
  {
    ASSERT_TRUE(bus->create_topic("t", {}));
    ASSERT_TRUE(bus->produce("t", rs.records));
    ConsumerOptions o;
    o.max_poll_records = 30;
    auto c = join(*bus, "g", {"t"}, o);
    FetchBatch batch;
    ASSERT_TRUE(c->poll(10s, batch));
    ASSERT_EQ(batch.size(), 30u);
    EXPECT_EQ(batch[0].offset, 0);
    ASSERT_TRUE(c->commit());
    EXPECT_EQ(*bus->committed_offset("g", "t", 0), 30);
    ASSERT_TRUE(c->poll(10s, batch));  // polled but not committed: delivered again after the restart
    EXPECT_EQ(*c->position("t", 0), 60);
  }
  bus.reopen();
  {
    EXPECT_EQ(*bus->committed_offset("g", "t", 0), 30);
    EXPECT_EQ(*bus->list_groups(), std::vector<std::string>{"g"});
    auto c = join(*bus, "g", {"t"});
    auto got = drain(*c, 70, quiet());
    ASSERT_EQ(got.size(), 70u);
    EXPECT_EQ(got.front(), "0:30:v30");
    EXPECT_EQ(got.back(), "0:99:v99");
    ASSERT_TRUE(c->commit(std::vector<TopicPartitionOffset>{{"t", 0, 90}}));
  }
  bus.reopen();
  EXPECT_EQ(*bus->committed_offset("g", "t", 0), 90);
  EXPECT_FALSE(bus->committed_offset("g", "t", 1)->has_value());
  EXPECT_FALSE(bus->committed_offset("nobody", "t", 0)->has_value());
}

TEST_P(BusContractTest, NewGroupStartsPerAutoOffsetReset) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", {}));
  RecordSet old = RecordSet::make(10, "old");
  ASSERT_TRUE(bus->produce("t", old.records));
  auto earliest = join(*bus, "e", {"t"});
  ConsumerOptions latest_options;
  latest_options.auto_offset_reset = AutoOffsetReset::kLatest;
  auto latest = join(*bus, "l", {"t"}, latest_options);
  EXPECT_EQ(*latest->position("t", 0), 10);
  if (kafka()) {
    // librdkafka resolves "latest" when it starts fetching: wait for that before producing more.
    FetchBatch none;
    ASSERT_TRUE(latest->poll(500ms, none));
  }
  RecordSet fresh = RecordSet::make(5, "new");
  ASSERT_TRUE(bus->produce("t", fresh.records));
  EXPECT_EQ(drain(*earliest, 15, quiet()).size(), 15u);
  auto got = drain(*latest, 5, quiet());
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got.front(), "0:10:new0");

  ConsumerOptions strict;
  strict.auto_offset_reset = AutoOffsetReset::kError;
  auto c = join(*bus, "s", {"t"}, strict);
  FetchBatch batch;
  EXPECT_EQ(c->poll(kafka() ? 10s : 0ms, batch).code(), ErrorCode::kFailedPrecondition);
}

TEST_P(BusContractTest, MembersSplitPartitionsAndTakeOverWhenOneLeaves) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", partitions(5)));
  auto a = join(*bus, "g", {"t"});
  EXPECT_EQ(a->assignment().size(), 5u);
  const int64_t gen1 = a->generation();
  auto b = join(*bus, "g", {"t"});
  await_assignment(*b, 2);
  const auto first = a->member_id() < b->member_id() ? a.get() : b.get();
  const auto second = first == a.get() ? b.get() : a.get();
  const auto fs = await_assignment(*first, 3);
  const auto ss = await_assignment(*second, 2);
  EXPECT_GT(a->generation(), gen1);
  // Range assignment: the first member by id gets the extra partition.
  ASSERT_EQ(fs.size(), 3u);
  ASSERT_EQ(ss.size(), 2u);
  EXPECT_EQ(fs[0].partition, 0);
  EXPECT_EQ(fs[2].partition, 2);
  EXPECT_EQ(ss[0].partition, 3);
  EXPECT_EQ(ss[1].partition, 4);

  RecordSet rs = RecordSet::make(100, "v", 23);
  ASSERT_TRUE(bus->produce("t", rs.records));
  auto got_a = drain(*a, 1000, quiet());
  auto got_b = drain(*b, 1000, quiet());
  EXPECT_EQ(got_a.size() + got_b.size(), 100u);
  const char a_low = first == a.get() ? '0' : '3', a_high = first == a.get() ? '2' : '4';
  for (const auto& r : got_a) EXPECT_TRUE(r[0] >= a_low && r[0] <= a_high) << r;
  ASSERT_TRUE(a->commit());
  // b consumed but never committed; when it leaves, a takes over its partitions from their committed offsets.
  ASSERT_TRUE(b->close());
  FetchBatch batch;
  EXPECT_EQ(b->poll(0ms, batch).code(), ErrorCode::kFailedPrecondition);
  await_assignment(*a, 5);
  auto again = drain(*a, got_b.size(), quiet());
  EXPECT_EQ(again.size(), got_b.size()) << "b's records are delivered again to a (at-least-once)";
  std::multiset<std::string> expect(got_b.begin(), got_b.end()), actual(again.begin(), again.end());
  EXPECT_EQ(actual, expect);
  b.reset();
  ASSERT_TRUE(a->commit());
  ASSERT_TRUE(a->close());
  auto c = join(*bus, "g", {"t"});
  EXPECT_TRUE(drain(*c, 1000, quiet()).empty()) << "everything was committed";
}

TEST_P(BusContractTest, CommitOfAnUnassignedPartitionIsRefused) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", partitions(2)));
  auto a = join(*bus, "g", {"t"});
  auto b = join(*bus, "g", {"t"});
  await_assignment(*a, 1);
  await_assignment(*b, 1);
  Consumer& owner_of_1 = b->assignment()[0].partition == 1 ? *b : *a;
  Consumer& other = &owner_of_1 == b.get() ? *a : *b;
  Status s = other.commit(std::vector<TopicPartitionOffset>{{"t", 1, 5}});
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition) << s.to_string();
  EXPECT_TRUE(owner_of_1.commit(std::vector<TopicPartitionOffset>{{"t", 1, 5}}));
  EXPECT_EQ(other.seek("t", 1, 0).code(), ErrorCode::kFailedPrecondition);
}

TEST_P(BusContractTest, PollBlocksUntilDataAndWakesPromptly) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", partitions(2)));
  auto c = join(*bus, "g", {"t"});
  FetchBatch batch;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->poll(150ms, batch));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(batch.empty());
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);

  std::atomic<int64_t> produced_at{0};
  std::thread producer([&] {
    std::this_thread::sleep_for(100ms);
    RecordSet rs = RecordSet::make(1, "wake", 1);
    produced_at = std::chrono::steady_clock::now().time_since_epoch().count();
    ASSERT_TRUE(bus->produce("t", rs.records));
  });
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->poll(10s, batch));
  const auto woke = std::chrono::steady_clock::now().time_since_epoch().count();
  producer.join();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_LT(std::chrono::nanoseconds(woke - produced_at.load()), wake_latency());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 90ms) << "it blocked rather than returning empty";

  // wakeup() from another thread interrupts a blocked poll.
  std::thread waker([&] {
    std::this_thread::sleep_for(50ms);
    c->wakeup();
  });
  t0 = std::chrono::steady_clock::now();
  Status s = c->poll(10s, batch);
  waker.join();
  EXPECT_EQ(s.code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_P(BusContractTest, ConsumersInThreadsSeeEveryRecordOnce) {
  auto bus = open();
  ASSERT_TRUE(bus->create_topic("t", partitions(4)));
  auto a = join(*bus, "g", {"t"});
  auto b = join(*bus, "g", {"t"});
  await_assignment(*a, 2);
  await_assignment(*b, 2);
  constexpr int kRecords = 2000;
  std::atomic<int> consumed{0};
  std::mutex mu;
  std::multiset<std::string> seen;
  auto run = [&](Consumer& c) {
    FetchBatch batch;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (consumed.load() < kRecords && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(c.poll(50ms, batch));
      std::lock_guard lock(mu);
      for (const auto& r : batch) seen.emplace(r.value);
      consumed += static_cast<int>(batch.size());
    }
  };
  std::thread ta([&] { run(*a); });
  std::thread tb([&] { run(*b); });
  for (int i = 0; i < kRecords; i += 100) {
    RecordSet rs = RecordSet::make(100, "r" + std::to_string(i) + "-", 31);
    ASSERT_TRUE(bus->produce("t", rs.records));
  }
  ta.join();
  tb.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kRecords));
  for (const auto& v : seen) ASSERT_EQ(seen.count(v), 1u) << v;
}

TEST_P(BusContractTest, RetentionBelowCommittedOffsetResetsToEarliest) {
  EmbeddedBusOptions options;
  options.segment_bytes = 1024;
  auto bus = open(options);
  TopicConfig c;
  c.retention_bytes = 2048;
  c.segment_bytes = 1024;
  ASSERT_TRUE(bus->create_topic("t", c));
  RecordSet rs = RecordSet::make(10, "v");
  ASSERT_TRUE(bus->produce("t", rs.records));
  {
    auto consumer = join(*bus, "g", {"t"});
    ASSERT_EQ(drain(*consumer, 10, quiet()).size(), 10u);
    ASSERT_TRUE(consumer->commit(std::vector<TopicPartitionOffset>{{"t", 0, 3}}));
  }
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(bus->produce("t", rs.records));
  const int64_t start = bus->describe_topic("t")->partitions[0].log_start_offset;
  ASSERT_GT(start, 3);
  auto consumer = join(*bus, "g", {"t"});
  auto got = drain(*consumer, 1000, quiet());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), "0:" + std::to_string(start) + ":v" + std::to_string(start % 10));
  EXPECT_EQ(got.size(), static_cast<std::size_t>(410 - start));
}

TEST(KafkaBusTest, UnreachableBootstrapAndBadPropertiesFailAtOpen) {
  KafkaBusOptions k;
  EXPECT_EQ(open_kafka_bus(k).status().code(), ErrorCode::kInvalidArgument) << "no bootstrap";
  k.bootstrap = "127.0.0.1:1";  // nothing listens there
  k.request_timeout = 1500ms;
  auto down = open_kafka_bus(k);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.status().code(), ErrorCode::kUnavailable) << down.status().to_string();
  EXPECT_NE(down.status().message().find("127.0.0.1:1"), std::string::npos) << down.status().message();
  k.config = {{"no.such.property", "1"}};
  auto bad = open_kafka_bus(k);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no.such.property"), std::string::npos) << bad.status().message();
  EXPECT_EQ(parse_kafka_property("=x").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*parse_kafka_property("sasl.password=a=b"),
            (std::pair<std::string, std::string>("sasl.password", "a=b")));
}

INSTANTIATE_TEST_SUITE_P(Backends, BusContractTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka, Backend::kKafkaSaslSsl),
                         [](const auto& info) { return testing::backend_name(info.param); });

}  // namespace
}  // namespace sf::bus
