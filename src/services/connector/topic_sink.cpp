// Poll → upsert → (persist →) commit loop with dead-lettering of rejected documents.
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
  std::map<int32_t, int64_t> upserted;   // partition -> next offset after the last upserted record

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

  bool draining() {
    std::lock_guard lock(drain_mutex);
    return drain_target.has_value();
  }

  // True once `positions` (this member's committed or upserted offsets), or other members' commits, reach
  // the drain target of every partition.
  bool reached_drain_target(const std::map<int32_t, int64_t>& positions) {
    std::lock_guard lock(drain_mutex);
    if (!drain_target) return false;
    for (const auto& [partition, end] : *drain_target) {
      if (end == 0) continue;
      auto it = positions.find(partition);
      if (it != positions.end() && it->second >= end) continue;
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
  const bool deferred = s.options.durability == store::Durability::kDeferred;
  const store::UpsertOptions upsert_options{.mode = s.options.mode, .durability = s.options.durability};

  // Upserted but not yet committed: with kDeferred, not yet durable in the store either.
  uint64_t pending_records = 0;
  std::chrono::steady_clock::time_point pending_since;
  // Only once the upserts are durable may the offsets move past them: committing earlier could lose them in a
  // crash. Persisting first and then committing also keeps the order the other way round safe: a crash in
  // between replays records whose upserts are already stored, which idempotent upserts absorb.
  auto commit_pending = [&]() -> Status {
    if (pending_records == 0) return Status::ok();
    if (deferred) SF_RETURN_IF_ERROR(s.store.persist(s.options.collection));
    SF_RETURN_IF_ERROR(consumer.commit());
    for (const auto& [partition, next] : s.upserted) {
      auto& committed = s.committed[partition];
      committed = std::max(committed, next);
    }
    pending_records = 0;
    ++stats_.commits;
    return Status::ok();
  };

  bus::FetchBatch batch;
  Status result;
  bool failed = false;
  auto fail = [&](Status status) {
    result = std::move(status);
    failed = true;
  };
  while (!s.stopping) {
    Status polled = consumer.poll(s.options.poll_timeout, batch);
    if (polled.code() == ErrorCode::kCancelled) break;
    if (!polled) {
      fail(polled);
      break;
    }
    if (batch.empty()) {
      // Caught up while draining: make everything durable now, which is what completes the drain.
      if (s.draining()) {
        if (Status c = commit_pending(); !c) {
          fail(c);
          break;
        }
      }
      if (s.reached_drain_target(s.committed)) break;
      continue;
    }
    s.documents.clear();
    for (const auto& record : batch) s.documents.push_back(record.value);
    stats_.consumed += batch.size();
    if (s.consumed_counter) s.consumed_counter->Increment(static_cast<double>(batch.size()));

    auto upserted = s.store.upsert(s.options.collection, s.documents, upsert_options);
    if (!upserted) {
      fail(upserted.status());
      break;
    }
    stats_.inserted += upserted->inserted;
    stats_.updated += upserted->updated;
    stats_.unchanged += upserted->unchanged;
    ++stats_.batches;
    if (Status dl = s.dead_letter(batch, *upserted, stats_); !dl) {
      fail(dl);
      break;
    }
    for (const auto& record : batch) {
      auto& next = s.upserted[record.partition];
      next = std::max(next, record.offset + 1);
    }
    if (pending_records == 0) pending_since = std::chrono::steady_clock::now();
    pending_records += batch.size();
    const bool commit_now = !deferred || !upserted->rejected.empty() ||
                            pending_records >= s.options.commit_records ||
                            std::chrono::steady_clock::now() - pending_since >= s.options.commit_interval ||
                            s.reached_drain_target(s.upserted);
    if (commit_now) {
      if (Status c = commit_pending(); !c) {
        fail(c);
        break;
      }
    }
    if (s.reached_drain_target(s.committed)) break;
  }
  // Stopped, or drained: what was upserted becomes durable and committed before run() returns. Not after a
  // failure: the next run replays from the last commit.
  if (!failed) result = commit_pending();
  std::lock_guard lock(s.consumer_mutex);
  (void)s.consumer->close();
  s.consumer.reset();
  return result;
}

}  // namespace sf::services
