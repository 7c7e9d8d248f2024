// The Kafka backend of Bus (bus.h, "The Kafka backend"): one idempotent-capable librdkafka producer shared by
// every produce() call, an admin path on that producer's handle (librdkafka's C++ API has no Admin client,
// so CreateTopics/DeleteTopics/DescribeConfigs use the C API on the same rd_kafka_t), a pool of group-less
// consumers for fetch() by offset, and one KafkaConsumer per subscribe().
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "bus/bus.h"
#include "bus/kafka/kafka_consumer.h"
#include "bus/kafka/rdkafka_common.h"

namespace sf::bus {
namespace kafka {
namespace {

using namespace std::chrono_literals;

Status validate_config(const TopicConfig& c) {
  if (c.partitions < 1)
    return Status::invalid_argument(fmt::format("partitions must be >= 1, not {}", c.partitions));
  if (c.segment_bytes != -1 && (c.segment_bytes < 1 || c.segment_bytes > INT32_MAX)) {
    return Status::invalid_argument(
        fmt::format("segment_bytes must be -1 or in [1, 2^31-1], not {}", c.segment_bytes));
  }
  if (c.retention_bytes < -1) return Status::invalid_argument("retention_bytes must be -1 or >= 0");
  if (c.retention_ms < -1) return Status::invalid_argument("retention_ms must be -1 or >= 0");
  return Status::ok();
}

// RAII for the C API's admin objects.
struct AdminCall {
  rd_kafka_t* rk;
  rd_kafka_queue_t* queue;
  rd_kafka_AdminOptions_t* options;
  rd_kafka_event_t* event = nullptr;
  AdminCall(rd_kafka_t* handle, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout)
      : rk(handle), queue(rd_kafka_queue_new(handle)), options(rd_kafka_AdminOptions_new(handle, op)) {
    char error[256];
    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms(timeout), error, sizeof error);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS)
      rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms(timeout), error, sizeof error);
  }
  ~AdminCall() {
    if (event != nullptr) rd_kafka_event_destroy(event);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
  }
  AdminCall(const AdminCall&) = delete;
  AdminCall& operator=(const AdminCall&) = delete;
  // Waits for the result event; a request-level error becomes the Status.
  Status wait(std::chrono::milliseconds timeout, std::string_view what) {
    event = rd_kafka_queue_poll(queue, timeout_ms(timeout + 5s));
    if (event == nullptr) return Status::timeout(fmt::format("{}: no answer from Kafka", what));
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status(status_from(static_cast<RdKafka::ErrorCode>(rd_kafka_event_error(event)), what).code(),
                    fmt::format("{}: {}", what, rd_kafka_event_error_string(event)));
    }
    return Status::ok();
  }
};

Status topic_result_status(const rd_kafka_topic_result_t* result, std::string_view what) {
  const auto err = static_cast<RdKafka::ErrorCode>(rd_kafka_topic_result_error(result));
  if (err == RdKafka::ERR_NO_ERROR) return Status::ok();
  const char* message = rd_kafka_topic_result_error_string(result);
  Status mapped = status_from(err, what);
  if (message == nullptr || *message == '\0') return mapped;
  return Status(mapped.code(), fmt::format("{}: {}", what, message));
}

// One produce() call waiting for its delivery reports.
struct PendingProduce {
  std::mutex mu;
  std::condition_variable done;
  std::size_t remaining = 0;
  Status error;
  std::vector<RecordMetadata>* out = nullptr;
};
struct DeliverySlot {
  PendingProduce* call;
  std::size_t index;
};

class DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* slot = static_cast<DeliverySlot*>(message.msg_opaque());
    PendingProduce& call = *slot->call;
    std::lock_guard lock(call.mu);
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      if (call.error.is_ok()) {
        call.error = status_from(message.err(), fmt::format("produce to topic '{}' partition {}",
                                                            message.topic_name(), message.partition()));
      }
    } else {
      (*call.out)[slot->index] = RecordMetadata{message.partition(), message.offset()};
    }
    if (--call.remaining == 0) call.done.notify_all();
  }
};

// A group-less consumer that reads one partition from an offset (fetch()). It stays assigned between calls,
// so a caller reading a partition sequentially keeps librdkafka's prefetched records.
struct Fetcher {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::string topic;
  int32_t partition = -1;
  int64_t next_offset = -1;
  std::vector<std::unique_ptr<RdKafka::Message>> messages;
  TopicNames names;
};

