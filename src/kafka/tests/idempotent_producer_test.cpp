// Idempotent producers: InitProducerId ids that survive a restart, the per-partition sequence checks
// (retry acknowledged with its first offset, gap refused, stale epoch refused, unknown id refused), and a
// librdkafka producer with enable.idempotence=true whose Produce responses the broker drops after appending:
// every message ends up in the log exactly once, in order per key.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include "bus/byte_buffer.h"
#include "bus/record_batch.h"
#include "kafka/dispatch.h"
#include "kafka/group_coordinator.h"
#include "kafka/producer_state.h"
#include "kafka/protocol.h"
#include "kafka/tests/test_util.h"
#include "kafka/wire.h"

namespace sf::kafka {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestBroker;

std::unique_ptr<bus::Bus> open_bus(const TempDir& dir) {
  bus::EmbeddedBusOptions options;
  options.dir = dir.path() / "bus";
  auto opened = bus::open_embedded_bus(options);
  EXPECT_TRUE(opened.has_value()) << opened.status().to_string();
  return opened ? std::move(*opened) : nullptr;
}

// One batch of `count` records "r<first_sequence + i>" as producer (id, epoch) would send it.
std::string idempotent_batch(int64_t producer_id, int16_t epoch, int32_t first_sequence, int count) {
  std::vector<std::string> values;
  std::vector<bus::OutgoingRecord> records;
  for (int i = 0; i < count; ++i) values.push_back(fmt::format("r{}", first_sequence + i));
  for (const auto& v : values) records.push_back(bus::OutgoingRecord{std::nullopt, v, false, 1, {}});
  bus::BatchEncodeOptions options;
  options.producer_id = producer_id;
  options.producer_epoch = epoch;
  options.base_sequence = first_sequence;
  bus::ByteBuffer out;
  EXPECT_TRUE(bus::encode_batch(records, {}, 1, options, out).has_value());
  return std::string(out.view());
}

int64_t end_offset(bus::Bus& bus, const std::string& topic) {
  auto info = bus.describe_topic(topic);
  EXPECT_TRUE(info.has_value()) << info.status().to_string();
  return info ? info->partitions[0].log_end_offset : -1;
}

TEST(ProducerStateTable, ProducerIdsAreNotReusedAfterARestart) {
  TempDir dir;
  int64_t last = -1;
  for (int run = 0; run < 2; ++run) {
    auto bus = open_bus(dir);
    ASSERT_TRUE(bus);
    ProducerStateTable table(*bus);
    for (int i = 0; i < 3; ++i) {
      auto id = table.new_producer_id();
      ASSERT_TRUE(id.has_value()) << id.status().to_string();
      EXPECT_GT(id->producer_id, last);
      EXPECT_EQ(id->producer_epoch, 0);
      last = id->producer_id;
    }
  }
  EXPECT_GE(last, ProducerStateTable::kIdBlockSize);  // the second run started in a fresh block
}

TEST(ProducerStateTable, SequenceChecksFollowKafka) {
  TempDir dir;
  auto bus = open_bus(dir);
  ASSERT_TRUE(bus);
  ASSERT_TRUE(bus->create_topic("t", bus::TopicConfig{}).is_ok());
  ProducerStateTable table(*bus);
  auto id = table.new_producer_id();
  ASSERT_TRUE(id.has_value());
  const int64_t pid = id->producer_id;
  auto append = [&](int64_t producer, int16_t epoch, int32_t sequence, int count) {
    std::string bytes = idempotent_batch(producer, epoch, sequence, count);
    return table.append("t", 0, std::span<char>(bytes.data(), bytes.size()));
  };

  auto first = append(pid, 0, 0, 10);
  EXPECT_EQ(first.error, err::kNone);
  EXPECT_EQ(first.base_offset, 0);
  EXPECT_FALSE(first.duplicate);
  // The same batch again (a retry after a lost response): acknowledged with its offset, not appended.
  auto retry = append(pid, 0, 0, 10);
  EXPECT_EQ(retry.error, err::kNone);
  EXPECT_EQ(retry.base_offset, 0);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(end_offset(*bus, "t"), 10);
  // A gap: sequence 20 while 10 is expected.
  EXPECT_EQ(append(pid, 0, 20, 5).error, err::kOutOfOrderSequenceNumber);
  EXPECT_EQ(end_offset(*bus, "t"), 10);
  auto second = append(pid, 0, 10, 10);
  EXPECT_EQ(second.error, err::kNone);
  EXPECT_EQ(second.base_offset, 10);
  // Five more appends push the first one out of the retained window: its retry is then only known to be
  // old (DUPLICATE_SEQUENCE_NUMBER), and nothing is appended.
  for (int32_t s = 20; s < 70; s += 10) EXPECT_EQ(append(pid, 0, s, 10).error, err::kNone);
  EXPECT_EQ(append(pid, 0, 0, 10).error, err::kDuplicateSequenceNumber);
  auto recent = append(pid, 0, 60, 10);
  EXPECT_TRUE(recent.duplicate);
  EXPECT_EQ(recent.base_offset, 60);
  EXPECT_EQ(end_offset(*bus, "t"), 70);
  // A newer epoch restarts at sequence 0; the older epoch is then fenced.
  EXPECT_EQ(append(pid, 1, 5, 1).error, err::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(pid, 1, 0, 1).error, err::kNone);
  EXPECT_EQ(append(pid, 0, 70, 1).error, err::kInvalidProducerEpoch);
  // An id never handed out.
  EXPECT_EQ(append(pid + 100000, 0, 0, 1).error, err::kUnknownProducerId);
  EXPECT_EQ(end_offset(*bus, "t"), 71);
  // A second producer's sequences are its own.
  auto other = table.new_producer_id();
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(append(other->producer_id, 0, 0, 3).error, err::kNone);
  EXPECT_EQ(end_offset(*bus, "t"), 74);
}

// InitProducerId on the wire: v0 and v1 give fresh ids with epoch 0; a transactional id is refused.
TEST(InitProducerId, AnswersIdsAndRefusesTransactions) {
  TempDir dir;
  auto bus = open_bus(dir);
  ASSERT_TRUE(bus);
  BrokerOptions options;
  GroupCoordinator groups(*bus, options);
  ProducerStateTable producers(*bus);
  BrokerState state{*bus, options, groups, "127.0.0.1", 9092, &producers};
  struct Answer {
    int32_t correlation_id;
    int16_t error;
    int64_t producer_id;
    int16_t epoch;
  };
  auto init = [&](int16_t version, std::optional<std::string_view> transactional_id) {
    std::string frame, response;
    Writer w(frame);
    w.i16(api::kInitProducerId);
    w.i16(version);
    w.i32(77);
    w.nullable_string("test");
    w.nullable_string(transactional_id);
    w.i32(60000);
    EXPECT_EQ(dispatch_request(state, frame, "test", response), DispatchResult::kRespond);
    Reader r(response);
    r.i32();  // size
    Answer a{r.i32(), 0, 0, 0};
    r.i32();  // throttle_time_ms
    a.error = r.i16();
    a.producer_id = r.i64();
    a.epoch = r.i16();
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
    return a;
  };
  const Answer first = init(0, std::nullopt);
  EXPECT_EQ(first.correlation_id, 77);
  EXPECT_EQ(first.error, err::kNone);
  EXPECT_GE(first.producer_id, 0);
  EXPECT_EQ(first.epoch, 0);
  const Answer second = init(1, std::nullopt);
  EXPECT_EQ(second.error, err::kNone);
  EXPECT_EQ(second.producer_id, first.producer_id + 1);
  const Answer transactional = init(1, "tx-1");
  EXPECT_EQ(transactional.error, err::kTransactionalIdAuthorizationFailed);
  EXPECT_EQ(transactional.producer_id, -1);
  // The id blocks live in a bus group of their own, which is not shown as a consumer group.
  for (const auto& g : groups.list_groups()) EXPECT_NE(g.group_id, ProducerStateTable::kIdGroup);
  // Versions beyond those advertised close the connection.
  std::string frame, response;
  Writer w(frame);
  w.i16(api::kInitProducerId);
  w.i16(2);
  w.i32(1);
  w.nullable_string("test");
  EXPECT_EQ(dispatch_request(state, frame, "test", response), DispatchResult::kClose);
}

class DeliveryCounter : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++delivered;
    } else {
      ++failed;
      last_error = message.errstr();
    }
  }
  std::atomic<int> delivered{0}, failed{0};
  std::string last_error;
};

