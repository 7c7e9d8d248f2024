// Consumer groups: durable commits, resume, auto_offset_reset, range assignment and rebalance, blocking poll.
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "bus/tests/test_util.h"

namespace sf::bus {
namespace {

using namespace std::chrono_literals;
using testing::open_or_die;
using testing::options_for;
using testing::partitions;
using testing::RecordSet;
using testing::TempDir;

std::unique_ptr<Consumer> join(Bus& bus, const std::string& group, const std::vector<std::string>& topics,
                               ConsumerOptions options = {}) {
  auto c = bus.subscribe(group, topics, options);
  EXPECT_TRUE(c) << c.status().to_string();
  return c ? std::move(*c) : nullptr;
}

// Polls until `n` records arrived or nothing came for a while; returns them as "partition:offset:value".
std::vector<std::string> drain(Consumer& c, std::size_t n) {
  std::vector<std::string> out;
  FetchBatch batch;
  while (out.size() < n) {
    Status s = c.poll(200ms, batch);
    EXPECT_TRUE(s) << s.to_string();
    if (!s || batch.empty()) break;
    for (const auto& r : batch) {
      out.push_back(std::to_string(r.partition) + ":" + std::to_string(r.offset) + ":" +
                    std::string(r.value));
    }
  }
  return out;
}

TEST(ConsumerGroupTest, CommitSurvivesReopenAndConsumerResumes) {
  TempDir tmp;
  RecordSet rs = RecordSet::make(100, "v");
  {
    auto bus = open_or_die(options_for(tmp.path()));
    ASSERT_TRUE(bus->create_topic("t", {}));
    ASSERT_TRUE(bus->produce("t", rs.records));
    ConsumerOptions o;
    o.max_poll_records = 30;
    auto c = join(*bus, "g", {"t"}, o);
    FetchBatch batch;
    ASSERT_TRUE(c->poll(1s, batch));
    ASSERT_EQ(batch.size(), 30u);
    EXPECT_EQ(batch[0].offset, 0);
    ASSERT_TRUE(c->commit());
    EXPECT_EQ(*bus->committed_offset("g", "t", 0), 30);
    ASSERT_TRUE(c->poll(1s, batch));  // polled but not committed: delivered again after the restart
    EXPECT_EQ(*c->position("t", 0), 60);
  }
  {
    auto bus = open_or_die(options_for(tmp.path()));
    EXPECT_EQ(*bus->committed_offset("g", "t", 0), 30);
    EXPECT_EQ(*bus->list_groups(), std::vector<std::string>{"g"});
    auto c = join(*bus, "g", {"t"});
    auto got = drain(*c, 70);
    ASSERT_EQ(got.size(), 70u);
    EXPECT_EQ(got.front(), "0:30:v30");
    EXPECT_EQ(got.back(), "0:99:v99");
    ASSERT_TRUE(c->commit(std::vector<TopicPartitionOffset>{{"t", 0, 90}}));
  }
  auto bus = open_or_die(options_for(tmp.path()));
  EXPECT_EQ(*bus->committed_offset("g", "t", 0), 90);
  EXPECT_FALSE(bus->committed_offset("g", "t", 1)->has_value());
  EXPECT_FALSE(bus->committed_offset("nobody", "t", 0)->has_value());
}

TEST(ConsumerGroupTest, NewGroupStartsPerAutoOffsetReset) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", {}));
  RecordSet old = RecordSet::make(10, "old");
  ASSERT_TRUE(bus->produce("t", old.records));
  auto earliest = join(*bus, "e", {"t"});
  ConsumerOptions latest_options;
  latest_options.auto_offset_reset = AutoOffsetReset::kLatest;
  auto latest = join(*bus, "l", {"t"}, latest_options);
  EXPECT_EQ(*latest->position("t", 0), 10);
  RecordSet fresh = RecordSet::make(5, "new");
  ASSERT_TRUE(bus->produce("t", fresh.records));
  EXPECT_EQ(drain(*earliest, 15).size(), 15u);
  auto got = drain(*latest, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got.front(), "0:10:new0");