class KafkaBus final : public Bus {
 public:
  explicit KafkaBus(KafkaBusOptions options) : options_(std::move(options)) {}

  ~KafkaBus() override {
    if (producer_) {
      if (producer_->flush(timeout_ms(options_.request_timeout)) != RdKafka::ERR_NO_ERROR)
        spdlog::warn("bus: Kafka producer closed with undelivered records");
      stop_ = true;
      if (poller_.joinable()) poller_.join();
    }
    fetchers_.clear();
    producer_.reset();
  }

  Status open() {
    auto conf = make_conf(options_, ClientRole::kProducer, &log_);
    if (!conf) return conf.status();
    std::string error;
    if ((*conf)->set("dr_cb", &reports_, error) != RdKafka::Conf::CONF_OK) return Status::internal(error);
    producer_.reset(RdKafka::Producer::create(conf->get(), error));
    if (!producer_) return Status::invalid_argument("Kafka producer: " + error);
    // A round trip now, so that a wrong address or credentials fail at start rather than at first use.
    // In short steps: a refused password or certificate ends the wait at once, with its reason.
    const auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
    for (;;) {
      RdKafka::Metadata* metadata = nullptr;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      const auto err = producer_->metadata(
          true, nullptr, &metadata,
          timeout_ms(std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(500))));
      delete metadata;
      if (err == RdKafka::ERR_NO_ERROR) break;
      producer_->poll(0);  // error events reach the LogBridge only through poll()
      if (auto failure = log_.security_failure()) {
        return Status::invalid_argument(fmt::format("Kafka bootstrap {}: {}", options_.bootstrap, *failure));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        Status s = status_from(err, fmt::format("Kafka bootstrap {}", options_.bootstrap));
        return Status::unavailable(s.message());
      }
      if (err != RdKafka::ERR__TIMED_OUT) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    poller_ = std::thread([this] {
      while (!stop_) producer_->poll(100);  // delivery reports and events
    });
    spdlog::info("bus: Kafka at {} (acks={}, compression={}, linger.ms={})", options_.bootstrap,
                 options_.acks, options_.compression, options_.linger_ms);
    return Status::ok();
  }

  // --- topics -------------------------------------------------------------------------------------------