class TransportErrors : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR) {
      if (event.err() == RdKafka::ERR__TRANSPORT) ++disconnects;
      if (event.fatal()) ++fatal;
    }
  }
  std::atomic<int> disconnects{0}, fatal{0};
};

TEST(IdempotentProducer, RetriesAfterDroppedResponsesAreNotAppendedTwice) {
  TempDir dir;
  BrokerOptions options;
  options.default_partitions = 3;
  options.test_drop_produce_response_every = 1000;  // the broker "fails" after appending, now and then
  TestBroker broker(dir.path(), options);
  ASSERT_TRUE(broker.broker);

  DeliveryCounter deliveries;
  TransportErrors events;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", broker.address()},
                                                               {"enable.idempotence", "true"},
                                                               {"linger.ms", "2"},
                                                               {"batch.num.messages", "250"},
                                                               {"retry.backoff.ms", "20"},
                                                               {"reconnect.backoff.ms", "10"},
                                                               {"reconnect.backoff.max.ms", "100"},
                                                               {"message.timeout.ms", "60000"}}) {
    ASSERT_EQ(conf->set(k, v, error), RdKafka::Conf::CONF_OK) << k << ": " << error;
  }
  ASSERT_EQ(conf->set("dr_cb", &deliveries, error), RdKafka::Conf::CONF_OK) << error;
  ASSERT_EQ(conf->set("event_cb", &events, error), RdKafka::Conf::CONF_OK) << error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;

  constexpr int kMessages = 6000;
  constexpr int kKeys = 40;
  for (int i = 0; i < kMessages; ++i) {
    const std::string key = fmt::format("k{}", i % kKeys), value = fmt::format("{}", i);
    for (;;) {
      auto rc = producer->produce("idem", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
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
  ASSERT_EQ(producer->flush(60000), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(deliveries.delivered.load(), kMessages) << deliveries.last_error;
  EXPECT_EQ(deliveries.failed.load(), 0) << deliveries.last_error;
  EXPECT_EQ(events.fatal.load(), 0);
  EXPECT_GT(events.disconnects.load(), 0) << "the test hook dropped no response";
  producer.reset();

  // Every message once, and per key in the order produced.
  std::vector<int> seen(kMessages, 0);
  std::map<std::string, int> last_of_key;
  int total = 0;
  for (int32_t p = 0; p < options.default_partitions; ++p) {
    int64_t offset = 0;
    for (;;) {
      bus::FetchBatch batch;
      ASSERT_TRUE(broker.bus->fetch("idem", p, offset, bus::FetchOptions{}, batch).is_ok());
      if (batch.empty()) break;
      for (const auto& r : batch) {
        const int i = std::stoi(std::string(r.value));
        ASSERT_GE(i, 0);
        ASSERT_LT(i, kMessages);
        ++seen[static_cast<std::size_t>(i)];
        auto [it, first] = last_of_key.try_emplace(std::string(r.key), i);
        if (!first) {
          EXPECT_GT(i, it->second) << "key " << r.key << " out of order";
          it->second = i;
        }
        ++total;
        offset = r.offset + 1;
      }
    }
  }
  EXPECT_EQ(total, kMessages);
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], 1) << "message " << i;
}

}  // namespace
}  // namespace sf::kafka
