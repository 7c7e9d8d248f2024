// Poll → upsert → commit loop with dead-lettering of rejected documents.
#include "services/connector/topic_sink.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <vector>

namespace sf::services {

struct TopicSink::Impl {
  bus::Bus& bus;
  store::Store& store;
  TopicSinkOptions options;
  std::shared_ptr<MetricsRegistry> metrics;

  std::atomic<bool> stopping{false};
  std::mutex drain_mutex;
  std::optional<std::map<int32_t, int64_t>> drain_target;  // guarded by drain_mutex
  std::unique_ptr<bus::Consumer> consumer;                 // set while run() is active
  std::mutex consumer_mutex;

  // Reused across batches so the steady state allocates nothing per record.
  std::vector<std::string_view> documents;
  std::map<int32_t, int64_t> committed;  // partition -> committed next offset (this member's view)

  prometheus::Counter* consumed_counter = nullptr;
  prometheus::Counter* rejected_counter = nullptr;

  Impl(bus::Bus& b, store::Store& s, TopicSinkOptions o, std::shared_ptr<MetricsRegistry> m)
      : bus(b), store(s), options(std::move(o)), metrics(std::move(m)) {
    if (options.dead_letter_topic.empty()) options.dead_letter_topic = options.topic + "-dlq";
    if (metrics) {
      consumed_counter = &prometheus::BuildCounter()
                              .Name("streamforge_sink_records_consumed_total")
                              .Help("Records polled from the data topic by the topic sink")
                              .Register(*metrics)
                              .Add({{"topic", options.topic}});
      rejected_counter = &prometheus::BuildCounter()
                              .Name("streamforge_sink_records_dead_lettered_total")
                              .Help("Records the store rejected, copied to the dead-letter topic")
                              .Register(*metrics)
                              .Add({{"topic", options.topic}});
    }
  }

  bool drained() {
    std::lock_guard lock(drain_mutex);
    if (!drain_target) return false;
    for (const auto& [partition, end] : *drain_target) {
      if (end == 0) continue;
      auto it = committed.find(partition);
      if (it != committed.end() && it->second >= end) continue;
      // A partition this member does not own may have been finished by another member of the group.
      auto other = bus.committed_offset(options.group, options.topic, partition);
      if (other && other->has_value() && **other >= end) continue;
      return false;
    }
    return true;
  }

  Status dead_letter(const bus::FetchBatch& batch, const store::UpsertResult& result, TopicSinkStats& stats) {
    if (result.rejected.empty()) return Status::ok();
    std::vector<bus::OutgoingRecord> out;
    std::vector<std::array<bus::Header, 4>> headers(result.rejected.size());
    std::vector<std::array<std::string, 3>> header_values(result.rejected.size());
    out.reserve(result.rejected.size());
    for (size_t i = 0; i < result.rejected.size(); ++i) {
      const auto& error = result.rejected[i];
      const auto& record = batch[error.index];
      spdlog::warn("sink {}: record {}/{}@{} rejected: {}", options.topic, record.topic, record.partition,
                   record.offset, error.message);
      header_values[i] = {std::string(record.topic), std::to_string(record.partition),
                          std::to_string(record.offset)};
      headers[i] = {bus::Header{"error", error.message}, bus::Header{"source_topic", header_values[i][0]},
                    bus::Header{"source_partition", header_values[i][1]},
                    bus::Header{"source_offset", header_values[i][2]}};
      bus::OutgoingRecord dlq;
      if (!record.key_is_null) dlq.key = record.key;
      dlq.value = record.value;
      dlq.timestamp_ms = record.timestamp_ms;
      dlq.headers = headers[i];
      out.push_back(dlq);
    }
    SF_RETURN_IF_ERROR(bus.ensure_topic(options.dead_letter_topic, bus::TopicConfig{}));
    auto produced = bus.produce(options.dead_letter_topic, out);
    if (!produced) return produced.status();
    stats.rejected += result.rejected.size();
    if (rejected_counter) rejected_counter->Increment(static_cast<double>(result.rejected.size()));
    return Status::ok();
  }
};

TopicSink::TopicSink(bus::Bus& bus, store::Store& store, TopicSinkOptions options,
                     std::shared_ptr<MetricsRegistry> metrics)
    : impl_(std::make_unique<Impl>(bus, store, std::move(options), std::move(metrics))) {}

TopicSink::~TopicSink() = default;

void TopicSink::drain_to(std::map<int32_t, int64_t> end_offsets) {
  std::lock_guard lock(impl_->drain_mutex);
  impl_->drain_target = std::move(end_offsets);
}

void TopicSink::stop() {
  impl_->stopping = true;
  std::lock_guard lock(impl_->consumer_mutex);
  if (impl_->consumer) impl_->consumer->wakeup();
}

Status TopicSink::run() {
  Impl& s = *impl_;
  SF_RETURN_IF_ERROR(s.store.create_collection(s.options.collection));
  auto subscribed = s.bus.subscribe(s.options.group, {s.options.topic}, bus::ConsumerOptions{});
  if (!subscribed) return subscribed.status();
  {
    std::lock_guard lock(s.consumer_mutex);
    s.consumer = std::move(subscribed).value();
  }
  bus::Consumer& consumer = *s.consumer;
  bus::FetchBatch batch;
  Status result;
  while (!s.stopping) {
    Status polled = consumer.poll(s.options.poll_timeout, batch);
    if (polled.code() == ErrorCode::kCancelled) break;
    if (!polled) {
      result = polled;
      break;
    }
    if (batch.empty()) {
      if (s.drained()) break;
      continue;
    }
    s.documents.clear();
    for (const auto& record : batch) s.documents.push_back(record.value);
    stats_.consumed += batch.size();
    if (s.consumed_counter) s.consumed_counter->Increment(static_cast<double>(batch.size()));

    auto upserted = s.store.upsert(s.options.collection, s.documents, s.options.mode);
    if (!upserted) {
      result = upserted.status();
      break;
    }
    stats_.inserted += upserted->inserted;
    stats_.updated += upserted->updated;
    stats_.unchanged += upserted->unchanged;
    if (Status dl = s.dead_letter(batch, *upserted, stats_); !dl) {
      result = dl;
      break;
    }
    // Only now is the batch durable in the store: committing earlier could lose it in a crash.
    if (Status committed = consumer.commit(); !committed) {
      result = committed;
      break;
    }
    for (const auto& record : batch) {
      auto& next = s.committed[record.partition];
      next = std::max(next, record.offset + 1);
    }
    ++stats_.batches;
    if (s.drained()) break;
  }
  std::lock_guard lock(s.consumer_mutex);
  (void)s.consumer->close();
  s.consumer.reset();
  return result;
}

}  // namespace sf::services