  Status create_topic(std::string_view name, const TopicConfig& config) override {
    if (Status s = validate_topic_name(name); !s) return s;
    if (Status s = validate_config(config); !s) return s;
    const std::string what = fmt::format("create topic '{}'", name);
    char error[512];
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(std::string(name).c_str(), config.partitions,
                                                       options_.replication_factor, error, sizeof error);
    if (topic == nullptr) return Status::invalid_argument(fmt::format("{}: {}", what, error));
    std::unique_ptr<rd_kafka_NewTopic_t, decltype(&rd_kafka_NewTopic_destroy)> owned(
        topic, rd_kafka_NewTopic_destroy);
    // -1 is Kafka's "no limit" for retention too, as in TopicConfig; segment.bytes -1 = the cluster's
    // default.
    for (const auto& [key, value] : {std::pair{"retention.ms", config.retention_ms},
                                     std::pair{"retention.bytes", config.retention_bytes},
                                     std::pair{"segment.bytes", config.segment_bytes}}) {
      if (value != -1 || std::string_view(key) != "segment.bytes")
        rd_kafka_NewTopic_set_config(topic, key, std::to_string(value).c_str());
    }
    AdminCall call(producer_->c_ptr(), RD_KAFKA_ADMIN_OP_CREATETOPICS, options_.request_timeout);
    rd_kafka_CreateTopics(call.rk, &topic, 1, call.options, call.queue);
    if (Status s = call.wait(options_.request_timeout, what); !s) return s;
    std::size_t count = 0;
    const auto** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(call.event), &count);
    if (count != 1) return Status::internal(what + ": no result for the topic");
    if (Status s = topic_result_status(results[0], what); !s) return s;
    forget_topic(name);
    return wait_for_metadata(name, config.partitions);
  }

  Status ensure_topic(std::string_view name, const TopicConfig& config) override {
    if (auto known = partition_count(name, /*create=*/false); known) return Status::ok();
    Status s = create_topic(name, config);
    return s.code() == ErrorCode::kAlreadyExists ? Status::ok() : s;
  }

  Status delete_topic(std::string_view name) override {
    if (Status s = validate_topic_name(name); !s) return s;
    const std::string what = fmt::format("delete topic '{}'", name);
    rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(std::string(name).c_str());
    std::unique_ptr<rd_kafka_DeleteTopic_t, decltype(&rd_kafka_DeleteTopic_destroy)> owned(
        topic, rd_kafka_DeleteTopic_destroy);
    AdminCall call(producer_->c_ptr(), RD_KAFKA_ADMIN_OP_DELETETOPICS, options_.request_timeout);
    rd_kafka_DeleteTopics(call.rk, &topic, 1, call.options, call.queue);
    if (Status s = call.wait(options_.request_timeout, what); !s) return s;
    std::size_t count = 0;
    const auto** results =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(call.event), &count);
    if (count != 1) return Status::internal(what + ": no result for the topic");
    forget_topic(name);
    if (Status s = topic_result_status(results[0], what); !s) return s;
    return wait_for_metadata(name, 0);
  }

  Result<std::vector<std::string>> list_topics() override {
    auto metadata = fetch_metadata();
    if (!metadata) return metadata.status();
    std::vector<std::string> names;
    for (const auto* t : *(*metadata)->topics()) {
      if (t->err() == RdKafka::ERR_NO_ERROR && !t->topic().starts_with("__")) names.push_back(t->topic());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<TopicInfo> describe_topic(std::string_view name) override {
    auto partitions = partition_count(name, false);
    if (!partitions) return partitions.status();
    TopicInfo info;
    info.name = std::string(name);
    info.config.partitions = *partitions;
    if (Status s = describe_configs(name, &info.config); !s) return s;
    for (int32_t p = 0; p < *partitions; ++p) {
      PartitionInfo pi;
      pi.partition = p;
      pi.size_bytes = -1;  // Kafka reports sizes per log dir (DescribeLogDirs), not per partition here
      if (auto err = producer_->query_watermark_offsets(
              info.name, p, &pi.log_start_offset, &pi.log_end_offset, timeout_ms(options_.request_timeout));
          err != RdKafka::ERR_NO_ERROR) {
        return status_from(err, fmt::format("offsets of topic '{}' partition {}", name, p));
      }
      info.partitions.push_back(pi);
    }
    return info;
  }

  // --- produce ------------------------------------------------------------------------------------------

  Result<ProduceResult> produce(std::string_view topic, std::span<const OutgoingRecord> records) override {
    return produce_records(topic, std::nullopt, records);
  }

  Result<ProduceResult> produce_to_partition(std::string_view topic, int32_t partition,
                                             std::span<const OutgoingRecord> records) override {
    return produce_records(topic, partition, records);
  }

  // --- fetch --------------------------------------------------------------------------------------------

  Status fetch(std::string_view topic, int32_t partition, int64_t offset, const FetchOptions& options,
               FetchBatch& out) override {
    out.clear();
    auto partitions = partition_count(topic, false);
    if (!partitions) return partitions.status();
    if (partition < 0 || partition >= *partitions)
      return Status::not_found(fmt::format("topic '{}' has no partition {}", topic, partition));
    auto leased = lease_fetcher(topic, partition, offset);
    if (!leased) return leased.status();
    std::unique_ptr<Fetcher> f = std::move(*leased);
    Status s = fetch_with(*f, topic, partition, offset, options, out);
    if (s) release_fetcher(std::move(f));  // after an error, start afresh next time
    return s;
  }

  // --- groups -------------------------------------------------------------------------------------------

  Result<std::unique_ptr<Consumer>> subscribe(std::string_view group_id,
                                              const std::vector<std::string>& topics,
                                              const ConsumerOptions& options) override {
    if (Status s = validate_group_id(group_id); !s) return s;
    if (topics.empty()) return Status::invalid_argument("subscribe needs at least one topic");
    for (const auto& t : topics) {
      if (Status s = validate_topic_name(t); !s) return s;
      if (auto known = partition_count(t, options_.auto_create_topics); !known) return known.status();
    }
    return KafkaConsumer::create(options_, group_id, topics, options);
  }

  Result<std::optional<int64_t>> committed_offset(std::string_view group_id, std::string_view topic,
                                                  int32_t partition) override {
    if (Status s = validate_group_id(group_id); !s) return s;
    if (Status s = validate_topic_name(topic); !s) return s;
    const std::string what =
        fmt::format("committed offset of group '{}' topic '{}' partition {}", group_id, topic, partition);
    rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(partitions, std::string(topic).c_str(), partition);
    rd_kafka_ListConsumerGroupOffsets_t* request =
        rd_kafka_ListConsumerGroupOffsets_new(std::string(group_id).c_str(), partitions);
    rd_kafka_topic_partition_list_destroy(partitions);
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t, decltype(&rd_kafka_ListConsumerGroupOffsets_destroy)>
        owned(request, rd_kafka_ListConsumerGroupOffsets_destroy);
    AdminCall call(producer_->c_ptr(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, options_.request_timeout);
    rd_kafka_ListConsumerGroupOffsets(call.rk, &request, 1, call.options, call.queue);
    if (Status s = call.wait(options_.request_timeout, what); !s) return s;
    std::size_t count = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(call.event), &count);
    if (count != 1) return Status::internal(what + ": no result for the group");
    if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0]); error != nullptr) {
      Status mapped = status_from(static_cast<RdKafka::ErrorCode>(rd_kafka_error_code(error)), what);
      if (mapped.code() == ErrorCode::kNotFound) return std::optional<int64_t>();
      return mapped;
    }
    const rd_kafka_topic_partition_list_t* offsets = rd_kafka_group_result_partitions(groups[0]);
    for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = offsets->elems[i];
      if (tp.partition != partition || topic != tp.topic) continue;
      if (tp.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::optional<int64_t>();
      if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return status_from(static_cast<RdKafka::ErrorCode>(tp.err), what);
      if (tp.offset < 0) return std::optional<int64_t>();
      return std::optional<int64_t>(tp.offset);
    }
    return std::optional<int64_t>();
  }

  Result<std::vector<std::string>> list_groups() override {
    const struct rd_kafka_group_list* list = nullptr;
    const auto err =
        rd_kafka_list_groups(producer_->c_ptr(), nullptr, &list, timeout_ms(options_.request_timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return status_from(static_cast<RdKafka::ErrorCode>(err), "list groups");
    std::vector<std::string> names;
    for (int i = 0; i < list->group_cnt; ++i) names.emplace_back(list->groups[i].group);
    rd_kafka_group_list_destroy(list);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  Status sync() override {
    // Every produce() already waited for acks (acks=all: on every in-sync replica); this drains stragglers.
    const auto err = producer_->flush(timeout_ms(options_.request_timeout));
    return status_from(err, "flush the Kafka producer");
  }

 private:
  struct TopicEntry {
    int32_t partitions = 0;
    std::atomic<uint32_t> null_key_cursor{0};  // sticky round-robin of null-key produce() calls
  };

  Result<std::unique_ptr<RdKafka::Metadata>> fetch_metadata() {
    RdKafka::Metadata* metadata = nullptr;
    const auto err = producer_->metadata(true, nullptr, &metadata, timeout_ms(options_.request_timeout));
    if (err != RdKafka::ERR_NO_ERROR) return status_from(err, "Kafka metadata");
    return std::unique_ptr<RdKafka::Metadata>(metadata);
  }

  // The topic's partition count: cached; asked of the cluster (all-topics metadata, which never
  // auto-creates) on a miss; created first when `create` (auto_create_topics) and unknown.
  Result<int32_t> partition_count(std::string_view topic, bool create) {
    if (TopicEntry* e = find_topic(topic)) return e->partitions;
    if (Status s = validate_topic_name(topic); !s) return s;
    auto metadata = fetch_metadata();
    if (!metadata) return metadata.status();
    for (const auto* t : *(*metadata)->topics()) {
      if (t->topic() != topic || t->err() != RdKafka::ERR_NO_ERROR || t->partitions()->empty()) continue;
      const int32_t n = static_cast<int32_t>(t->partitions()->size());
      std::unique_lock lock(topics_mu_);
      auto& entry = topics_[std::string(topic)];
      if (!entry) entry = std::make_unique<TopicEntry>();
      entry->partitions = n;
      return n;
    }
    if (!create) return Status::not_found(fmt::format("topic '{}' does not exist", topic));
    TopicConfig config;
    config.partitions = options_.default_partitions;
    if (Status s = create_topic(topic, config); !s && s.code() != ErrorCode::kAlreadyExists) return s;
    return partition_count(topic, false);
  }

  TopicEntry* find_topic(std::string_view topic) {
    std::shared_lock lock(topics_mu_);
    auto it = topics_.find(topic);
    return it == topics_.end() ? nullptr : it->second.get();
  }

  void forget_topic(std::string_view topic) {
    // Entries are kept (a concurrent produce() may hold one), only their count is invalidated.
    std::unique_lock lock(topics_mu_);
    auto it = topics_.find(topic);
    if (it != topics_.end()) {
      retired_.push_back(std::move(it->second));
      topics_.erase(it);
    }
  }

  // CreateTopics/DeleteTopics return before every broker's metadata shows the change: wait until it does
  // (partitions 0 = gone), so that a produce() right after sees the topic.
  Status wait_for_metadata(std::string_view topic, int32_t partitions) {
    const auto deadline = std::chrono::steady_clock::now() + options_.request_timeout;
    for (;;) {
      auto metadata = fetch_metadata();
      if (!metadata) return metadata.status();
      int32_t seen = 0;
      for (const auto* t : *(*metadata)->topics()) {
        if (t->topic() == topic && t->err() == RdKafka::ERR_NO_ERROR)
          seen = static_cast<int32_t>(t->partitions()->size());
      }
      if (seen == partitions) return Status::ok();
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::timeout(
            fmt::format("topic '{}': metadata shows {} partitions, expected {}", topic, seen, partitions));
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  Status describe_configs(std::string_view topic, TopicConfig* config) {
    const std::string what = fmt::format("configs of topic '{}'", topic);
    rd_kafka_ConfigResource_t* resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, std::string(topic).c_str());
    std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)> owned(
        resource, rd_kafka_ConfigResource_destroy);
    AdminCall call(producer_->c_ptr(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, options_.request_timeout);
    rd_kafka_DescribeConfigs(call.rk, &resource, 1, call.options, call.queue);
    if (Status s = call.wait(options_.request_timeout, what); !s) return s;
    std::size_t count = 0;
    const rd_kafka_ConfigResource_t** resources =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(call.event), &count);
    if (count != 1) return Status::internal(what + ": no result");
    if (auto err = rd_kafka_ConfigResource_error(resources[0]); err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return status_from(static_cast<RdKafka::ErrorCode>(err), what);
    std::size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(resources[0], &entries);
    for (std::size_t i = 0; i < entries; ++i) {
      const std::string_view name = rd_kafka_ConfigEntry_name(configs[i]);
      const char* value = rd_kafka_ConfigEntry_value(configs[i]);
      int64_t* target = name == "retention.ms"      ? &config->retention_ms
                        : name == "retention.bytes" ? &config->retention_bytes
                        : name == "segment.bytes"   ? &config->segment_bytes
                                                    : nullptr;
      if (target == nullptr || value == nullptr) continue;
      int64_t number = 0;
      const std::string_view text(value);
      if (std::from_chars(text.data(), text.data() + text.size(), number).ec == std::errc()) *target = number;
    }
    return Status::ok();
  }

  Result<ProduceResult> produce_records(std::string_view topic, std::optional<int32_t> fixed_partition,
                                        std::span<const OutgoingRecord> records) {
    for (const auto& r : records) {
      if (r.timestamp_ms < 0)
        return Status::invalid_argument(fmt::format("record timestamp {} is negative", r.timestamp_ms));
    }
    auto partitions = partition_count(topic, options_.auto_create_topics);
    if (!partitions) return partitions.status();
    if (fixed_partition && (*fixed_partition < 0 || *fixed_partition >= *partitions))
      return Status::not_found(fmt::format("topic '{}' has no partition {}", topic, *fixed_partition));
    ProduceResult result;
    if (records.empty()) return result;
    result.records.resize(records.size());
    int32_t null_key_partition = 0;
    if (!fixed_partition) {
      if (TopicEntry* e = find_topic(topic))
        null_key_partition = static_cast<int32_t>(e->null_key_cursor.fetch_add(1) % *partitions);
    }
    PendingProduce call;
    call.out = &result.records;
    std::vector<DeliverySlot> slots(records.size());
    const std::string topic_name(topic);
    static constexpr char kEmpty[] = "";  // a non-null pointer: "" is an empty key/value, not a null one
    std::size_t enqueued = 0;
    {
      std::lock_guard lock(call.mu);
      call.remaining = records.size();
    }
    {
      // One call's records go into each partition's queue together (no other produce() of this Bus between).
      std::lock_guard enqueue(enqueue_mu_);
      for (; enqueued < records.size(); ++enqueued) {
        const OutgoingRecord& r = records[enqueued];
        slots[enqueued] = DeliverySlot{&call, enqueued};
        const int32_t partition = fixed_partition ? *fixed_partition
                                  : r.key         ? default_partition(*r.key, *partitions)
                                                  : null_key_partition;
        const void* key = r.key ? (r.key->data() != nullptr ? r.key->data() : kEmpty) : nullptr;
        void* value = r.value_is_null
                          ? nullptr
                          : const_cast<char*>(r.value.data() != nullptr ? r.value.data() : kEmpty);
        RdKafka::Headers* headers = nullptr;
        if (!r.headers.empty()) {
          headers = RdKafka::Headers::create();
          for (const Header& h : r.headers) {
            headers->add(std::string(h.key), h.value_is_null ? nullptr : h.value.data(),
                         h.value_is_null ? 0 : h.value.size());
          }
        }
        RdKafka::ErrorCode err;
        for (;;) {
          err = producer_->produce(topic_name, partition, RdKafka::Producer::RK_MSG_COPY, value,
                                   r.value_is_null ? 0 : r.value.size(), key, r.key ? r.key->size() : 0,
                                   r.timestamp_ms, headers, &slots[enqueued]);
          if (err != RdKafka::ERR__QUEUE_FULL) break;
          producer_->poll(5);  // the local queue is full: let deliveries drain it
        }
        if (err != RdKafka::ERR_NO_ERROR) {
          delete headers;  // not taken by librdkafka on failure
          std::lock_guard lock(call.mu);
          call.error = status_from(err, fmt::format("produce to topic '{}' partition {}", topic, partition));
          call.remaining -= records.size() - enqueued;
          break;
        }
      }
    }
    std::unique_lock lock(call.mu);
    call.done.wait(lock, [&] { return call.remaining == 0; });
    if (!call.error.is_ok()) {
      if (call.error.code() == ErrorCode::kNotFound) forget_topic(topic);
      return call.error;
    }
    return result;
  }

  // An idle fetcher, preferably one that stopped where this read starts (it keeps its prefetched records).
  Result<std::unique_ptr<Fetcher>> lease_fetcher(std::string_view topic, int32_t partition, int64_t offset) {
    {
      std::lock_guard lock(fetchers_mu_);
      if (!fetchers_.empty()) {
        auto it = std::find_if(fetchers_.begin(), fetchers_.end(), [&](const auto& f) {
          return f->topic == topic && f->partition == partition && f->next_offset == offset;
        });
        if (it == fetchers_.end()) it = fetchers_.end() - 1;
        auto f = std::move(*it);
        fetchers_.erase(it);
        return f;
      }
    }
    auto conf = make_conf(options_, ClientRole::kConsumer, &log_);
    if (!conf) return conf.status();
    // librdkafka's KafkaConsumer needs a group id; fetch() never joins nor commits, it only assigns.
    if (Status s = set_property(**conf, "group.id", "streamforge-bus-fetch"); !s) return s;
    if (Status s = set_property(**conf, "auto.offset.reset", "error"); !s) return s;
    // Pooled fetchers stay assigned and prefetch: keep what they may hold small.
    if (Status s = set_property(**conf, "queued.max.messages.kbytes", "8192"); !s) return s;
    auto f = std::make_unique<Fetcher>();
    std::string error;
    f->consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
    if (!f->consumer) return Status::internal("Kafka fetch consumer: " + error);
    return f;
  }

  void release_fetcher(std::unique_ptr<Fetcher> f) {
    std::lock_guard lock(fetchers_mu_);
    if (fetchers_.size() < kIdleFetchers) fetchers_.push_back(std::move(f));
  }

  Status fetch_with(Fetcher& f, std::string_view topic, int32_t partition, int64_t offset,
                    const FetchOptions& options, FetchBatch& out) {
    const int request_ms = timeout_ms(options_.request_timeout);
    int64_t low = 0, high = 0;
    const bool continuing = f.topic == topic && f.partition == partition && f.next_offset == offset;
    if (continuing) {
      f.consumer->get_watermark_offsets(f.topic, partition, &low, &high);  // as of the last fetch response
    } else {
      if (auto err =
              f.consumer->query_watermark_offsets(std::string(topic), partition, &low, &high, request_ms);
          err != RdKafka::ERR_NO_ERROR) {
        return status_from(err, fmt::format("offsets of topic '{}' partition {}", topic, partition));
      }
      if (offset < low || offset > high) {
        return Status::failed_precondition(
            fmt::format("offset {} of topic '{}' partition {} is out of range [{}, {}]", offset, topic,
                        partition, low, high));
      }
      std::vector<RdKafka::TopicPartition*> tps{
          RdKafka::TopicPartition::create(std::string(topic), partition, offset)};
      const auto err = f.consumer->assign(tps);
      RdKafka::TopicPartition::destroy(tps);
      if (err != RdKafka::ERR_NO_ERROR)
        return status_from(err, fmt::format("read topic '{}' partition {}", topic, partition));
      f.topic = std::string(topic);
      f.partition = partition;
      f.next_offset = offset;
    }
    // Records known to exist are worth a round trip even when the caller asked not to wait.
    const auto first_wait =
        offset < high ? std::max(options.timeout, options_.request_timeout) : options.timeout;
    const auto deadline = std::chrono::steady_clock::now() + first_wait;
    f.messages.clear();
    int64_t bytes = 0;
    Status error;
    while (static_cast<int32_t>(f.messages.size()) < options.max_records && bytes < options.max_bytes) {
      std::chrono::milliseconds wait{0};
      if (f.messages.empty()) {
        const auto now = std::chrono::steady_clock::now();
        if (now < deadline) wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      }
      std::unique_ptr<RdKafka::Message> m(f.consumer->consume(timeout_ms(wait)));
      const RdKafka::ErrorCode err = m ? m->err() : RdKafka::ERR__TIMED_OUT;
      if (err == RdKafka::ERR_NO_ERROR) {
        // Records of a previous assignment still queued, or of a batch that began before `offset`.
        if (m->partition() != partition || m->topic_name() != topic || m->offset() < offset) continue;
        bytes += static_cast<int64_t>(m->len() + m->key_len());
        f.messages.push_back(std::move(m));
        continue;
      }
      if (err == RdKafka::ERR__TIMED_OUT || err == RdKafka::ERR__PARTITION_EOF) {
        if (!f.messages.empty() || std::chrono::steady_clock::now() >= deadline) break;
        continue;
      }
      error = status_from(err, fmt::format("read topic '{}' partition {} at offset {}", topic, partition,
                                           f.messages.empty() ? offset : f.messages.back()->offset() + 1));
      if (err == RdKafka::ERR__AUTO_OFFSET_RESET) error = Status::failed_precondition(error.message());
      break;
    }
    if (!f.messages.empty()) f.next_offset = f.messages.back()->offset() + 1;
    if (f.messages.empty() && !error.is_ok()) {
      f.topic.clear();
      return error;
    }
    fill_batch(out, f.messages, f.names);
    f.messages.clear();
    return Status::ok();
  }

  // Idle group-less consumers kept for fetch(): each costs a connection and librdkafka's threads.
  static constexpr std::size_t kIdleFetchers = 8;

  KafkaBusOptions options_;
  LogBridge log_;
  DeliveryReports reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::mutex enqueue_mu_;
  std::shared_mutex topics_mu_;
  std::map<std::string, std::unique_ptr<TopicEntry>, std::less<>> topics_;
  std::vector<std::unique_ptr<TopicEntry>> retired_;
  std::mutex fetchers_mu_;
  std::vector<std::unique_ptr<Fetcher>> fetchers_;
};

}  // namespace
}  // namespace kafka

Result<std::unique_ptr<Bus>> open_kafka_bus(const KafkaBusOptions& options) {
  if (options.bootstrap.empty())
    return Status::invalid_argument("Kafka bootstrap servers (HOST:PORT) are required");
  auto bus = std::make_unique<kafka::KafkaBus>(options);
  if (Status s = bus->open(); !s) return s;
  return std::unique_ptr<Bus>(std::move(bus));
}

Result<std::pair<std::string, std::string>> parse_kafka_property(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::invalid_argument(
        fmt::format("Kafka property '{}' must be key=value (a librdkafka property)", text));
  }
  return std::pair<std::string, std::string>(std::string(text.substr(0, eq)),
                                             std::string(text.substr(eq + 1)));
}

}  // namespace sf::bus
