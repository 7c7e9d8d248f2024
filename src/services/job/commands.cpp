// Reading a job's commands from `queue-control`: finding its `start`, watching for its `stop`.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "services/job/job.h"

namespace sf::services {
namespace {

Result<int32_t> control_partition(bus::Bus& bus, const JobSpec& spec) {
  if (spec.control_partition) return *spec.control_partition;
  return partition_for_key(bus, kControlTopic, spec.queue_id);
}

Result<int64_t> log_start(bus::Bus& bus, std::string_view topic, int32_t partition) {
  auto info = bus.describe_topic(topic);
  if (!info) return info.status();
  for (const auto& p : info->partitions) {
    if (p.partition == partition) return p.log_start_offset;
  }
  return Status::not_found(fmt::format("topic '{}' has no partition {}", topic, partition));
}

}  // namespace

bool is_start_for(const protocol::ControlMessage& message, const JobSpec& spec) {
  if (message.command != protocol::Command::kStart || message.queue_id != spec.queue_id) return false;
  if (!spec.telemetry_id.empty()) return message.telemetry_id == spec.telemetry_id;
  return !spec.target.empty() && message.target == spec.target;
}

bool is_stop_for(const protocol::ControlMessage& message, const JobSpec& spec) {
  if (message.command != protocol::Command::kStop || message.queue_id != spec.queue_id) return false;
  if (!message.telemetry_id.empty() && !spec.telemetry_id.empty() &&
      message.telemetry_id != spec.telemetry_id) {
    return false;
  }
  if (!message.target.empty() && !spec.target.empty() && message.target != spec.target) return false;
  return true;
}

Result<StartCommand> find_start_command(bus::Bus& bus, const JobSpec& spec, std::chrono::milliseconds timeout,
                                        std::stop_token stop) {
  if (spec.queue_id.empty()) return Status::invalid_argument("job spec: queue_id is missing");
  if (spec.target.empty() && spec.telemetry_id.empty()) {
    return Status::invalid_argument("job spec: neither target nor telemetry_id is set");
  }
  auto partition = control_partition(bus, spec);
  if (!partition) return partition.status();
  int64_t offset = 0;
  if (spec.control_offset) {
    offset = *spec.control_offset;
  } else {
    auto start = log_start(bus, kControlTopic, *partition);
    if (!start) return start.status();
    offset = *start;
  }
  PartitionTail tail(bus, std::string(kControlTopic), *partition, offset);
  bus::FetchBatch batch;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (stop.stop_requested()) {
      return Status::cancelled(
          fmt::format("stopped while looking for the start command of {}", spec.queue_id));
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    SF_RETURN_IF_ERROR(tail.next(std::min(left, std::chrono::milliseconds(100)), batch));
    for (const auto& record : batch) {
      auto message = protocol::parse_control_message(record.value);
      if (!message) continue;  // not ours to judge: other jobs may understand newer commands
      if (is_start_for(*message, spec)) {
        return StartCommand{std::move(message).value(), record.partition, record.offset};
      }
    }
  }
  return Status::not_found(fmt::format(
      "no start command for queue_id '{}' (telemetry_id '{}', target '{}') on {} partition {} from offset {} "
      "within {} ms",
      spec.queue_id, spec.telemetry_id, spec.target, kControlTopic, *partition, offset, timeout.count()));
}

// ---------------------------------------------------------------------------------------------------------

struct StopWatcher::Impl {
  std::jthread thread;
};

StopWatcher::StopWatcher(bus::Bus& bus, JobSpec spec, int32_t partition, int64_t from_offset,
                         std::function<void(const protocol::ControlMessage&)> on_stop,
                         std::chrono::milliseconds poll_interval)
    : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::jthread([&bus, spec = std::move(spec), partition, from_offset,
                                on_stop = std::move(on_stop), poll_interval](std::stop_token token) {
    PartitionTail tail(bus, std::string(kControlTopic), partition, from_offset);
    bus::FetchBatch batch;
    while (!token.stop_requested()) {
      Status read = tail.next(poll_interval, batch);
      if (!read) {
        spdlog::warn("job {}: reading {}: {}", spec.telemetry_id, kControlTopic, read.to_string());
        std::this_thread::sleep_for(poll_interval);
        continue;
      }
      for (const auto& record : batch) {
        auto message = protocol::parse_control_message(record.value);
        if (message && is_stop_for(*message, spec)) {
          on_stop(*message);
          return;
        }
      }
    }
  });
}

StopWatcher::~StopWatcher() = default;  // the jthread requests stop and joins

}  // namespace sf::services
