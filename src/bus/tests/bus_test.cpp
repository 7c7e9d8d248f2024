// The embedded Bus, parts of its own: exclusive directory, byte limits of fetch, fsync policies, segment roll
// and retention (the contract shared with the Kafka backend is in bus_contract_test.cpp).
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
