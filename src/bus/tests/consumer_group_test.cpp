// Consumer groups, embedded-only parts: torn commit records and topic deletion (the contract shared with the
// Kafka backend is in bus_contract_test.cpp).
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
