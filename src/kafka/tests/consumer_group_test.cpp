// librdkafka (rdkafka++) producers and high-level consumers against the broker: two consumers in one group
// share a 6-partition topic, one leaves mid-stream, together they read every message; after commits and a
// restart of broker and consumers nothing committed is read again.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestBroker;

std::unique_ptr<RdKafka::Conf> make_conf(const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) ADD_FAILURE() << k << ": " << error;
  }
  return conf;
}

// Produces `n` keyed messages "m<first>".."m<first+n-1>" with acks=all.
void produce(const std::string& address, const std::string& topic, int first, int n) {
  auto conf = make_conf({{"bootstrap.servers", address}, {"acks", "all"}, {"linger.ms", "5"}});
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  for (int i = first; i < first + n; ++i) {
    const std::string key = fmt::format("k{}", i % 97), value = fmt::format("m{}", i);
    for (;;) {
      auto rc = producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                  const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                                  nullptr);
      if (rc == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(10);
        continue;
      }
      ASSERT_EQ(rc, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(rc);
      break;
    }
    producer->poll(0);
  }
  ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->outq_len(), 0);
}

std::unique_ptr<RdKafka::KafkaConsumer> make_consumer(const std::string& address, const std::string& group) {
  auto conf = make_conf({{"bootstrap.servers", address},
                         {"group.id", group},
                         {"enable.auto.commit", "false"},
                         {"auto.offset.reset", "earliest"},
                         {"session.timeout.ms", "6000"},
                         {"heartbeat.interval.ms", "200"},
                         {"max.poll.interval.ms", "10000"},
                         {"fetch.wait.max.ms", "100"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  EXPECT_TRUE(consumer) << error;
  return consumer;
}

struct Seen {
  std::mutex mu;
  std::multiset<std::string> values;
  std::set<int32_t> partitions_of_survivor;
  void add(const std::string& v) {
    std::lock_guard lock(mu);
    values.insert(v);
  }
  std::size_t distinct() {
    std::lock_guard lock(mu);
    return std::set<std::string>(values.begin(), values.end()).size();
  }
};

// Consumes until `stop` (or `limit` messages), committing synchronously every `commit_every` messages and
// before returning; then closes (LeaveGroup).
void consume(RdKafka::KafkaConsumer& consumer, Seen& seen, std::atomic<bool>& stop, int limit,
             int commit_every, std::set<int32_t>* partitions = nullptr) {
  int count = 0, uncommitted = 0;
  while (!stop && count < limit) {
    std::unique_ptr<RdKafka::Message> msg(consumer.consume(100));
    if (msg->err() == RdKafka::ERR__TIMED_OUT || msg->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (msg->err() != RdKafka::ERR_NO_ERROR) {
      ADD_FAILURE() << "consume: " << msg->errstr();
      continue;
    }
    seen.add(std::string(static_cast<const char*>(msg->payload()), msg->len()));
    if (partitions != nullptr) partitions->insert(msg->partition());
    ++count;
    if (++uncommitted >= commit_every) {
      auto rc = consumer.commitSync();
      // A commit racing a rebalance may be refused; the next one covers it.
      if (rc != RdKafka::ERR_NO_ERROR && rc != RdKafka::ERR_REBALANCE_IN_PROGRESS &&
          rc != RdKafka::ERR_ILLEGAL_GENERATION && rc != RdKafka::ERR_UNKNOWN_MEMBER_ID) {
        ADD_FAILURE() << "commit: " << RdKafka::err2str(rc);
      }
      uncommitted = 0;
    }
  }
  if (uncommitted > 0) {
    EXPECT_EQ(consumer.commitSync(), RdKafka::ERR_NO_ERROR);
  }
  consumer.close();
}

TEST(ConsumerGroupTest, TwoConsumersShareSixPartitionsOneLeavesRestartResumesFromCommits) {
  TempDir tmp;
  constexpr int kFirst = 6000, kSecond = 600;
  Seen seen;
  {
    TestBroker broker(tmp.path());
    ASSERT_TRUE(broker.bus->create_topic("events", bus::TopicConfig{.partitions = 6}));

    auto c1 = make_consumer(broker.address(), "g1");
    auto c2 = make_consumer(broker.address(), "g1");
    ASSERT_TRUE(c1 && c2);
    ASSERT_EQ(c1->subscribe({"events"}), RdKafka::ERR_NO_ERROR);
    ASSERT_EQ(c2->subscribe({"events"}), RdKafka::ERR_NO_ERROR);
    std::atomic<bool> stop1{false}, stop2{false};
    std::set<int32_t> p1, p2;
    // c2 leaves after 1000 messages (mid-stream); c1 runs until every message was seen.
    std::thread t2([&] { consume(*c2, seen, stop2, 1000, 50, &p2); });
    std::thread t1([&] { consume(*c1, seen, stop1, 1 << 30, 50, &p1); });
    // Produce once both members own partitions: otherwise the first could read everything before the second
    // joins, and the test would not cover sharing.
    auto owns_partitions = [](RdKafka::KafkaConsumer& c) {
      std::vector<RdKafka::TopicPartition*> parts;
      const bool owns = c.assignment(parts) == RdKafka::ERR_NO_ERROR && !parts.empty();
      RdKafka::TopicPartition::destroy(parts);
      return owns;
    };
    const auto joined_by = std::chrono::steady_clock::now() + 30s;
    while (!(owns_partitions(*c1) && owns_partitions(*c2)) && std::chrono::steady_clock::now() < joined_by)
      std::this_thread::sleep_for(20ms);
    produce(broker.address(), "events", 0, kFirst);
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (seen.distinct() < static_cast<std::size_t>(kFirst) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    stop1 = true;
    stop2 = true;
    t1.join();
    t2.join();
    EXPECT_EQ(seen.distinct(), static_cast<std::size_t>(kFirst)) << "every message read";
    EXPECT_FALSE(p2.empty()) << "the second consumer got partitions";
    std::set<int32_t> all(p1.begin(), p1.end());
    all.insert(p2.begin(), p2.end());
    EXPECT_EQ(all.size(), 6u);
    // At-least-once: a rebalance may redeliver what was read but not yet committed (< 50 per partition).
    EXPECT_LE(seen.values.size() - kFirst, 6u * 50u * 2u) << "re-reads beyond the uncommitted batches";
    c1.reset();
    c2.reset();
    {
      // ListGroups + DescribeGroups, as tooling (librdkafka's rd_kafka_list_groups) sees them.
      auto conf = make_conf({{"bootstrap.servers", broker.address()}});
      std::string error;
      std::unique_ptr<RdKafka::Producer> admin(RdKafka::Producer::create(conf.get(), error));
      const struct rd_kafka_group_list* list = nullptr;
      ASSERT_EQ(rd_kafka_list_groups(admin->c_ptr(), "g1", &list, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
      ASSERT_EQ(list->group_cnt, 1);
      EXPECT_STREQ(list->groups[0].group, "g1");
      EXPECT_STREQ(list->groups[0].state, "Empty");
      EXPECT_EQ(list->groups[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
      rd_kafka_group_list_destroy(list);
    }
    for (int32_t p = 0; p < 6; ++p) {
      auto committed = broker.bus->committed_offset("g1", "events", p);
      ASSERT_TRUE(committed.has_value());
      ASSERT_TRUE(committed->has_value()) << "partition " << p;
      EXPECT_EQ(**committed, broker.bus->describe_topic("events")->partitions[p].log_end_offset);
    }
  }
  // Restart the broker and the consumers: only records produced after the last commit are read.
  TestBroker broker(tmp.path());
  produce(broker.address(), "events", kFirst, kSecond);
  Seen after;
  auto c3 = make_consumer(broker.address(), "g1");
  ASSERT_EQ(c3->subscribe({"events"}), RdKafka::ERR_NO_ERROR);
  std::atomic<bool> stop3{false};
  std::thread t3([&] { consume(*c3, after, stop3, 1 << 30, 100); });
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (after.distinct() < static_cast<std::size_t>(kSecond) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(500ms);  // anything re-read would show up now
  stop3 = true;
  t3.join();
  EXPECT_EQ(after.values.size(), static_cast<std::size_t>(kSecond)) << "nothing committed was read again";
  for (int i = kFirst; i < kFirst + kSecond; ++i) EXPECT_EQ(after.values.count(fmt::format("m{}", i)), 1u);
}

}  // namespace
}  // namespace sf::kafka
