// The Kafka backend's Consumer: a librdkafka KafkaConsumer in a consumer group, manual commits.
#include "bus/kafka/kafka_consumer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>

namespace sf::bus::kafka {
namespace {

using namespace std::chrono_literals;

// Owns the TopicPartition objects librdkafka's C++ API passes around by raw pointer.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  PartitionList() = default;
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
  void add(const std::string& topic, int32_t partition, int64_t offset = RdKafka::Topic::OFFSET_INVALID) {
    items.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }
};

// A slice of a blocking wait: wakeup() also yields the queue, the slices only bound a missed yield.
constexpr auto kWaitSlice = 200ms;

}  // namespace

KafkaConsumer::KafkaConsumer(const KafkaBusOptions& bus_options, const ConsumerOptions& options,
                             std::string group_id)
    : bus_options_(bus_options), options_(options), group_id_(std::move(group_id)) {}

Result<std::unique_ptr<Consumer>> KafkaConsumer::create(const KafkaBusOptions& bus_options,
                                                        std::string_view group_id,
                                                        const std::vector<std::string>& topics,
                                                        const ConsumerOptions& options) {
  std::unique_ptr<KafkaConsumer> self(new KafkaConsumer(bus_options, options, std::string(group_id)));
  auto conf = make_conf(bus_options, ClientRole::kConsumer, &self->log_);
  if (!conf) return conf.status();
  const char* reset = options.auto_offset_reset == AutoOffsetReset::kEarliest ? "earliest"
                      : options.auto_offset_reset == AutoOffsetReset::kLatest ? "latest"
                                                                              : "error";
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"group.id", std::string(group_id)}, {"auto.offset.reset", reset}}) {
    if (Status s = set_property(**conf, key, value); !s) return s;
  }
  std::string error;
  self->consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!self->consumer_) return Status::invalid_argument("Kafka consumer: " + error);
  self->queue_ = rd_kafka_queue_get_consumer(self->consumer_->c_ptr());
  if (auto err = self->consumer_->subscribe(topics); err != RdKafka::ERR_NO_ERROR)
    return status_from(err, fmt::format("subscribe group '{}'", group_id));
  // Kafka assigns asynchronously (JoinGroup/SyncGroup): wait for the first assignment, so that the member
  // is part of the group when subscribe() returns, as with the embedded bus.
  const auto deadline = std::chrono::steady_clock::now() + bus_options.join_timeout;
  while (self->assignment().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  if (self->assignment_.empty()) {
    spdlog::info("bus: consumer of group '{}' has no partitions after {} ms (more members than partitions?)",
                 group_id, bus_options.join_timeout.count());
  }
  return std::unique_ptr<Consumer>(std::move(self));
}

KafkaConsumer::~KafkaConsumer() {
  if (!closed_ && consumer_) {
    if (Status s = close(); !s)
      spdlog::warn("bus: closing Kafka consumer of '{}': {}", group_id_, s.to_string());
  }
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  messages_.clear();
  consumer_.reset();
}

