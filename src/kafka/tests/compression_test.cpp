// Compressed record batches from librdkafka producers (gzip, snappy, lz4, zstd): accepted by the broker,
// stored as received, read back decompressed by the embedded bus and by a Kafka consumer, and still valid
// when the log is reopened (recovery scans them).
#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using testing::TempDir;
using testing::TestBroker;

std::unique_ptr<RdKafka::Conf> conf_of(const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) ADD_FAILURE() << k << ": " << error;
  }
  return conf;
}

class CompressionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CompressionTest, ProducedBatchesAreStoredAndReadBackDecompressed) {
  const std::string codec = GetParam();
  const std::string topic = "c-" + codec;
  constexpr int kMessages = 500;
  TempDir tmp;
  {
    TestBroker broker(tmp.path());
    ASSERT_TRUE(broker.bus->create_topic(topic, {}));
    auto conf = conf_of({{"bootstrap.servers", broker.address()},
                         {"compression.codec", codec},
                         {"linger.ms", "20"},
                         {"acks", "all"}});
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    ASSERT_TRUE(producer) << error;
    for (int i = 0; i < kMessages; ++i) {
      // Repetitive values compress well, so every codec really compresses.
      const std::string key = fmt::format("k{}", i),
                        value = fmt::format("value {} {}", i, std::string(100, 'x'));
      ASSERT_EQ(producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                                  value.size(), key.data(), key.size(), 0, nullptr),
                RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(producer->flush(30000), RdKafka::ERR_NO_ERROR);
    EXPECT_EQ(producer->outq_len(), 0) << "every batch acknowledged (none refused as unsupported)";
    auto info = broker.bus->describe_topic(topic);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->partitions[0].log_end_offset, kMessages) << "offsets counted from lastOffsetDelta";
    EXPECT_LT(info->partitions[0].size_bytes, kMessages * 100) << "stored compressed, as received";
  }
  TestBroker broker(tmp.path());  // reopened: recovery validates the compressed batches
  bus::FetchBatch batch;
  int64_t next = 0;
  while (next < kMessages) {
    ASSERT_TRUE(broker.bus->fetch(topic, 0, next, {}, batch));
    ASSERT_FALSE(batch.empty());
    for (const auto& r : batch) {
      ASSERT_EQ(r.offset, next);
      EXPECT_EQ(r.key, fmt::format("k{}", next));
      EXPECT_EQ(r.value, fmt::format("value {} {}", next, std::string(100, 'x')));
      ++next;
    }
  }
  // And a Kafka consumer reads the stored bytes.
  auto conf = conf_of(
      {{"bootstrap.servers", broker.address()}, {"group.id", "g"}, {"auto.offset.reset", "earliest"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({topic}), RdKafka::ERR_NO_ERROR);
  int read = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (read < kMessages && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    ASSERT_EQ(m->err(), RdKafka::ERR_NO_ERROR) << m->errstr();
    EXPECT_EQ(m->offset(), read);
    EXPECT_EQ(std::string(static_cast<const char*>(m->payload()), m->len()),
              fmt::format("value {} {}", read, std::string(100, 'x')));
    ++read;
  }
  EXPECT_EQ(read, kMessages);
  consumer->close();
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest, ::testing::Values("gzip", "snappy", "lz4", "zstd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sf::kafka
