// The embedded Bus through its public interface: topics, produce/fetch, partitioning, blocking fetch,
// concurrency, errors, fsync policies, segment roll and retention. Every storage test reopens what it wrote.
#include "bus/bus.h"

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "bus/tests/test_util.h"
#include "core/metrics.h"

namespace sf::bus {
namespace {

using namespace std::chrono_literals;
using testing::open_or_die;
using testing::options_for;
using testing::partitions;
using testing::read_all;
using testing::RecordSet;
using testing::TempDir;

TEST(BusTest, CreateListDescribeDeleteTopicsAndReopen) {
  TempDir tmp;
  {
    auto bus = open_or_die(options_for(tmp.path()));
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
    ASSERT_TRUE(info);
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
  auto bus = open_or_die(options_for(tmp.path()));
  EXPECT_EQ(*bus->list_topics(), (std::vector<std::string>{"a-topic_1", "fresh", "trades.btc"}));
  EXPECT_EQ(bus->describe_topic("trades.btc")->config.retention_ms, 3600000);
  EXPECT_EQ(bus->describe_topic("fresh")->config.partitions, 2);
}

TEST(BusTest, RejectsBadNamesAndConfigs) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
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

TEST(BusTest, ProduceFetchRoundTripContiguousAcrossReopen) {
  TempDir tmp;
  RecordSet first = RecordSet::make(100, "first-");
  RecordSet second = RecordSet::make(50, "second-");
  {
    auto bus = open_or_die(options_for(tmp.path()));
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
  }
  {
    auto bus = open_or_die(options_for(tmp.path()));
    auto values = read_all(*bus, "t", 0);
    ASSERT_EQ(values.size(), 101u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(values[i], "first-" + std::to_string(i));
    EXPECT_EQ(values[100], "first-0");
    auto r3 = bus->produce("t", second.records);
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->records.front().offset, 101) << "offsets continue after reopen";
  }
  auto bus = open_or_die(options_for(tmp.path()));
  auto values = read_all(*bus, "t", 0);
  ASSERT_EQ(values.size(), 151u);
  EXPECT_EQ(values[150], "second-49");
  // From the middle.
  auto tail = read_all(*bus, "t", 0, 120);
  ASSERT_EQ(tail.size(), 31u);
  EXPECT_EQ(tail[0], "second-19");
}

TEST(BusTest, RecordFieldsSurviveTheBus) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
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

TEST(BusTest, KeyedRecordsLandWhereKafkaPutsThem) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
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

TEST(BusTest, UnknownTopicIsNotFoundUnlessAutoCreate) {
  TempDir tmp;
  RecordSet rs = RecordSet::make(2, "x");
  {
    auto bus = open_or_die(options_for(tmp.path()));
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
  auto options = options_for(tmp.path());
  options.auto_create_topics = true;
  options.default_partitions = 3;
  auto bus = open_or_die(options);
  ASSERT_TRUE(bus->produce("auto", rs.records));
  EXPECT_EQ(bus->describe_topic("auto")->config.partitions, 3);
}

TEST(BusTest, SecondOpenOfTheSameDirectoryFails) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  auto second = open_embedded_bus(options_for(tmp.path()));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status().message();
  bus.reset();
  EXPECT_TRUE(open_embedded_bus(options_for(tmp.path()))) << "released on close";
}

TEST(BusTest, FetchLimitsAndOutOfRange) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
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
  o = {};
  o.max_bytes = 1;
  ASSERT_TRUE(bus->fetch("t", 0, 150, o, batch));
  EXPECT_EQ(batch.size(), 50u) << "at least the rest of one whole batch";
  ASSERT_TRUE(bus->fetch("t", 0, 300, {}, batch));
  EXPECT_TRUE(batch.empty()) << "at the end: empty, no error";
  Status s = bus->fetch("t", 0, 301, {}, batch);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("out of range"), std::string::npos) << s.message();
}

TEST(BusTest, BlockingFetchWakesOnProduceAndTimesOut) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", {}));
  FetchBatch batch;
  FetchOptions o;
  o.timeout = 150ms;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(bus->fetch("t", 0, 0, o, batch));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(batch.empty());
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 1s);

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
  const auto latency = std::chrono::nanoseconds(woke - produced_at.load());
  EXPECT_LT(latency, 50ms) << "woken by the append, not by a polling loop";
}

