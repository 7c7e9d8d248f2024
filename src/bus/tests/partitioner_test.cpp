// Kafka's murmur2 partitioner: the Java client's and librdkafka's published test vectors.
#include "bus/partitioner.h"

#include <gtest/gtest.h>

#include "bus/bus.h"

namespace sf::bus {
namespace {

// org.apache.kafka.common.utils.UtilsTest#testMurmur2
TEST(PartitionerTest, Murmur2MatchesKafkaJavaVectors) {
  EXPECT_EQ(murmur2("21"), -973932308);
  EXPECT_EQ(murmur2("foobar"), -790332482);
  EXPECT_EQ(murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(murmur2("abc"), 479470107);
}

// librdkafka src/rdmurmur2.c unittest_murmur2 (java_murmur2_results), including unaligned starts.
TEST(PartitionerTest, Murmur2MatchesLibrdkafkaVectors) {
  const std::string unaligned = "PreAmbleWillBeRemoved,ThePrePartThatIs";
  const std::string short_unaligned = "1234";
  EXPECT_EQ(static_cast<uint32_t>(murmur2("kafka")), 0xd067cf64u);
  EXPECT_EQ(static_cast<uint32_t>(murmur2("giberish123456789")), 0x8f552b0cu);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(short_unaligned)), 0x9fc97b14u);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(std::string_view(short_unaligned).substr(1))), 0xe7c009cau);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(std::string_view(short_unaligned).substr(2))), 0x873930dau);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(std::string_view(short_unaligned).substr(3))), 0x5a4b5ca1u);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(unaligned)), 0x78424f1cu);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(std::string_view(unaligned).substr(1))), 0x4a62b377u);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(std::string_view(unaligned).substr(2))), 0xe0e4e09eu);
  EXPECT_EQ(static_cast<uint32_t>(murmur2(std::string_view(unaligned).substr(3))), 0x62b8b43fu);
  EXPECT_EQ(static_cast<uint32_t>(murmur2("")), 0x106e08d9u);
}

TEST(PartitionerTest, DefaultPartitionIsToPositiveModN) {
  // toPositive clears the sign bit (it is not abs): 0xd067cf64 -> 0x5067cf64 = 1348980580.
  EXPECT_EQ(default_partition("kafka", 10), 0);
  EXPECT_EQ(default_partition("kafka", 3), 1);
  EXPECT_EQ(default_partition("foobar", 10), 6);
  EXPECT_EQ(default_partition("BTCUSDT", 10), 8);
  EXPECT_EQ(default_partition("", 10), 1);
  for (int n : {1, 2, 7, 64}) {
    for (int k = 0; k < 200; ++k) {
      const std::string key = "key-" + std::to_string(k);
      const int32_t p = default_partition(key, n);
      EXPECT_GE(p, 0);
      EXPECT_LT(p, n);
      EXPECT_EQ(p, default_partition(std::string(key), n)) << "same key, same partition";
    }
  }
}

}  // namespace
}  // namespace sf::bus