Status KafkaConsumer::poll(std::chrono::milliseconds timeout, FetchBatch& out) {
  out.clear();
  if (closed_) return Status::failed_precondition("consumer is closed");
  if (woken_.exchange(false)) return Status::cancelled("consumer woken up");
  messages_.clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t bytes = 0;
  Status error;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    std::chrono::milliseconds wait{0};
    if (messages_.empty() && now < deadline) {
      wait = std::min(std::chrono::ceil<std::chrono::milliseconds>(deadline - now),
                      std::chrono::duration_cast<std::chrono::milliseconds>(kWaitSlice));
    }
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(timeout_ms(wait)));
    if (woken_.load() && messages_.empty()) {
      if (m && m->err() == RdKafka::ERR_NO_ERROR) {  // handed out, not lost; the next poll() is cancelled
        messages_.push_back(std::move(m));
        break;
      }
      woken_ = false;
      return Status::cancelled("consumer woken up");
    }
    const RdKafka::ErrorCode err = m ? m->err() : RdKafka::ERR__TIMED_OUT;
    if (err == RdKafka::ERR_NO_ERROR) {
      bytes += static_cast<int64_t>(m->len() + m->key_len());
      messages_.push_back(std::move(m));
      if (static_cast<int32_t>(messages_.size()) >= options_.max_poll_records ||
          bytes >= options_.max_poll_bytes)
        break;
      continue;
    }
    if (err == RdKafka::ERR__TIMED_OUT || err == RdKafka::ERR__PARTITION_EOF) {
      if (!messages_.empty() || std::chrono::steady_clock::now() >= deadline) break;
      continue;
    }
    // A partition's error: reported when nothing else was read, as the embedded bus does.
    error = status_from(err, fmt::format("poll group '{}' topic '{}' partition {} at offset {}", group_id_,
                                         m->topic_name(), m->partition(), m->offset()));
    if (err == RdKafka::ERR__AUTO_OFFSET_RESET) error = Status::failed_precondition(error.message());
    break;
  }
  if (messages_.empty() && !error.is_ok()) return error;
  if (!error.is_ok()) spdlog::warn("bus: {}", error.to_string());
  if (Status stored = store_offsets(); !stored) return stored;
  fill_batch(out, messages_, names_);
  messages_.clear();
  assignment();  // keeps generation() current, as the embedded consumer does at every call
  return Status::ok();
}

Status KafkaConsumer::store_offsets() {
  if (messages_.empty()) return Status::ok();
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const auto& m : messages_) next[{m->topic_name(), m->partition()}] = m->offset() + 1;
  PartitionList list;
  for (const auto& [tp, offset] : next) list.add(tp.first, tp.second, offset);
  // A partition revoked meanwhile refuses the store: its records will be delivered to its new owner.
  if (auto err = consumer_->offsets_store(list.items);
      err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__STATE)
    return status_from(err, fmt::format("store offsets of group '{}'", group_id_));
  return Status::ok();
}

Status KafkaConsumer::commit() {
  if (closed_) return Status::failed_precondition("consumer is closed");
  const RdKafka::ErrorCode err = consumer_->commitSync();
  if (err == RdKafka::ERR_NO_ERROR || err == RdKafka::ERR__NO_OFFSET) return Status::ok();
  return status_from(err, fmt::format("commit group '{}'", group_id_));
}

Status KafkaConsumer::commit(std::span<const TopicPartitionOffset> offsets) {
  if (closed_) return Status::failed_precondition("consumer is closed");
  PartitionList list;
  for (const auto& o : offsets) {
    if (o.offset < 0) return Status::invalid_argument(fmt::format("negative offset {} to commit", o.offset));
    if (!is_assigned(o.topic, o.partition)) {
      return Status::failed_precondition(
          fmt::format("topic '{}' partition {} is not assigned to this member of group '{}'", o.topic,
                      o.partition, group_id_));
    }
    list.add(o.topic, o.partition, o.offset);
  }
  if (list.items.empty()) return Status::ok();
  if (auto err = consumer_->commitSync(list.items); err != RdKafka::ERR_NO_ERROR)
    return status_from(err, fmt::format("commit group '{}'", group_id_));
  for (const auto* tp : list.items) {
    if (tp->err() != RdKafka::ERR_NO_ERROR) {
      return status_from(tp->err(), fmt::format("commit group '{}' topic '{}' partition {}", group_id_,
                                                tp->topic(), tp->partition()));
    }
  }
  return Status::ok();
}

