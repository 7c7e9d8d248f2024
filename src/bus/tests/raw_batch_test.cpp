// The raw record-batch path of the Bus (append_raw_batches, fetch_raw, commit_group_offsets): what the
// Kafka-protocol broker uses. Batches are stored byte for byte apart from baseOffset; every test reopens.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "bus/record_batch.h"
#include "bus/tests/test_util.h"

namespace sf::bus {
namespace {

using namespace std::chrono_literals;
using testing::open_or_die;
using testing::options_for;
using testing::partitions;
using testing::RecordSet;
using testing::TempDir;

std::string encode(const RecordSet& set, int64_t base_offset = 999) {
  ByteBuffer buf;
  BatchEncodeOptions o;
  o.base_offset = base_offset;
  auto info = encode_batch(set.records, {}, 1700000000000, o, buf);
  EXPECT_TRUE(info.has_value());
  return std::string(buf.view());
}

TEST(RawBatchTest, AppendKeepsBytesRewritesBaseOffsetAndFetchReturnsThem) {
  TempDir tmp;
  auto a = RecordSet::make(3, "a", 2);
  auto b = RecordSet::make(2, "b", 2);
  const std::string batch_a = encode(a), batch_b = encode(b);
  {
    auto bus = open_or_die(options_for(tmp.path()));
    ASSERT_TRUE(bus->create_topic("t", partitions(2)));
    std::string both = batch_a + batch_b;
    auto first = bus->append_raw_batches("t", 1, both);
    ASSERT_TRUE(first.has_value()) << first.status().to_string();
    EXPECT_EQ(*first, 0);
    auto second = bus->append_raw_batches("t", 1, std::span<char>(both.data(), batch_a.size()));
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(*second, 5);
    // The typed read path decodes what was appended raw.
    FetchBatch fb;
    ASSERT_TRUE(bus->fetch("t", 1, 3, {}, fb));
    ASSERT_GE(fb.size(), 2u);
    EXPECT_EQ(fb[0].offset, 3);
    EXPECT_EQ(fb[0].value, "b0");
  }
  auto bus = open_or_die(options_for(tmp.path()));
  std::string out;
  Bus::RawFetchResult r;
  ASSERT_TRUE(bus->fetch_raw("t", 1, 4, 1, 0ms, out, &r));
  EXPECT_EQ(r.log_end_offset, 8);
  EXPECT_FALSE(r.out_of_range);
  // The batch holding offset 4 is the second one (base 3): returned whole, although above max_bytes.
  ASSERT_EQ(out.size(), batch_b.size());
  auto h = parse_batch_header(out);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->base_offset, 3);
  EXPECT_EQ(out.substr(8, 4), batch_b.substr(8, 4));
  EXPECT_EQ(out.substr(16), batch_b.substr(16)) << "only baseOffset and partitionLeaderEpoch differ";
  EXPECT_TRUE(verify_batch(out, *h));
  out.clear();
  ASSERT_TRUE(bus->fetch_raw("t", 1, 0, 1 << 20, 0ms, out, &r));
  EXPECT_EQ(out.size(), 2 * batch_a.size() + batch_b.size());
  out.clear();
  ASSERT_TRUE(bus->fetch_raw("t", 1, 8, 1 << 20, 20ms, out, &r));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(bus->fetch_raw("t", 1, 9, 1 << 20, 0ms, out, &r));
  EXPECT_TRUE(r.out_of_range);
  EXPECT_EQ(bus->fetch_raw("t", 2, 0, 1, 0ms, out, &r).code(), ErrorCode::kNotFound);
}

TEST(RawBatchTest, RejectsCorruptTruncatedAndAppendsNothing) {
  TempDir tmp;
  auto bus = open_or_die(options_for(tmp.path()));
  ASSERT_TRUE(bus->create_topic("t", {}));
  const std::string good = encode(RecordSet::make(2, "v"));
  std::string bad_crc = good + good;
  bad_crc[good.size() + 70] ^= 1;
  EXPECT_EQ(bus->append_raw_batches("t", 0, bad_crc).status().code(), ErrorCode::kCorruption);
  std::string truncated = good + good.substr(0, 30);
  EXPECT_EQ(bus->append_raw_batches("t", 0, truncated).status().code(), ErrorCode::kCorruption);
  std::string empty;
  EXPECT_EQ(bus->append_raw_batches("t", 0, empty).status().code(), ErrorCode::kInvalidArgument);
  std::string ok = good;
  EXPECT_EQ(bus->append_raw_batches("nope", 0, ok).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bus->describe_topic("t")->partitions[0].log_end_offset, 0);
}

TEST(RawBatchTest, GroupOffsetsCommittedWithoutMembershipSurviveReopen) {
  TempDir tmp;
  {
    auto bus = open_or_die(options_for(tmp.path()));
    ASSERT_TRUE(bus->create_topic("t", partitions(2)));
    std::vector<TopicPartitionOffset> offsets{{"t", 0, 5}, {"t", 1, 7}};
    ASSERT_TRUE(bus->commit_group_offsets("g1", offsets));
    std::vector<TopicPartitionOffset> again{{"t", 1, 9}};
    ASSERT_TRUE(bus->commit_group_offsets("g1", again));
    std::vector<TopicPartitionOffset> negative{{"t", 1, -1}};
    EXPECT_EQ(bus->commit_group_offsets("g1", negative).code(), ErrorCode::kInvalidArgument);
  }
  auto bus = open_or_die(options_for(tmp.path()));
  EXPECT_EQ(**bus->committed_offset("g1", "t", 1), 9);
  auto all = bus->group_offsets("g1");
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].offset, 5);
  EXPECT_TRUE(bus->group_offsets("none")->empty());
}

}  // namespace
}  // namespace sf::bus