TEST(BusTest, ConcurrentProducersNeitherLoseNorDuplicateOffsets) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("c", partitions(3)));
  constexpr int kThreads = 4, kCalls = 60, kPerCall = 25;
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
  // A concurrent reader sees only whole batches.
  std::atomic<bool> done{false};
  std::thread reader([&] {
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
  bus.reset();
  bus = open_or_die(options_for(tmp.path()));
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

class FsyncPolicyTest : public ::testing::TestWithParam<FsyncPolicy> {};

TEST_P(FsyncPolicyTest, ProducedRecordsSurviveReopen) {
  TempDir tmp;
  auto options = options_for(tmp.path());
  options.fsync_policy = GetParam();
  options.fsync_interval_ms = 10;
  options.segment_bytes = 4096;  // rolls, so sealing runs under every policy
  auto metrics = make_metrics_registry();
  options.metrics = metrics;
  RecordSet rs = RecordSet::make(40, "r", 5);
  {
    auto bus = open_or_die(options);
    ASSERT_TRUE(bus->create_topic("t", partitions(2)));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(bus->produce("t", rs.records));
    ASSERT_TRUE(bus->sync());
    std::this_thread::sleep_for(30ms);
    const std::string text = render_metrics(*metrics);
    EXPECT_NE(text.find("streamforge_bus_records_appended_total{topic=\"t\"} 800"), std::string::npos)
        << text;
    EXPECT_NE(text.find("streamforge_bus_fsyncs_total"), std::string::npos);
  }
  auto bus = open_or_die(options);
  std::size_t total = 0;
  for (int32_t p = 0; p < 2; ++p) total += read_all(*bus, "t", p).size();
  EXPECT_EQ(total, 800u);
}

INSTANTIATE_TEST_SUITE_P(Policies, FsyncPolicyTest,
                         ::testing::Values(FsyncPolicy::kEveryBatch, FsyncPolicy::kInterval,
                                           FsyncPolicy::kNone),
                         [](const auto& info) { return std::string(fsync_policy_name(info.param)); });

TEST(BusTest, SegmentRollAndReadFromAnyOffset) {
  TempDir tmp;
  auto options = options_for(tmp.path());
  options.segment_bytes = 1000;
  options.index_interval_bytes = 256;
  {
    auto bus = open_or_die(options);
    ASSERT_TRUE(bus->create_topic("t", {}));
    for (int i = 0; i < 50; ++i) {
      RecordSet rs = RecordSet::make(7, "b" + std::to_string(i) + "-");
      ASSERT_TRUE(bus->produce("t", rs.records));
    }
  }
  int segments = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path() / "topics" / "t" / "0")) {
    segments += e.path().extension() == ".log";
  }
  EXPECT_GT(segments, 5);
  auto bus = open_or_die(options);
  FetchBatch batch;
  for (int64_t offset : {0, 1, 6, 7, 100, 173, 200, 349}) {
    FetchOptions o;
    o.max_records = 3;
    ASSERT_TRUE(bus->fetch("t", 0, offset, o, batch));
    ASSERT_FALSE(batch.empty());
    EXPECT_EQ(batch[0].offset, offset);
    EXPECT_EQ(batch[0].value, "b" + std::to_string(offset / 7) + "-" + std::to_string(offset % 7));
  }
  EXPECT_EQ(read_all(*bus, "t", 0).size(), 350u);
}

TEST(BusTest, RetentionBySizeAndAgeMovesLogStart) {
  TempDir tmp;
  auto options = options_for(tmp.path());
  options.segment_bytes = 2048;
  auto bus = open_or_die(options);
  TopicConfig by_size;
  by_size.retention_bytes = 5000;
  ASSERT_TRUE(bus->create_topic("size", by_size));
  TopicConfig by_age;
  by_age.retention_ms = 3600 * 1000;
  ASSERT_TRUE(bus->create_topic("age", by_age));
  RecordSet rs = RecordSet::make(20, "value-");
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(bus->produce("size", rs.records));
  auto info = bus->describe_topic("size")->partitions[0];
  EXPECT_GT(info.log_start_offset, 0) << "retention runs on roll";
  EXPECT_GE(info.size_bytes, 5000);
  EXPECT_LT(info.size_bytes, 5000 + 2 * 2048);
  FetchBatch batch;
  Status below = bus->fetch("size", 0, 0, {}, batch);
  EXPECT_EQ(below.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(below.message().find("out of range"), std::string::npos);
  EXPECT_EQ(read_all(*bus, "size", 0, info.log_start_offset).size(),
            static_cast<std::size_t>(600 - info.log_start_offset));

  RecordSet old = RecordSet::make(20, "old-");
  for (auto& r : old.records) r.timestamp_ms = 1000000;  // 1970
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus->produce("age", old.records));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus->produce("age", rs.records));
  auto age = bus->describe_topic("age")->partitions[0];
  EXPECT_GT(age.log_start_offset, 0);
  auto values = read_all(*bus, "age", 0, age.log_start_offset);
  ASSERT_FALSE(values.empty());
  int old_left = 0;
  for (const auto& v : values) old_left += v.starts_with("old-");
  EXPECT_LT(old_left, 200) << "old segments were deleted";
  bus.reset();
  bus = open_or_die(options);
  EXPECT_EQ(bus->describe_topic("size")->partitions[0].log_start_offset, info.log_start_offset);
}

TEST(BusTest, PeriodicRetentionWithoutRoll) {
  TempDir tmp;
  auto options = options_for(tmp.path());
  options.segment_bytes = 1024;
  options.retention_check_interval_ms = 20;
  auto bus = open_or_die(options);
  TopicConfig c;
  c.retention_ms = 1000;
  ASSERT_TRUE(bus->create_topic("r", c));
  RecordSet rs = RecordSet::make(10, "value-");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus->produce("r", rs.records));  // rolls, all segments young
  EXPECT_EQ(bus->describe_topic("r")->partitions[0].log_start_offset, 0);
  // No more appends (so no roll): the background pass must delete the segments once they are 1 s old.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int64_t start = 0;
  while (start == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    start = bus->describe_topic("r")->partitions[0].log_start_offset;
  }
  EXPECT_GT(start, 0);
  EXPECT_LT(start, 100) << "the active segment stays";
}

}  // namespace
}  // namespace sf::bus
