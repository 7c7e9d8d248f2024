// A Bus Consumer over librdkafka's KafkaConsumer (a member of a real Kafka consumer group). Internal to
// bus/kafka/.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "bus/kafka/rdkafka_common.h"

namespace sf::bus::kafka {

// How the Consumer contract maps onto Kafka:
// - The group's assignment is librdkafka's (range assignor, applied by librdkafka as rebalances happen);
//   assignment() reports it and generation() counts the changes this member has seen.
// - poll() hands out records and stores their next offsets (enable.auto.offset.store=false): commit() commits
//   the stored offsets of the partitions still assigned, so positions of partitions lost in a rebalance are
//   not committed.
// - wakeup() yields librdkafka's consumer queue, so a blocked poll() returns at once.
class KafkaConsumer final : public Consumer {
 public:
  // Subscribes and waits up to options.join_timeout for a first assignment.
  static Result<std::unique_ptr<Consumer>> create(const KafkaBusOptions& bus_options,
                                                  std::string_view group_id,
                                                  const std::vector<std::string>& topics,
                                                  const ConsumerOptions& options);
  ~KafkaConsumer() override;

  Status poll(std::chrono::milliseconds timeout, FetchBatch& out) override;
  Status commit() override;
  Status commit(std::span<const TopicPartitionOffset> offsets) override;
  Status seek(std::string_view topic, int32_t partition, int64_t offset) override;
  Result<int64_t> position(std::string_view topic, int32_t partition) override;
  std::vector<TopicPartition> assignment() override;
  int64_t generation() const override { return generation_; }
  const std::string& member_id() const override { return member_id_; }
  void wakeup() override;
  Status close() override;

 private:
  KafkaConsumer(const KafkaBusOptions& bus_options, const ConsumerOptions& options, std::string group_id);
  Status store_offsets();
  bool is_assigned(std::string_view topic, int32_t partition);

  KafkaBusOptions bus_options_;
  ConsumerOptions options_;
  std::string group_id_;
  LogBridge log_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue, for wakeup(); destroyed before consumer_
  std::atomic<bool> woken_{false};
  bool closed_ = false;
  std::vector<TopicPartition> assignment_;
  int64_t generation_ = 0;
  std::string member_id_;
  std::vector<std::unique_ptr<RdKafka::Message>> messages_;  // of the current poll, reused
  TopicNames names_;
};

}  // namespace sf::bus::kafka
