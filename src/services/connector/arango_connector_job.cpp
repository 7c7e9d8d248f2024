// The arango-connector job: TopicSink on the workflow's data topic, drained once its loaders have finished.
#include "services/connector/arango_connector_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "protocol/naming.h"
#include "services/connector/topic_sink.h"

namespace sf::services {
namespace {

// Records in `topic` (log end - log start over its partitions); 0 when it does not exist.
int64_t topic_records(bus::Bus& bus, std::string_view topic) {
  auto info = bus.describe_topic(topic);
  if (!info) return 0;
  int64_t n = 0;
  for (const auto& p : info->partitions) n += p.log_end_offset - p.log_start_offset;
  return n;
}

Result<std::map<int32_t, int64_t>> end_offsets(bus::Bus& bus, std::string_view topic) {
  auto info = bus.describe_topic(topic);
  if (!info) return info.status();
  std::map<int32_t, int64_t> ends;
  for (const auto& p : info->partitions) ends[p.partition] = p.log_end_offset;
  return ends;
}

// Records the group has committed on `topic`: what earlier runs of this connector already processed.
int64_t committed_records(bus::Bus& bus, std::string_view group, std::string_view topic) {
  auto info = bus.describe_topic(topic);
  if (!info) return 0;
  int64_t n = 0;
  for (const auto& p : info->partitions) {
    auto committed = bus.committed_offset(group, topic, p.partition);
    if (committed && committed->has_value()) n += std::max<int64_t>(0, **committed - p.log_start_offset);
  }
  return n;
}

// How the workflow's loaders ended, as seen on queue-events.
struct UpstreamWatch {
  std::optional<std::set<std::string>> expected;  // telemetry ids to wait for; nullopt = the first loader-*
  std::map<std::string, protocol::EventMessage> finished;  // producer -> its terminal event

  bool relevant(const protocol::EventMessage& event) const {
    if (expected) return expected->count(event.producer) > 0;
    return event.producer.rfind("loader-", 0) == 0;
  }
  void observe(const protocol::EventMessage& event) {
    if (!protocol::is_terminal(event.status) || !relevant(event)) return;
    finished.emplace(event.producer, event);  // the first terminal event of a producer counts
  }
  bool done() const {
    if (expected) return finished.size() >= expected->size();
    return !finished.empty();
  }
  // The worst ending: error over stopped over completed.
  const protocol::EventMessage* worst() const {
    const protocol::EventMessage* out = nullptr;
    auto rank = [](protocol::WorkflowStatus s) {
      return s == protocol::WorkflowStatus::kError ? 2 : s == protocol::WorkflowStatus::kStopped ? 1 : 0;
    };
    for (const auto& [producer, event] : finished) {
      if (!out || rank(event.status) > rank(out->status)) out = &event;
    }
    return out;
  }
};

Result<UpstreamWatch> upstream_of(const protocol::ControlMessage& start) {
  UpstreamWatch watch;
  auto upstream = start.extra_field<protocol::Json>("upstream");
  if (!upstream) return upstream.status();
  if (!upstream->has_value()) return watch;
  const protocol::Json& list = **upstream;
  if (!list.is_array()) {
    return Status::invalid_argument(
        "queue-control message: field 'upstream' must be an array of telemetry ids");
  }
  watch.expected.emplace();
  for (const auto& item : list) {
    if (!item.is_string()) {
      return Status::invalid_argument(
          "queue-control message: field 'upstream' must be an array of telemetry ids");
    }
    watch.expected->insert(item.get<std::string>());
  }
  return watch;
}

}  // namespace

std::string connector_group(const protocol::ControlMessage& start) {
  return fmt::format("{}-connector", start.telemetry_id.empty() ? start.queue_id : start.telemetry_id);
}

std::unique_ptr<Job> make_arango_connector_job() {
  return std::make_unique<ArangoConnectorJob>();
}

Status ArangoConnectorJob::run(JobContext& ctx) {
  const protocol::ControlMessage& start = ctx.command();
  const std::string group = connector_group(start);
  const std::string dlq = protocol::dead_letter_topic(start.queue_id);
  const std::string& self = ctx.telemetry.identity().producer;

  auto upstream = upstream_of(start);
  if (!upstream) return upstream.status();
  UpstreamWatch& watch = *upstream;
  auto events_offset = start.extra_field<int64_t>("events_offset");
  if (!events_offset) return events_offset.status();

  // The manager creates the data topic; creating it here (if missing) lets a connector wait for its loader.
  SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(start.kafka_topic, bus::TopicConfig{}));
  auto events_partition = partition_for_key(ctx.bus, kEventsTopic, start.queue_id);
  if (!events_partition) return events_partition.status();
  int64_t events_from = events_offset->value_or(0);
  PartitionTail events(ctx.bus, std::string(kEventsTopic), *events_partition, events_from);