Status KafkaConsumer::seek(std::string_view topic, int32_t partition, int64_t offset) {
  if (closed_) return Status::failed_precondition("consumer is closed");
  if (!is_assigned(topic, partition)) {
    return Status::failed_precondition(
        fmt::format("topic '{}' partition {} is not assigned to this member", topic, partition));
  }
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(std::string(topic), partition, offset));
  if (auto err = consumer_->seek(*tp, timeout_ms(bus_options_.request_timeout)); err != RdKafka::ERR_NO_ERROR)
    return status_from(err, fmt::format("seek topic '{}' partition {} to {}", topic, partition, offset));
  // The next commit() commits the new position even before a poll (as the embedded consumer does).
  PartitionList list;
  list.add(std::string(topic), partition, offset);
  if (auto err = consumer_->offsets_store(list.items); err != RdKafka::ERR_NO_ERROR)
    return status_from(err, fmt::format("store offset of topic '{}' partition {}", topic, partition));
  return Status::ok();
}

Result<int64_t> KafkaConsumer::position(std::string_view topic, int32_t partition) {
  if (closed_) return Status::failed_precondition("consumer is closed");
  if (!is_assigned(topic, partition)) {
    return Status::failed_precondition(
        fmt::format("topic '{}' partition {} is not assigned to this member", topic, partition));
  }
  PartitionList list;
  list.add(std::string(topic), partition);
  if (auto err = consumer_->position(list.items);
      err == RdKafka::ERR_NO_ERROR && list.items[0]->offset() >= 0)
    return list.items[0]->offset();
  // Nothing consumed yet: where the first poll will start, the committed offset or the reset policy's.
  if (auto err = consumer_->committed(list.items, timeout_ms(bus_options_.request_timeout));
      err != RdKafka::ERR_NO_ERROR) {
    return status_from(err, fmt::format("committed offset of topic '{}' partition {}", topic, partition));
  }
  int64_t low = 0, high = 0;
  if (auto err = consumer_->query_watermark_offsets(std::string(topic), partition, &low, &high,
                                                    timeout_ms(bus_options_.request_timeout));
      err != RdKafka::ERR_NO_ERROR) {
    return status_from(err, fmt::format("offsets of topic '{}' partition {}", topic, partition));
  }
  const int64_t committed = list.items[0]->offset();
  if (committed >= low && committed <= high) return committed;
  switch (options_.auto_offset_reset) {
    case AutoOffsetReset::kEarliest:
      return low;
    case AutoOffsetReset::kLatest:
      return high;
    case AutoOffsetReset::kError:
      break;
  }
  return Status::failed_precondition(fmt::format(
      "topic '{}' partition {}: no valid committed offset for group '{}' and auto_offset_reset is error",
      topic, partition, group_id_));
}

std::vector<TopicPartition> KafkaConsumer::assignment() {
  if (closed_) return {};
  std::vector<RdKafka::TopicPartition*> raw;
  if (auto err = consumer_->assignment(raw); err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("bus: assignment of group '{}': {}", group_id_, RdKafka::err2str(err));
    return assignment_;
  }
  std::vector<TopicPartition> now;
  now.reserve(raw.size());
  for (const auto* tp : raw) now.push_back({tp->topic(), tp->partition()});
  RdKafka::TopicPartition::destroy(raw);
  std::sort(now.begin(), now.end());
  if (now != assignment_) {
    assignment_ = std::move(now);
    ++generation_;
    member_id_ = consumer_->memberid();
  }
  return assignment_;
}

bool KafkaConsumer::is_assigned(std::string_view topic, int32_t partition) {
  const auto current = assignment();
  return std::any_of(current.begin(), current.end(), [&](const TopicPartition& tp) {
    return tp.topic == topic && tp.partition == partition;
  });
}

void KafkaConsumer::wakeup() {
  woken_ = true;
  if (queue_ != nullptr) rd_kafka_queue_yield(queue_);
}

Status KafkaConsumer::close() {
  if (closed_) return Status::failed_precondition("consumer is closed");
  closed_ = true;
  assignment_.clear();
  if (auto err = consumer_->close(); err != RdKafka::ERR_NO_ERROR)
    return status_from(err, fmt::format("leave group '{}'", group_id_));
  return Status::ok();
}

}  // namespace sf::bus::kafka