  ConsumerOptions strict;
  strict.auto_offset_reset = AutoOffsetReset::kError;
  auto c = join(*bus, "s", {"t"}, strict);
  FetchBatch batch;
  EXPECT_EQ(c->poll(0ms, batch).code(), ErrorCode::kFailedPrecondition);
}

TEST(ConsumerGroupTest, MembersSplitPartitionsAndTakeOverWhenOneLeaves) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", partitions(5)));
  auto a = join(*bus, "g", {"t"});
  EXPECT_EQ(a->assignment().size(), 5u);
  const int64_t gen1 = a->generation();
  auto b = join(*bus, "g", {"t"});
  const auto as = a->assignment();
  const auto bs = b->assignment();
  EXPECT_GT(a->generation(), gen1);
  EXPECT_EQ(a->generation(), b->generation());
  // Range assignment: the first member (by id) gets the extra partition.
  ASSERT_EQ(as.size(), 3u);
  ASSERT_EQ(bs.size(), 2u);
  EXPECT_EQ(as[0].partition, 0);
  EXPECT_EQ(as[2].partition, 2);
  EXPECT_EQ(bs[0].partition, 3);
  EXPECT_EQ(bs[1].partition, 4);

  RecordSet rs = RecordSet::make(100, "v", 23);
  ASSERT_TRUE(bus->produce("t", rs.records));
  auto got_a = drain(*a, 1000);
  auto got_b = drain(*b, 1000);
  EXPECT_EQ(got_a.size() + got_b.size(), 100u);
  for (const auto& r : got_a) EXPECT_LT(r[0], '3');
  for (const auto& r : got_b) EXPECT_GE(r[0], '3');
  ASSERT_TRUE(a->commit());
  // b consumed but never committed; when it leaves, a takes over its partitions from their committed offsets.
  ASSERT_TRUE(b->close());
  FetchBatch batch;
  EXPECT_EQ(b->poll(0ms, batch).code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(a->assignment().size(), 5u);
  auto again = drain(*a, 1000);
  EXPECT_EQ(again.size(), got_b.size()) << "b's records are delivered again to a (at-least-once)";
  std::multiset<std::string> expect(got_b.begin(), got_b.end()), actual(again.begin(), again.end());
  EXPECT_EQ(actual, expect);
  b.reset();
  ASSERT_TRUE(a->commit());
  auto c = join(*bus, "g", {"t"});
  EXPECT_TRUE(drain(*c, 1000).empty()) << "everything was committed";
}

TEST(ConsumerGroupTest, CommitOfAnUnassignedPartitionIsRefused) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", partitions(2)));
  auto a = join(*bus, "g", {"t"});
  auto b = join(*bus, "g", {"t"});
  Status s = a->commit(std::vector<TopicPartitionOffset>{{"t", 1, 5}});
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition) << s.to_string();
  EXPECT_TRUE(b->commit(std::vector<TopicPartitionOffset>{{"t", 1, 5}}));
  EXPECT_EQ(a->seek("t", 1, 0).code(), ErrorCode::kFailedPrecondition);
}

TEST(ConsumerGroupTest, PollBlocksUntilDataAndWakesPromptly) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", partitions(2)));
  auto c = join(*bus, "g", {"t"});
  FetchBatch batch;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c->poll(150ms, batch));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(batch.empty());
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 1s);

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
  const auto latency = std::chrono::nanoseconds(woke - produced_at.load());
  EXPECT_LT(latency, 50ms);
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

