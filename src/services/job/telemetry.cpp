// Service topics, partition tails and the telemetry publisher.
#include <fmt/format.h>

#include "services/job/job.h"

namespace sf::services {

Status ensure_service_topics(bus::Bus& bus, const ServiceTopicsConfig& config) {
  SF_RETURN_IF_ERROR(
      bus.ensure_topic(kControlTopic, bus::TopicConfig{.partitions = config.control_partitions}));
  return bus.ensure_topic(kEventsTopic, bus::TopicConfig{.partitions = config.events_partitions});
}

Result<int32_t> partition_for_key(bus::Bus& bus, std::string_view topic, std::string_view key) {
  auto info = bus.describe_topic(topic);
  if (!info) return info.status();
  return bus::default_partition(key, info->config.partitions);
}

double epoch_seconds_now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) / 1e6;
}

// ---------------------------------------------------------------------------------------------------------

PartitionTail::PartitionTail(bus::Bus& bus, std::string topic, int32_t partition, int64_t offset)
    : bus_(bus), topic_(std::move(topic)), partition_(partition), offset_(offset) {}

Status PartitionTail::next(std::chrono::milliseconds timeout, bus::FetchBatch& out) {
  bus::FetchOptions options;
  options.timeout = timeout;
  options.max_records = 1000;
  Status fetched = bus_.fetch(topic_, partition_, offset_, options, out);
  if (fetched.code() == ErrorCode::kFailedPrecondition) {
    // Below the log start (retention) or past the end: restart from the oldest record still kept.
    auto info = bus_.describe_topic(topic_);
    if (!info) return info.status();
    for (const auto& p : info->partitions) {
      if (p.partition != partition_) continue;
      offset_ = offset_ < p.log_start_offset ? p.log_start_offset : p.log_end_offset;
    }
    fetched = bus_.fetch(topic_, partition_, offset_, options, out);
  }
  SF_RETURN_IF_ERROR(fetched);
  if (!out.empty()) offset_ = out[out.size() - 1].offset + 1;
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------------------

TelemetryPublisher::TelemetryPublisher(bus::Bus& bus, TelemetryIdentity identity, TelemetryOptions options)
    : bus_(bus), identity_(std::move(identity)), options_(options) {}

protocol::EventMessage TelemetryPublisher::make_event(protocol::WorkflowStatus status, std::string message,
                                                      std::optional<int64_t> records_written,
                                                      std::optional<bool> finished) const {
  protocol::EventMessage event;
  event.queue_id = identity_.queue_id;
  event.producer = identity_.producer;
  event.symbol = identity_.symbol;
  event.type = identity_.type;
  event.status = status;
  event.message = message.empty() ? std::string(protocol::status_name(status)) : std::move(message);
  {
    std::lock_guard lock(mu_);
    event.records_written = records_written.value_or(records_written_);
  }
  event.finished = finished.value_or(protocol::is_terminal(status));
  event.timestamp = epoch_seconds_now();
  return event;
}

Status TelemetryPublisher::publish(protocol::WorkflowStatus status, std::string message,
                                   std::optional<int64_t> records_written, std::optional<bool> finished) {
  if (records_written) set_records_written(*records_written);
  protocol::EventMessage event = make_event(status, std::move(message), records_written, finished);
  const std::string value = protocol::serialize(event);
  bus::OutgoingRecord record;
  record.key = identity_.queue_id;
  record.value = value;
  auto produced = bus_.produce(kEventsTopic, std::span<const bus::OutgoingRecord>(&record, 1));
  if (!produced) return produced.status();
  std::lock_guard lock(mu_);
  ++published_;
  return Status::ok();
}

Status TelemetryPublisher::progress(int64_t records_written, std::string message) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    records_written_ = records_written;
    if (last_loading_ && now - *last_loading_ < options_.loading_interval) return Status::ok();
  }
  return loading(records_written, std::move(message));
}

Status TelemetryPublisher::loading(int64_t records_written, std::string message) {
  if (message.empty()) message = fmt::format("{} records", records_written);
  {
    std::lock_guard lock(mu_);
    last_loading_ = std::chrono::steady_clock::now();
  }
  return publish(protocol::WorkflowStatus::kLoading, std::move(message), records_written, false);
}

void TelemetryPublisher::set_records_written(int64_t records_written) {
  std::lock_guard lock(mu_);
  records_written_ = records_written;
}

int64_t TelemetryPublisher::records_written() const {
  std::lock_guard lock(mu_);
  return records_written_;
}

int64_t TelemetryPublisher::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace sf::services