  // Counts from earlier runs of this connector (a restart resumes from the group's committed offsets).
  const int64_t rejected_before = topic_records(ctx.bus, dlq);
  const int64_t written_before =
      std::max<int64_t>(0, committed_records(ctx.bus, group, start.kafka_topic) - rejected_before);

  auto type = protocol::parse_workflow_type(start.type);
  const bool live = type && type->source == protocol::Source::kWs;
  // Backfills write deferred (no store log; durable before each offset commit). Live streams keep the store's
  // log: at their rates a periodic persist would flush a tiny table file per collection every few seconds.
  TopicSink sink(
      ctx.bus, ctx.store,
      TopicSinkOptions{.topic = start.kafka_topic,
                       .group = group,
                       .collection = start.collection_name,
                       .dead_letter_topic = dlq,
                       .mode = store::UpsertMode::kUpdate,
                       .poll_timeout = ctx.settings.poll_interval,
                       .durability = live ? store::Durability::kLogged : store::Durability::kDeferred},
      ctx.metrics);
  auto written = [&] { return written_before + static_cast<int64_t>(sink.stats().written()); };
  auto rejected = [&] { return rejected_before + static_cast<int64_t>(sink.stats().rejected); };
  auto summary = [&] {
    int64_t r = rejected();
    return r == 0 ? fmt::format("Saved {} records", written())
                  : fmt::format("Saved {} records; {} rejected to {}", written(), r, dlq);
  };

  Status sink_status;
  std::atomic<bool> sink_done{false};
  std::thread runner([&] {
    sink_status = sink.run();
    sink_done = true;
  });

  bool draining = false;
  bool stopped_by_request = false;
  Status watch_error;
  bus::FetchBatch batch;
  auto drain = [&]() -> Status {
    auto ends = end_offsets(ctx.bus, start.kafka_topic);
    if (!ends) return ends.status();
    spdlog::info("connector {}: loaders finished; draining {} to its end offsets", self, start.kafka_topic);
    sink.drain_to(std::move(ends).value());
    draining = true;
    return Status::ok();
  };
  if (watch.expected && watch.expected->empty()) watch_error = drain();

  // A live (ws_) workflow only ends by `stop`: its loaders then publish what they still hold and report
  // `stopped`; the connector waits for that (up to kLiveStopGrace) and drains the topic, so everything the
  // loaders received is stored. Other workflows stop at once.
  constexpr auto kLiveStopGrace = std::chrono::seconds(30);
  std::optional<std::chrono::steady_clock::time_point> stop_seen;
  while (!sink_done && watch_error.is_ok()) {
    if (ctx.stop_requested()) {
      const auto now = std::chrono::steady_clock::now();
      if (!stop_seen) stop_seen = now;
      if (!live || now - *stop_seen > kLiveStopGrace) {
        stopped_by_request = true;
        break;
      }
    }
    if (!draining) {
      Status read = events.next(ctx.settings.poll_interval, batch);
      if (!read) {
        watch_error = read;
        break;
      }
      for (const auto& record : batch) {
        auto event = protocol::parse_event_message(record.value);
        if (!event || event->queue_id != start.queue_id || event->producer == self) continue;
        watch.observe(*event);
      }
      if (watch.done()) watch_error = drain();
    } else {
      std::this_thread::sleep_for(ctx.settings.poll_interval);
    }
    if (Status p = ctx.telemetry.progress(written(), summary()); !p) {
      spdlog::warn("connector {}: publishing progress: {}", self, p.to_string());
    }
  }
  sink.stop();
  runner.join();
  ctx.telemetry.set_records_written(written());

  if (!sink_status) return sink_status;
  if (!watch_error) return watch_error;
  if (stopped_by_request || !draining)
    return Status::cancelled(fmt::format("stopped on request; {}", summary()));
  const protocol::EventMessage* outcome = watch.worst();
  if (outcome && outcome->status == protocol::WorkflowStatus::kError) {
    return Status::failed_precondition(
        fmt::format("loader {} failed ({}); {}", outcome->producer, outcome->message, summary()));
  }
  if (outcome && outcome->status == protocol::WorkflowStatus::kStopped) {
    return Status::cancelled(
        fmt::format("loader {} stopped ({}); {}", outcome->producer, outcome->message, summary()));
  }
  ctx.result_message = summary();
  return Status::ok();
}

}  // namespace sf::services