TEST(ConsumerGroupTest, ConsumersInThreadsSeeEveryRecordOnce) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", partitions(4)));
  auto a = join(*bus, "g", {"t"});
  auto b = join(*bus, "g", {"t"});
  constexpr int kRecords = 2000;
  std::atomic<int> consumed{0};
  std::mutex mu;
  std::multiset<std::string> seen;
  auto run = [&](Consumer& c) {
    FetchBatch batch;
    while (consumed.load() < kRecords) {
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

TEST(ConsumerGroupTest, RetentionBelowCommittedOffsetResetsToEarliest) {
  TempDir tmp;
  auto options = options_for(tmp.path());
  options.segment_bytes = 1024;
  auto bus = open_or_die(options);
  TopicConfig c;
  c.retention_bytes = 2048;
  ASSERT_TRUE(bus->create_topic("t", c));
  RecordSet rs = RecordSet::make(10, "v");
  ASSERT_TRUE(bus->produce("t", rs.records));
  {
    auto consumer = join(*bus, "g", {"t"});
    ASSERT_EQ(drain(*consumer, 10).size(), 10u);
    ASSERT_TRUE(consumer->commit(std::vector<TopicPartitionOffset>{{"t", 0, 3}}));
  }
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(bus->produce("t", rs.records));
  const int64_t start = bus->describe_topic("t")->partitions[0].log_start_offset;
  ASSERT_GT(start, 3);
  auto consumer = join(*bus, "g", {"t"});
  auto got = drain(*consumer, 1000);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), "0:" + std::to_string(start) + ":v" + std::to_string(start % 10));
  EXPECT_EQ(got.size(), static_cast<std::size_t>(410 - start));
}

TEST(ConsumerGroupTest, TornCommitRecordIsDroppedOnReopen) {
  TempDir tmp;
  {
    auto bus = open_or_die(options_for(tmp.path()));
    ASSERT_TRUE(bus->create_topic("t", partitions(2)));
    auto c = join(*bus, "g", {"t"});
    ASSERT_TRUE(c->commit(std::vector<TopicPartitionOffset>{{"t", 0, 7}, {"t", 1, 8}}));
    ASSERT_TRUE(c->commit(std::vector<TopicPartitionOffset>{{"t", 0, 9}}));
  }
  const auto file = tmp.path() / "groups" / "g.offsets";
  {
    // A commit record torn by a crash: a length and CRC, then half its payload.
    std::ofstream out(file, std::ios::binary | std::ios::app);
    const char torn[] = {0, 0, 0, 40, 1, 2, 3, 4, 0, 0, 0, 1, 0, 1, 't'};
    out.write(torn, sizeof torn);
  }
  {
    auto bus = open_or_die(options_for(tmp.path()));
    EXPECT_EQ(*bus->committed_offset("g", "t", 0), 9);
    EXPECT_EQ(*bus->committed_offset("g", "t", 1), 8);
    auto c = join(*bus, "g", {"t"});
    ASSERT_TRUE(c->commit(std::vector<TopicPartitionOffset>{{"t", 1, 11}}));
  }
  auto bus = open_or_die(options_for(tmp.path()));
  EXPECT_EQ(*bus->committed_offset("g", "t", 0), 9);
  EXPECT_EQ(*bus->committed_offset("g", "t", 1), 11) << "appends after the repair are kept";
}

TEST(ConsumerGroupTest, DeletingATopicDropsItsOffsetsAndRebalances) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("a", {}));
  ASSERT_TRUE(bus->create_topic("b", {}));
  auto c = join(*bus, "g", {"a", "b"});
  EXPECT_EQ(c->assignment().size(), 2u);
  ASSERT_TRUE(c->commit(std::vector<TopicPartitionOffset>{{"a", 0, 0}, {"b", 0, 0}}));
  ASSERT_TRUE(bus->delete_topic("b"));
  EXPECT_EQ(c->assignment(), (std::vector<TopicPartition>{{"a", 0}}));
  EXPECT_FALSE(bus->committed_offset("g", "b", 0)->has_value());
  ASSERT_TRUE(bus->create_topic("b", {}));
  EXPECT_EQ(c->assignment().size(), 2u) << "a subscribed topic that appears is assigned";
  RecordSet rs = RecordSet::make(3, "again");
  ASSERT_TRUE(bus->produce("b", rs.records));
  EXPECT_EQ(drain(*c, 3).size(), 3u);
}

}  // namespace
}  // namespace sf::bus
