// The embedded Bus: topics, produce/fetch, consumer groups and background maintenance (see embedded_bus.h).
#include "bus/embedded/embedded_bus.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "bus/fetch_batch_access.h"
#include "bus/record_batch.h"

namespace sf::bus {

Result<std::unique_ptr<Bus>> open_embedded_bus(const EmbeddedBusOptions& options) {
  auto bus = embedded::EmbeddedBus::open(options);
  if (!bus) return bus.status();
  return std::unique_ptr<Bus>(std::move(*bus));
}

}  // namespace sf::bus

namespace sf::bus::embedded {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

TimestampMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status validate_config(const TopicConfig& c) {
  if (c.partitions < 1 || c.partitions > 100000) {
    return Status::invalid_argument(fmt::format("partitions must be in [1, 100000], not {}", c.partitions));
  }
  if (c.segment_bytes != -1 && (c.segment_bytes < 1 || c.segment_bytes > INT32_MAX)) {
    return Status::invalid_argument(
        fmt::format("segment_bytes must be -1 or in [1, 2^31-1], not {}", c.segment_bytes));
  }
  if (c.retention_bytes < -1) return Status::invalid_argument("retention_bytes must be -1 or >= 0");
  if (c.retention_ms < -1) return Status::invalid_argument("retention_ms must be -1 or >= 0");
  return Status::ok();
}

std::string topic_json(const std::string& name, const TopicConfig& c) {
  nlohmann::json j = {{"format", 1},
                      {"name", name},
                      {"partitions", c.partitions},
                      {"retention_bytes", c.retention_bytes},
                      {"retention_ms", c.retention_ms},
                      {"segment_bytes", c.segment_bytes}};
  return j.dump(2) + "\n";
}

// A deadline `timeout` from now; negative means now, and absurdly long timeouts cannot overflow the clock.
Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  constexpr std::chrono::milliseconds kMax = std::chrono::hours(24 * 365);
  return Clock::now() + std::clamp(timeout, std::chrono::milliseconds(0), kMax);
}

Status not_found_topic(std::string_view name) {
  return Status::not_found(fmt::format("topic '{}' does not exist", name));
}

Status partition_not_found(const Topic& topic, int32_t partition) {
  return Status::not_found(fmt::format("topic '{}' has {} partition(s); partition {} does not exist",
                                       *topic.name, topic.config.partitions, partition));
}

LogConfig log_config(const TopicConfig& c, const EmbeddedBusOptions& o) {
  return LogConfig{c.segment_bytes, o.index_interval_bytes, c.retention_bytes, c.retention_ms};
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Notifier

void Notifier::notify() {
  epoch_.fetch_add(1);
  if (waiters_.load() > 0) {
    { std::lock_guard lock(mu_); }  // a waiter between its check and its sleep holds mu_: no lost wake-up
    cv_.notify_all();
  }
}

void Notifier::wait(uint64_t seen, Clock::time_point deadline) {
  waiters_.fetch_add(1);
  {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return epoch_.load() != seen; });
  }
  waiters_.fetch_sub(1);
}

Notifier& EmbeddedBus::partition_notifier(std::string_view topic, int32_t partition) {
  const std::size_t h =
      std::hash<std::string_view>{}(topic) ^ (static_cast<std::size_t>(partition) * 0x9e3779b97f4a7c15ULL);
  return partition_notifiers_[(h ^ (h >> 29)) % kNotifierShards];
}

void EmbeddedBus::notify_appended(std::string_view topic, int32_t partition) {
  partition_notifier(topic, partition).notify();
  notifier_.notify();
}

void EmbeddedBus::notify_everyone() {
  notifier_.notify();
  for (auto& n : partition_notifiers_) n.notify();
}

// ---------------------------------------------------------------------------------------------------------
// Metrics

BusMetrics::BusMetrics(prometheus::Registry* registry) {
  if (registry == nullptr) return;
  records_appended_ = &prometheus::BuildCounter()
                           .Name("streamforge_bus_records_appended_total")
                           .Help("Records appended to the embedded bus")
                           .Register(*registry);
  bytes_appended_ = &prometheus::BuildCounter()
                         .Name("streamforge_bus_bytes_appended_total")
                         .Help("Record batch bytes appended to the embedded bus")
                         .Register(*registry);
  records_read_ = &prometheus::BuildCounter()
                       .Name("streamforge_bus_records_read_total")
                       .Help("Records read from the embedded bus (fetch and poll)")
                       .Register(*registry);
  bytes_read_ = &prometheus::BuildCounter()
                     .Name("streamforge_bus_bytes_read_total")
                     .Help("Key and value bytes read from the embedded bus")
                     .Register(*registry);
  fsyncs_ = &prometheus::BuildCounter()
                 .Name("streamforge_bus_fsyncs_total")
                 .Help("fdatasync calls on segment files")
                 .Register(*registry)
                 .Add({});
  truncated_bytes_ = &prometheus::BuildCounter()
                          .Name("streamforge_bus_recovery_truncated_bytes_total")
                          .Help("Torn or corrupt tail bytes cut off by recovery")
                          .Register(*registry)
                          .Add({});
  segments_deleted_ = &prometheus::BuildCounter()
                           .Name("streamforge_bus_retention_deleted_segments_total")
                           .Help("Segments deleted by retention")
                           .Register(*registry)
                           .Add({});
}

TopicCounters BusMetrics::add_topic(const std::string& topic) {
  if (records_appended_ == nullptr) return {};
  return {&records_appended_->Add({{"topic", topic}}), &bytes_appended_->Add({{"topic", topic}}),
          &records_read_->Add({{"topic", topic}}), &bytes_read_->Add({{"topic", topic}})};
}

void BusMetrics::remove_topic(const TopicCounters& c) {
  if (records_appended_ == nullptr) return;
  records_appended_->Remove(c.records_appended);
  bytes_appended_->Remove(c.bytes_appended);
  records_read_->Remove(c.records_read);
  bytes_read_->Remove(c.bytes_read);
}

// ---------------------------------------------------------------------------------------------------------
// Open, load, close

EmbeddedBus::EmbeddedBus(const EmbeddedBusOptions& options)
    : options_(options),
      topics_dir_(options.dir / "topics"),
      groups_dir_(options.dir / "groups"),
      tmp_dir_(options.dir / "tmp"),
      trash_dir_(options.dir / "trash"),
      metrics_(options.metrics.get()) {}

Result<std::unique_ptr<EmbeddedBus>> EmbeddedBus::open(const EmbeddedBusOptions& options) {
  if (options.dir.empty()) return Status::invalid_argument("EmbeddedBusOptions::dir is empty");
  if (options.fsync_interval_ms < 1) return Status::invalid_argument("fsync_interval_ms must be >= 1");
  if (options.retention_check_interval_ms < 1) {
    return Status::invalid_argument("retention_check_interval_ms must be >= 1");
  }
  if (options.segment_bytes < 1 || options.segment_bytes > INT32_MAX) {
    return Status::invalid_argument("segment_bytes must be in [1, 2^31-1]");
  }
  if (options.index_interval_bytes < 0) return Status::invalid_argument("index_interval_bytes must be >= 0");
  if (options.default_partitions < 1) return Status::invalid_argument("default_partitions must be >= 1");

  std::unique_ptr<EmbeddedBus> bus(new EmbeddedBus(options));
  SF_RETURN_IF_ERROR(create_dirs(options.dir));
  auto lock = open_file(options.dir / "LOCK", O_RDWR | O_CREAT);
  if (!lock) return lock.status();
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return Status::failed_precondition(fmt::format(
          "bus data directory {} is in use by another process or Bus (flock on LOCK)", options.dir.string()));
    }
    return errno_status("flock", options.dir / "LOCK", err);
  }
  bus->lock_fd_ = std::move(*lock);
  SF_RETURN_IF_ERROR(bus->load());
  bus->maintenance_ = std::thread([b = bus.get()] { b->maintenance_loop(); });
  return bus;
}

Status EmbeddedBus::load() {
  // Leftovers of a create or delete interrupted by a crash.
  SF_RETURN_IF_ERROR(remove_tree(tmp_dir_));
  SF_RETURN_IF_ERROR(remove_tree(trash_dir_));
  for (const auto& dir : {topics_dir_, groups_dir_, tmp_dir_, trash_dir_})
    SF_RETURN_IF_ERROR(create_dirs(dir));

  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(topics_dir_, ec)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  if (ec) return Status::io_error(fmt::format("list {}: {}", topics_dir_.string(), ec.message()));
  for (const auto& name : names) {
    // One bad topic must not take the others down: report it and carry on without it.
    if (Status loaded = load_topic(name); !loaded) {
      spdlog::error("bus: topic '{}' not loaded: {}", name, loaded.to_string());
    }
  }
  return load_groups();
}

Status EmbeddedBus::load_topic(const std::string& name) {
  SF_RETURN_IF_ERROR(validate_topic_name(name));
  const fs::path dir = topics_dir_ / name;
  auto text = read_file(dir / "topic.json");
  if (!text) return text.status();
  TopicConfig config;
  try {
    auto j = nlohmann::json::parse(*text);
    config.partitions = j.at("partitions").get<int32_t>();
    config.retention_bytes = j.at("retention_bytes").get<int64_t>();
    config.retention_ms = j.at("retention_ms").get<int64_t>();
    config.segment_bytes = j.at("segment_bytes").get<int64_t>();
  } catch (const std::exception& e) {
    return Status::corruption(fmt::format("{}: {}", (dir / "topic.json").string(), e.what()));
  }
  SF_RETURN_IF_ERROR(validate_config(config));
  if (config.segment_bytes < 0) config.segment_bytes = options_.segment_bytes;

  auto topic = std::make_shared<Topic>();
  topic->name = std::make_shared<const std::string>(name);
  topic->config = config;
  topic->dir = dir;
  for (int32_t p = 0; p < config.partitions; ++p) {
    PartitionLog::Recovery recovery;
    auto log = PartitionLog::open(dir / std::to_string(p), fmt::format("{}/{}", name, p),
                                  log_config(config, options_), &recovery);
    if (!log) return log.status();
    metrics_.truncated_bytes(static_cast<double>(recovery.truncated_bytes));
    topic->partitions.push_back(std::move(*log));
  }
  topic->counters = metrics_.add_topic(name);
  std::unique_lock lock(topics_mu_);
  topics_[name] = std::move(topic);
  return Status::ok();
}

Status EmbeddedBus::load_groups() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(groups_dir_, ec)) {
    const std::string filename = entry.path().filename().string();
    if (!filename.ends_with(".offsets")) continue;
    const std::string id = filename.substr(0, filename.size() - std::string_view(".offsets").size());
    if (!validate_group_id(id)) continue;
    auto group = std::make_unique<Group>();
    group->id = id;
    auto file = GroupOffsetsFile::open(entry.path(), &group->committed);
    if (!file) {
      spdlog::error("bus: consumer group '{}' offsets not loaded: {}", id, file.status().to_string());
      continue;
    }
    group->file = std::move(*file);
    std::lock_guard lock(groups_mu_);
    groups_[id] = std::move(group);
  }
  if (ec) return Status::io_error(fmt::format("list {}: {}", groups_dir_.string(), ec.message()));
  return Status::ok();
}

EmbeddedBus::~EmbeddedBus() {
  assert(live_consumers_.load() == 0 && "every Consumer must be destroyed before its Bus");
  {
    std::lock_guard lock(maintenance_mu_);
    stopping_ = true;
  }
  maintenance_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  run_seals();
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::shared_lock lock(topics_mu_);
    for (const auto& [name, topic] : topics_) topics.push_back(topic);
  }
  for (const auto& topic : topics) {
    for (const auto& log : topic->partitions) {
      if (Status closed = log->close(); !closed)
        spdlog::error("bus: closing {}: {}", log->name(), closed.to_string());
    }
  }
  std::lock_guard lock(groups_mu_);
  for (auto& [id, group] : groups_) {
    if (group->file) {
      if (auto synced = group->file->sync(); !synced) {
        spdlog::error("bus: syncing offsets of group '{}': {}", id, synced.status().to_string());
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Topics

std::shared_ptr<Topic> EmbeddedBus::find_topic(std::string_view name) const {
  std::shared_lock lock(topics_mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Topic>> EmbeddedBus::topic_for_use(std::string_view name, bool may_create) {
  if (auto topic = find_topic(name)) return topic;
  if (!may_create || !options_.auto_create_topics) return not_found_topic(name);
  TopicConfig config;
  config.partitions = options_.default_partitions;
  SF_RETURN_IF_ERROR(ensure_topic(name, config));
  if (auto topic = find_topic(name)) return topic;
  return not_found_topic(name);  // deleted again meanwhile
}

Status EmbeddedBus::create_topic(std::string_view name, const TopicConfig& config) {
  return create_topic_impl(name, config);
}

Status EmbeddedBus::ensure_topic(std::string_view name, const TopicConfig& config) {
  if (find_topic(name)) return Status::ok();
  Status created = create_topic_impl(name, config);
  if (created.code() == ErrorCode::kAlreadyExists) return Status::ok();
  return created;
}

Status EmbeddedBus::create_topic_impl(std::string_view name, const TopicConfig& requested) {
  SF_RETURN_IF_ERROR(validate_topic_name(name));
  SF_RETURN_IF_ERROR(validate_config(requested));
  TopicConfig config = requested;
  if (config.segment_bytes < 0) config.segment_bytes = options_.segment_bytes;
  const std::string topic_name(name);
  {
    std::lock_guard admin(admin_mu_);
    if (find_topic(name)) return Status::already_exists(fmt::format("topic '{}' already exists", name));
    // topic.json is written in tmp/ and the directory renamed into topics/: a crash leaves no half topic.
    const fs::path staging = tmp_dir_ / topic_name;
    const fs::path dir = topics_dir_ / topic_name;
    SF_RETURN_IF_ERROR(remove_tree(staging));
    SF_RETURN_IF_ERROR(create_dirs(staging));
    SF_RETURN_IF_ERROR(write_file_atomic(staging / "topic.json", topic_json(topic_name, config)));
    if (::rename(staging.c_str(), dir.c_str()) != 0)
      return errno_status("rename to " + dir.string(), staging, errno);
    SF_RETURN_IF_ERROR(sync_dir(topics_dir_));

    auto topic = std::make_shared<Topic>();
    topic->name = std::make_shared<const std::string>(topic_name);
    topic->config = config;
    topic->dir = dir;
    for (int32_t p = 0; p < config.partitions; ++p) {
      auto log = PartitionLog::open(dir / std::to_string(p), fmt::format("{}/{}", topic_name, p),
                                    log_config(config, options_), nullptr);
      if (!log) return log.status();
      topic->partitions.push_back(std::move(*log));
    }
    topic->counters = metrics_.add_topic(topic_name);
    std::unique_lock lock(topics_mu_);
    topics_[topic_name] = std::move(topic);
  }
  spdlog::info("bus: created topic '{}' ({} partition(s))", name, config.partitions);
  rebalance_subscribers(name);
  return Status::ok();
}

Status EmbeddedBus::delete_topic(std::string_view name) {
  std::shared_ptr<Topic> topic;
  {
    std::lock_guard admin(admin_mu_);
    {
      std::unique_lock lock(topics_mu_);
      auto it = topics_.find(name);
      if (it == topics_.end()) return not_found_topic(name);
      topic = it->second;
      topics_.erase(it);
    }
    for (const auto& log : topic->partitions) log->mark_deleted();
    // Rename first (atomic), then remove: a crash in between leaves only trash, emptied on open.
    const fs::path trash = trash_dir_ / fmt::format("{}.{}", *topic->name, ++trash_counter_);
    if (::rename(topic->dir.c_str(), trash.c_str()) != 0) {
      return errno_status("rename to " + trash.string(), topic->dir, errno);
    }
    SF_RETURN_IF_ERROR(sync_dir(topics_dir_));
    SF_RETURN_IF_ERROR(remove_tree(trash));
    metrics_.remove_topic(topic->counters);
  }
  {
    std::lock_guard lock(groups_mu_);
    for (auto& [id, group] : groups_) {
      bool changed = false;
      for (auto it = group->committed.begin(); it != group->committed.end();) {
        if (it->first.topic == name) {
          it = group->committed.erase(it);
          changed = true;
        } else {
          ++it;
        }
      }
      if (changed && group->file) {
        if (Status rewritten = group->file->rewrite(group->committed); !rewritten) {
          spdlog::error("bus: dropping offsets of deleted topic '{}' from group '{}': {}", name, id,
                        rewritten.to_string());
        }
      }
    }
  }
  spdlog::info("bus: deleted topic '{}'", name);
  rebalance_subscribers(name);
  notify_everyone();
  return Status::ok();
}

Result<std::vector<std::string>> EmbeddedBus::list_topics() {
  std::shared_lock lock(topics_mu_);
  std::vector<std::string> names;
  names.reserve(topics_.size());
  for (const auto& [name, topic] : topics_) names.push_back(name);
  return names;
}

Result<TopicInfo> EmbeddedBus::describe_topic(std::string_view name) {
  auto topic = find_topic(name);
  if (!topic) return not_found_topic(name);
  TopicInfo info;
  info.name = *topic->name;
  info.config = topic->config;
  for (int32_t p = 0; p < topic->config.partitions; ++p)
    info.partitions.push_back(topic->partitions[p]->info(p));
  return info;
}

// ---------------------------------------------------------------------------------------------------------
// Produce

Result<ProduceResult> EmbeddedBus::produce(std::string_view topic, std::span<const OutgoingRecord> records) {
  return produce_impl(topic, std::nullopt, records);
}

Result<ProduceResult> EmbeddedBus::produce_to_partition(std::string_view topic, int32_t partition,
                                                        std::span<const OutgoingRecord> records) {
  return produce_impl(topic, partition, records);
}

namespace {
// Per producing thread, reused across calls: the encode buffer and the partition grouping.
struct ProduceScratch {
  ByteBuffer batch;
  std::vector<int32_t> partition_of;
  std::vector<uint32_t> order;
  std::vector<uint32_t> starts;
};
thread_local ProduceScratch t_scratch;
}  // namespace

Result<ProduceResult> EmbeddedBus::produce_impl(std::string_view topic_name, std::optional<int32_t> fixed,
                                                std::span<const OutgoingRecord> records) {
  auto found = topic_for_use(topic_name, /*may_create=*/true);
  if (!found) return found.status();
  Topic& topic = **found;
  const int32_t n = topic.config.partitions;
  if (fixed && (*fixed < 0 || *fixed >= n)) return partition_not_found(topic, *fixed);
  ProduceResult result;
  if (records.empty()) return result;
  result.records.resize(records.size());
  const TimestampMs now = wall_clock_ms();
  ProduceScratch& s = t_scratch;

  // Group the records by partition (a counting sort keeps each partition's records in input order).
  const bool single = fixed.has_value() || n == 1;
  if (!single) {
    s.partition_of.resize(records.size());
    s.starts.assign(static_cast<std::size_t>(n) + 1, 0);
    int32_t sticky = -1;
    for (std::size_t i = 0; i < records.size(); ++i) {
      int32_t p;
      if (records[i].key) {
        p = default_partition(*records[i].key, n);
      } else {
        if (sticky < 0)
          sticky = static_cast<int32_t>(topic.sticky.fetch_add(1, std::memory_order_relaxed) % n);
        p = sticky;
      }
      s.partition_of[i] = p;
      ++s.starts[p + 1];
    }
    for (int32_t p = 0; p < n; ++p) s.starts[p + 1] += s.starts[p];
    s.order.resize(records.size());
    std::vector<uint32_t>& fill = s.starts;  // advanced while placing, restored below
    for (std::size_t i = 0; i < records.size(); ++i)
      s.order[fill[s.partition_of[i]]++] = static_cast<uint32_t>(i);
    for (int32_t p = n; p > 0; --p) fill[p] = fill[p - 1];
    fill[0] = 0;
  }

  std::vector<std::pair<PartitionLog*, std::shared_ptr<Segment>>> to_sync;
  std::vector<PendingSeal> seals;
  Status failure;
  const int32_t first = single ? (fixed ? *fixed : 0) : 0;
  const int32_t last = single ? first : n - 1;
  for (int32_t p = first; p <= last; ++p) {
    std::span<const uint32_t> order;
    std::size_t count = records.size();
    if (!single) {
      count = s.starts[p + 1] - s.starts[p];
      if (count == 0) continue;
      order = std::span<const uint32_t>(s.order).subspan(s.starts[p], count);
    }
    auto info = encode_batch(records, order, now, BatchEncodeOptions{}, s.batch);
    if (!info) {
      failure = info.status();
      break;
    }
    PartitionLog& log = *topic.partitions[p];
    auto appended =
        log.append(s.batch.data(), s.batch.size(), info->record_count - 1, info->max_timestamp, now);
    if (!appended) {
      failure = appended.status();
      break;
    }
    for (std::size_t k = 0; k < count; ++k) {
      result.records[order.empty() ? k : order[k]] =
          RecordMetadata{p, appended->base_offset + static_cast<int64_t>(k)};
    }
    BusMetrics::inc(topic.counters.records_appended, static_cast<double>(count));
    BusMetrics::inc(topic.counters.bytes_appended, static_cast<double>(s.batch.size()));
    metrics_.segments_deleted(appended->deleted_segments);
    if (options_.fsync_policy == FsyncPolicy::kEveryBatch) to_sync.emplace_back(&log, appended->segment);
    if (appended->rolled) seals.push_back(PendingSeal{*found, p, appended->rolled});
  }
  for (auto& [log, segment] : to_sync) {
    Status synced = log->sync_segment(*segment);
    metrics_.fsyncs(1);
    if (!synced && failure.is_ok()) failure = synced;
  }
  dispatch_seals(seals);
  for (int32_t p = first; p <= last; ++p) {
    if (single || s.starts[p + 1] > s.starts[p]) notify_appended(topic_name, p);
  }
  if (!failure.is_ok()) return failure;
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Fetch

Status EmbeddedBus::read_partition(const Topic& topic, int32_t partition, int64_t offset, int32_t max_records,
                                   int64_t max_bytes, FetchBatch& out, ReadOutcome* o) {
  PartitionLog& log = *topic.partitions[partition];
  o->next_offset = offset;
  // Each round reads one segment; more than one only to step over a gap left by a damaged segment.
  for (int round = 0; round < 16; ++round) {
    PartitionLog::Slice slice;
    const auto where = log.locate(o->next_offset, &slice, &o->log_start, &o->log_end);
    if (where == PartitionLog::Locate::kOutOfRange) {
      o->out_of_range = true;
      return Status::ok();
    }
    if (where == PartitionLog::Locate::kAtEnd) return Status::ok();
    const Segment& segment = *slice.segment;
    ByteBuffer& buf = FetchBatchAccess::acquire_buffer(out);
    uint64_t pos = slice.position;
    std::size_t want = static_cast<std::size_t>(std::max<int64_t>(max_bytes, kBatchHeaderSize));
    while (pos < slice.end) {
      const std::size_t len = static_cast<std::size_t>(std::min<uint64_t>(slice.end - pos, want));
      buf.resize(len);
      auto n = pread_full(segment.fd.get(), buf.data(), len, pos, segment.log_path);
      if (!n) {
        FetchBatchAccess::release_last_buffer(out);
        return n.status();
      }
      if (*n < len) {
        FetchBatchAccess::release_last_buffer(out);
        return Status::corruption(
            fmt::format("topic '{}' partition {}: {} is shorter ({} bytes) than its log ({})", *topic.name,
                        partition, segment.log_path.string(), pos + *n, slice.end));
      }
      FetchBatchAccess::DecodeResult r;
      r.next_offset = o->next_offset;
      Status status =
          FetchBatchAccess::decode_batches(out, topic.name, partition, buf.view(), max_records, &r);
      o->records += r.records;
      o->payload_bytes += r.payload_bytes;
      o->next_offset = r.next_offset;
      if (!status) {
        if (r.records > 0) break;  // hand out what came before; the next read reports the bad batch
        FetchBatchAccess::release_last_buffer(out);
        return Status(status.code(), fmt::format("{} ({} byte {})", status.message(),
                                                 segment.log_path.string(), pos + r.consumed));
      }
      if (r.records > 0) break;
      if (r.consumed > 0) {  // only batches before the offset: read on
        pos += r.consumed;
        continue;
      }
      // The wanted batch is larger than the window: read exactly that batch.
      auto header = parse_batch_header(buf.view());
      if (!header) {
        FetchBatchAccess::release_last_buffer(out);
        return Status::corruption(fmt::format("topic '{}' partition {} at offset {}: {} ({} byte {})",
                                              *topic.name, partition, o->next_offset,
                                              header.status().message(), segment.log_path.string(), pos));
      }
      if (header->total_size() > slice.end - pos) {
        FetchBatchAccess::release_last_buffer(out);
        return Status::corruption(fmt::format(
            "topic '{}' partition {} at offset {}: batch of {} bytes overruns {} at "
            "byte {}",
            *topic.name, partition, o->next_offset, header->total_size(), segment.log_path.string(), pos));
      }
      want = header->total_size();
    }
    if (o->records > 0) {
      BusMetrics::inc(topic.counters.records_read, o->records);
      BusMetrics::inc(topic.counters.bytes_read, static_cast<double>(o->payload_bytes));
      return Status::ok();
    }
    FetchBatchAccess::release_last_buffer(out);
    // Nothing at or after the offset in this segment: continue in the next one.
    o->next_offset = std::max(o->next_offset, slice.segment_next_offset);
  }
  return Status::ok();
}

Status EmbeddedBus::fetch(std::string_view topic_name, int32_t partition, int64_t offset,
                          const FetchOptions& options, FetchBatch& out) {
  out.clear();
  auto topic = find_topic(topic_name);
  if (!topic) return not_found_topic(topic_name);
  if (partition < 0 || partition >= topic->config.partitions) return partition_not_found(*topic, partition);
  if (options.max_records < 1) return Status::invalid_argument("FetchOptions::max_records must be >= 1");
  const auto deadline = deadline_after(options.timeout);
  Notifier& notifier = partition_notifier(topic_name, partition);
  for (;;) {
    const uint64_t seen = notifier.epoch();
    ReadOutcome o;
    Status status =
        read_partition(*topic, partition, offset, options.max_records, options.max_bytes, out, &o);
    FetchBatchAccess::finish(out);
    SF_RETURN_IF_ERROR(status);
    if (o.out_of_range) {
      return Status::failed_precondition(
          fmt::format("offset out of range: topic '{}' partition {} holds offsets [{}, {}), not {}",
                      topic_name, partition, o.log_start, o.log_end, offset));
    }
    if (o.records > 0 || Clock::now() >= deadline) return Status::ok();
    notifier.wait(seen, deadline);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Raw batches (the Kafka-protocol broker)

Result<int64_t> EmbeddedBus::append_raw_batches(std::string_view topic_name, int32_t partition,
                                                std::span<char> bytes) {
  auto found = topic_for_use(topic_name, /*may_create=*/true);
  if (!found) return found.status();
  Topic& topic = **found;
  if (partition < 0 || partition >= topic.config.partitions) return partition_not_found(topic, partition);
  if (bytes.empty()) return Status::invalid_argument("append_raw_batches: no record batch");
  // Check every batch before appending any.
  std::vector<BatchHeader> headers;
  ByteBuffer scratch;  // decompressed records of a compressed batch (kept compressed in the log)
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::string_view rest(bytes.data() + pos, bytes.size() - pos);
    auto header = parse_batch_header(rest);
    if (!header) return header.status();
    if (header->total_size() > rest.size()) {
      return Status::corruption(
          fmt::format("record batch of {} bytes truncated to {}", header->total_size(), rest.size()));
    }
    SF_RETURN_IF_ERROR(verify_batch(rest.substr(0, header->total_size()), *header));
    if (header->record_count < 1) return Status::invalid_argument("record batch without records");
    if (header->is_control()) return Status::invalid_argument("control batches are not accepted");
    {
      // Validate every record (bounds, varints) so that readers of this log never meet malformed bytes.
      auto records = batch_records(rest.substr(0, header->total_size()), *header, scratch);
      if (!records) return records.status();
      RecordReader reader(*header, *records);
      DecodedRecord record;
      while (!reader.done()) SF_RETURN_IF_ERROR(reader.next(record, nullptr));
      SF_RETURN_IF_ERROR(reader.finish());
    }
    headers.push_back(*header);
    pos += header->total_size();
  }
  PartitionLog& log = *topic.partitions[partition];
  const TimestampMs now = wall_clock_ms();
  int64_t first_offset = -1;
  std::shared_ptr<Segment> to_sync;
  std::vector<PendingSeal> seals;
  Status failure;
  std::size_t pos = 0;
  for (const auto& header : headers) {
    auto appended = log.append(bytes.data() + pos, header.total_size(), header.last_offset_delta,
                               header.max_timestamp, now);
    if (!appended) {
      failure = appended.status();
      break;
    }
    if (first_offset < 0) first_offset = appended->base_offset;
    BusMetrics::inc(topic.counters.records_appended, header.record_count);
    BusMetrics::inc(topic.counters.bytes_appended, static_cast<double>(header.total_size()));
    metrics_.segments_deleted(appended->deleted_segments);
    to_sync = appended->segment;
    if (appended->rolled) seals.push_back(PendingSeal{*found, partition, appended->rolled});
    pos += header.total_size();
  }
  if (options_.fsync_policy == FsyncPolicy::kEveryBatch && to_sync) {
    Status synced = log.sync_segment(*to_sync);
    metrics_.fsyncs(1);
    if (!synced && failure.is_ok()) failure = synced;
  }
  dispatch_seals(seals);
  notify_appended(topic_name, partition);
  if (!failure.is_ok()) return failure;
  return first_offset;
}

Status EmbeddedBus::read_raw(const Topic& topic, int32_t partition, int64_t offset, int64_t max_bytes,
                             std::string& out, RawFetchResult* result) {
  PartitionLog& log = *topic.partitions[partition];
  int64_t next = offset;
  for (int round = 0; round < 16; ++round) {
    PartitionLog::Slice slice;
    const auto where = log.locate(next, &slice, &result->log_start_offset, &result->log_end_offset);
    result->log_start_offset = log.log_start_offset();
    result->log_end_offset = log.log_end_offset();
    if (where == PartitionLog::Locate::kOutOfRange) {
      result->out_of_range = true;
      return Status::ok();
    }
    if (where == PartitionLog::Locate::kAtEnd) return Status::ok();
    const Segment& segment = *slice.segment;
    uint64_t pos = slice.position;
    const std::size_t out_start = out.size();
    std::size_t taken = 0;  // bytes of wanted batches appended
    char header_bytes[kBatchHeaderSize];
    while (pos + kBatchHeaderSize <= slice.end) {
      auto n = pread_full(segment.fd.get(), header_bytes, kBatchHeaderSize, pos, segment.log_path);
      if (!n) return n.status();
      if (*n < kBatchHeaderSize) break;
      auto header = parse_batch_header(std::string_view(header_bytes, kBatchHeaderSize));
      if (!header) {
        return Status::corruption(fmt::format("topic '{}' partition {}: {} ({} byte {})", *topic.name,
                                              partition, header.status().message(), segment.log_path.string(),
                                              pos));
      }
      const std::size_t size = header->total_size();
      if (pos + size > slice.end) break;
      if (header->last_offset() < offset) {  // before the wanted offset: skip
        pos += size;
        continue;
      }
      if (taken > 0 && static_cast<int64_t>(taken + size) > max_bytes) break;
      out.resize(out_start + taken + size);
      auto m = pread_full(segment.fd.get(), out.data() + out_start + taken, size, pos, segment.log_path);
      if (!m || *m < size) {
        out.resize(out_start);
        if (!m) return m.status();
        return Status::corruption(fmt::format("topic '{}' partition {}: {} is shorter than its log",
                                              *topic.name, partition, segment.log_path.string()));
      }
      taken += size;
      pos += size;
      if (static_cast<int64_t>(taken) >= max_bytes) break;
    }
    if (taken > 0) {
      BusMetrics::inc(topic.counters.bytes_read, static_cast<double>(taken));
      return Status::ok();
    }
    next = std::max(next, slice.segment_next_offset);
    if (next >= log.log_end_offset()) return Status::ok();
  }
  return Status::ok();
}

Status EmbeddedBus::fetch_raw(std::string_view topic_name, int32_t partition, int64_t offset,
                              int64_t max_bytes, std::chrono::milliseconds timeout, std::string& out,
                              RawFetchResult* result) {
  auto topic = find_topic(topic_name);
  if (!topic) return not_found_topic(topic_name);
  if (partition < 0 || partition >= topic->config.partitions) return partition_not_found(*topic, partition);
  const auto deadline = deadline_after(timeout);
  const std::size_t before = out.size();
  Notifier& notifier = partition_notifier(topic_name, partition);
  for (;;) {
    const uint64_t seen = notifier.epoch();
    *result = RawFetchResult{};
    SF_RETURN_IF_ERROR(read_raw(*topic, partition, offset, max_bytes, out, result));
    if (result->out_of_range || out.size() > before || Clock::now() >= deadline) return Status::ok();
    notifier.wait(seen, deadline);
  }
}

Status EmbeddedBus::commit_group_offsets(std::string_view group_id,
                                         std::span<const TopicPartitionOffset> offsets) {
  SF_RETURN_IF_ERROR(validate_group_id(group_id));
  for (const auto& o : offsets) {
    if (o.offset < 0)
      return Status::invalid_argument(fmt::format("cannot commit negative offset {}", o.offset));
  }
  std::lock_guard lock(groups_mu_);
  Group* group = find_group_locked(group_id);
  if (group == nullptr) {
    auto created = std::make_unique<Group>();
    created->id = std::string(group_id);
    group = created.get();
    groups_.emplace(std::string(group_id), std::move(created));
  }
  return store_offsets_locked(*group, offsets);
}

Result<std::vector<TopicPartitionOffset>> EmbeddedBus::group_offsets(std::string_view group_id) {
  std::lock_guard lock(groups_mu_);
  std::vector<TopicPartitionOffset> out;
  Group* group = find_group_locked(group_id);
  if (group == nullptr) return out;
  for (const auto& [tp, offset] : group->committed) out.push_back({tp.topic, tp.partition, offset});
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Durability and maintenance

void EmbeddedBus::dispatch_seals(std::vector<PendingSeal>& seals) {
  if (seals.empty()) return;
  // Under kEveryBatch the caller's acknowledgement promises durability, so roll-seals happen now;
  // otherwise the maintenance thread seals off the produce path.
  if (options_.fsync_policy == FsyncPolicy::kEveryBatch) {
    for (const auto& seal : seals) seal_now(seal);
    return;
  }
  {
    std::lock_guard lock(maintenance_mu_);
    for (auto& seal : seals) pending_seals_.push_back(std::move(seal));
  }
  maintenance_cv_.notify_all();
}

void EmbeddedBus::seal_now(const PendingSeal& pending) {
  Status sealed = pending.topic->partitions[pending.partition]->seal(*pending.segment);
  metrics_.fsyncs(1);
  if (!sealed) spdlog::error("bus: sealing {}: {}", pending.segment->log_path.string(), sealed.to_string());
}

void EmbeddedBus::run_seals() {
  std::vector<PendingSeal> seals;
  {
    std::lock_guard lock(maintenance_mu_);
    seals.swap(pending_seals_);
  }
  for (const auto& seal : seals) seal_now(seal);
}

Status EmbeddedBus::flush_all(bool force) {
  Status first_error;
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::shared_lock lock(topics_mu_);
    for (const auto& [name, topic] : topics_) topics.push_back(topic);
  }
  for (const auto& topic : topics) {
    for (const auto& log : topic->partitions) {
      auto synced = log->flush();
      if (!synced) {
        if (first_error.is_ok()) first_error = synced.status();
      } else if (*synced) {
        metrics_.fsyncs(1);
      }
    }
  }
  std::lock_guard lock(groups_mu_);
  for (auto& [id, group] : groups_) {
    if (!group->file || (!force && !group->file->dirty())) continue;
    if (auto synced = group->file->sync(); !synced && first_error.is_ok()) first_error = synced.status();
  }
  return first_error;
}

Status EmbeddedBus::sync() {
  run_seals();
  return flush_all(/*force=*/true);
}

void EmbeddedBus::enforce_retention_all() {
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::shared_lock lock(topics_mu_);
    for (const auto& [name, topic] : topics_) topics.push_back(topic);
  }
  const TimestampMs now = wall_clock_ms();
  for (const auto& topic : topics) {
    for (const auto& log : topic->partitions) {
      auto deleted = log->enforce_retention(now);
      if (deleted) metrics_.segments_deleted(*deleted);
    }
  }
}

void EmbeddedBus::maintenance_loop() {
  const auto flush_every = std::chrono::milliseconds(options_.fsync_interval_ms);
  const auto retention_every = std::chrono::milliseconds(options_.retention_check_interval_ms);
  const bool interval = options_.fsync_policy == FsyncPolicy::kInterval;
  auto next_flush = Clock::now() + flush_every;
  auto next_retention = Clock::now() + retention_every;
  Status last_error;
  std::unique_lock lock(maintenance_mu_);
  while (!stopping_) {
    const auto wake = interval ? std::min(next_flush, next_retention) : next_retention;
    maintenance_cv_.wait_until(lock, wake, [&] { return stopping_ || !pending_seals_.empty(); });
    if (stopping_) break;
    lock.unlock();
    run_seals();
    const auto now = Clock::now();
    if (interval && now >= next_flush) {
      Status flushed = flush_all(/*force=*/false);
      if (!flushed && flushed.message() != last_error.message()) {
        spdlog::error("bus: background fsync failed: {}", flushed.to_string());
      }
      last_error = flushed;
      next_flush = now + flush_every;
    }
    if (now >= next_retention) {
      enforce_retention_all();
      next_retention = now + retention_every;
    }
    lock.lock();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Consumer groups

Result<std::unique_ptr<Consumer>> EmbeddedBus::subscribe(std::string_view group_id,
                                                         const std::vector<std::string>& topics,
                                                         const ConsumerOptions& options) {
  SF_RETURN_IF_ERROR(validate_group_id(group_id));
  if (topics.empty()) return Status::invalid_argument("subscribe needs at least one topic");
  if (options.max_poll_records < 1) return Status::invalid_argument("max_poll_records must be >= 1");
  for (const auto& name : topics) {
    SF_RETURN_IF_ERROR(validate_topic_name(name));
    auto topic = topic_for_use(name, /*may_create=*/true);
    if (!topic) return topic.status();
  }
  std::string member_id;
  {
    std::lock_guard lock(groups_mu_);
    auto& slot = groups_[std::string(group_id)];
    if (!slot) {
      slot = std::make_unique<Group>();
      slot->id = std::string(group_id);
    }
    member_id = fmt::format("{}-{:010d}", group_id, ++member_seq_);
    std::vector<std::string> sorted = topics;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    slot->members.push_back(Member{member_id, std::move(sorted), {}});
    rebalance_locked(*slot);
    spdlog::debug("bus: {} joined group '{}' (generation {})", member_id, group_id, slot->generation);
  }
  return std::unique_ptr<Consumer>(
      std::make_unique<EmbeddedConsumer>(this, std::string(group_id), std::move(member_id), options));
}

void EmbeddedBus::rebalance_locked(Group& group) {
  ++group.generation;
  for (auto& m : group.members) m.assignment.clear();
  std::set<std::string> wanted;
  for (const auto& m : group.members) wanted.insert(m.topics.begin(), m.topics.end());
  for (const auto& topic_name : wanted) {
    auto topic = find_topic(topic_name);
    if (!topic) continue;
    // Kafka's RangeAssignor: members (by id) get consecutive ranges; the first `extra` get one more.
    std::vector<Member*> subscribers;
    for (auto& m : group.members) {
      if (std::binary_search(m.topics.begin(), m.topics.end(), topic_name)) subscribers.push_back(&m);
    }
    const auto count = static_cast<int32_t>(subscribers.size());
    const int32_t partitions = topic->config.partitions;
    const int32_t per = partitions / count;
    const int32_t extra = partitions % count;
    for (int32_t i = 0; i < count; ++i) {
      const int32_t start = per * i + std::min(i, extra);
      const int32_t length = per + (i < extra ? 1 : 0);
      for (int32_t p = start; p < start + length; ++p) subscribers[i]->assignment.push_back({topic_name, p});
    }
  }
  for (auto& m : group.members) std::sort(m.assignment.begin(), m.assignment.end());
  groups_epoch_.fetch_add(1);
  notify_everyone();  // blocked pollers wake up and take their new assignment
}

void EmbeddedBus::rebalance_subscribers(std::string_view topic) {
  std::lock_guard lock(groups_mu_);
  for (auto& [id, group] : groups_) {
    const bool subscribed = std::any_of(group->members.begin(), group->members.end(), [&](const Member& m) {
      return std::binary_search(m.topics.begin(), m.topics.end(), topic);
    });
    if (subscribed) rebalance_locked(*group);
  }
}

EmbeddedBus::Group* EmbeddedBus::find_group_locked(std::string_view id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

void EmbeddedBus::leave_group(const std::string& group_id, const std::string& member_id) {
  std::lock_guard lock(groups_mu_);
  Group* group = find_group_locked(group_id);
  if (group == nullptr) return;
  std::erase_if(group->members, [&](const Member& m) { return m.id == member_id; });
  rebalance_locked(*group);
  if (group->members.empty() && group->committed.empty() && !group->file) groups_.erase(group_id);
}

Status EmbeddedBus::commit_locked(Group& group, const std::string& member_id,
                                  std::span<const TopicPartitionOffset> offsets) {
  auto member = std::find_if(group.members.begin(), group.members.end(),
                             [&](const Member& m) { return m.id == member_id; });
  if (member == group.members.end()) {
    return Status::failed_precondition(fmt::format("{} is not a member of group '{}'", member_id, group.id));
  }
  for (const auto& o : offsets) {
    if (!std::binary_search(member->assignment.begin(), member->assignment.end(),
                            TopicPartition{o.topic, o.partition})) {
      return Status::failed_precondition(fmt::format(
          "cannot commit topic '{}' partition {}: not assigned to {} in generation {} of group '{}'", o.topic,
          o.partition, member_id, group.generation, group.id));
    }
    if (o.offset < 0)
      return Status::invalid_argument(fmt::format("cannot commit negative offset {}", o.offset));
  }
  return store_offsets_locked(group, offsets);
}

Status EmbeddedBus::store_offsets_locked(Group& group, std::span<const TopicPartitionOffset> offsets) {
  if (offsets.empty()) return Status::ok();
  if (!group.file) {
    OffsetMap on_disk;  // a new group: nothing on disk yet
    auto file = GroupOffsetsFile::open(groups_dir_ / (group.id + ".offsets"), &on_disk);
    if (!file) return file.status();
    group.file = std::move(*file);
  }
  SF_RETURN_IF_ERROR(group.file->append(offsets));
  for (const auto& o : offsets) group.committed[TopicPartition{o.topic, o.partition}] = o.offset;
  if (options_.fsync_policy == FsyncPolicy::kEveryBatch) {
    auto synced = group.file->sync();
    if (!synced) return synced.status();
  }
  return Status::ok();
}

Result<std::optional<int64_t>> EmbeddedBus::committed_offset(std::string_view group_id,
                                                             std::string_view topic, int32_t partition) {
  std::lock_guard lock(groups_mu_);
  Group* group = find_group_locked(group_id);
  if (group == nullptr) return std::optional<int64_t>{};
  auto it = group->committed.find(TopicPartition{std::string(topic), partition});
  if (it == group->committed.end()) return std::optional<int64_t>{};
  return std::optional<int64_t>{it->second};
}

Result<std::vector<std::string>> EmbeddedBus::list_groups() {
  std::lock_guard lock(groups_mu_);
  std::vector<std::string> ids;
  for (const auto& [id, group] : groups_) ids.push_back(id);
  return ids;
}

// ---------------------------------------------------------------------------------------------------------
// EmbeddedConsumer

EmbeddedConsumer::EmbeddedConsumer(EmbeddedBus* bus, std::string group_id, std::string member_id,
                                   const ConsumerOptions& options)
    : bus_(bus), group_id_(std::move(group_id)), member_id_(std::move(member_id)), options_(options) {
  bus_->live_consumers_.fetch_add(1);
}

EmbeddedConsumer::~EmbeddedConsumer() {
  (void)close();
  bus_->live_consumers_.fetch_sub(1);
}

Status EmbeddedConsumer::close() {
  if (closed_) return Status::ok();
  closed_ = true;
  assigned_.clear();
  bus_->leave_group(group_id_, member_id_);
  return Status::ok();
}

void EmbeddedConsumer::wakeup() {
  wakeup_.store(true);
  bus_->notify_everyone();
}

Status EmbeddedConsumer::refresh() {
  if (closed_) return Status::failed_precondition(fmt::format("consumer {} is closed", member_id_));
  const uint64_t epoch = bus_->groups_epoch_.load();
  if (epoch == seen_groups_epoch_) return Status::ok();
  std::lock_guard lock(bus_->groups_mu_);
  EmbeddedBus::Group* group = bus_->find_group_locked(group_id_);
  auto gone = [&] {
    return Status::failed_precondition(
        fmt::format("{} is no longer a member of group '{}'", member_id_, group_id_));
  };
  if (group == nullptr) return gone();
  auto member = std::find_if(group->members.begin(), group->members.end(),
                             [&](const auto& m) { return m.id == member_id_; });
  if (member == group->members.end()) return gone();
  seen_groups_epoch_ = epoch;
  if (group->generation == generation_) return Status::ok();
  std::vector<Assigned> next;
  for (const auto& tp : member->assignment) {
    Assigned a;
    a.tp = tp;
    a.topic = bus_->find_topic(tp.topic);
    if (Assigned* old = find(tp.topic, tp.partition); old != nullptr && old->topic == a.topic) {
      a.position = old->position;  // kept across the rebalance
      a.last_committed = old->last_committed;
    } else if (auto it = group->committed.find(tp); it != group->committed.end()) {
      a.position = it->second;
      a.last_committed = it->second;
    }
    next.push_back(std::move(a));
  }
  assigned_ = std::move(next);
  generation_ = group->generation;
  next_start_ = 0;
  return Status::ok();
}

EmbeddedConsumer::Assigned* EmbeddedConsumer::find(std::string_view topic, int32_t partition) {
  for (auto& a : assigned_) {
    if (a.tp.partition == partition && a.tp.topic == topic) return &a;
  }
  return nullptr;
}

Status EmbeddedConsumer::resolve_position(Assigned& a) {
  const PartitionLog& log = *a.topic->partitions[a.tp.partition];
  const int64_t start = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  if (a.position >= start && a.position <= end) return Status::ok();
  if (a.position > end) {
    // Only after a crash lost unsynced records the group had already consumed: new records will reuse those
    // offsets, so continue at the end rather than skip them.
    spdlog::warn(
        "bus: group '{}' topic '{}' partition {}: position {} is past the log end {}; continuing at the end",
        group_id_, a.tp.topic, a.tp.partition, a.position, end);
    a.position = end;
    return Status::ok();
  }
  const bool reset = a.position >= 0;  // below the log start (retention) rather than never committed
  switch (options_.auto_offset_reset) {
    case AutoOffsetReset::kEarliest:
      a.position = start;
      break;
    case AutoOffsetReset::kLatest:
      a.position = end;
      break;
    case AutoOffsetReset::kError:
      return Status::failed_precondition(
          fmt::format("group '{}' topic '{}' partition {}: {} and auto_offset_reset is error", group_id_,
                      a.tp.topic, a.tp.partition,
                      reset ? fmt::format("position {} is below the log start offset {}", a.position, start)
                            : "no committed offset"));
  }
  if (reset) {
    spdlog::warn(
        "bus: group '{}' topic '{}' partition {}: offset out of range (log starts at {}); reset to {}",
        group_id_, a.tp.topic, a.tp.partition, start, a.position);
  }
  return Status::ok();
}

Status EmbeddedConsumer::poll(std::chrono::milliseconds timeout, FetchBatch& out) {
  out.clear();
  const auto deadline = deadline_after(timeout);
  for (;;) {
    // One assigned partition: wait on its shard (see EmbeddedBus::partition_notifiers_), chosen before
    // reading the epoch; a rebalance notifies every shard, and a changed assignment chooses again.
    auto choose = [this]() -> Notifier& {
      return assigned_.size() == 1 && assigned_[0].topic
                 ? bus_->partition_notifier(assigned_[0].tp.topic, assigned_[0].tp.partition)
                 : bus_->notifier_;
    };
    Notifier& notifier = choose();
    const uint64_t seen = notifier.epoch();
    if (wakeup_.exchange(false)) return Status::cancelled(fmt::format("consumer {} woken up", member_id_));
    SF_RETURN_IF_ERROR(refresh());
    if (&choose() != &notifier) continue;  // the assignment changed: wait where its records will be
    Status first_error;
    int32_t remaining = options_.max_poll_records;
    int64_t budget = options_.max_poll_bytes;
    const std::size_t n = assigned_.size();
    for (std::size_t i = 0; i < n && remaining > 0 && budget > 0; ++i) {
      Assigned& a = assigned_[(next_start_ + i) % n];
      if (!a.topic) continue;
      if (a.position >= 0 && a.position == a.topic->partitions[a.tp.partition]->log_end_offset()) continue;
      for (int attempt = 0; attempt < 2; ++attempt) {
        if (Status resolved = resolve_position(a); !resolved) {
          if (first_error.is_ok()) first_error = resolved;
          break;
        }
        EmbeddedBus::ReadOutcome o;
        Status read = bus_->read_partition(*a.topic, a.tp.partition, a.position, remaining, budget, out, &o);
        if (!read) {
          if (first_error.is_ok()) first_error = read;
          break;
        }
        if (o.out_of_range) continue;  // retention moved the start meanwhile: resolve again
        a.position = o.next_offset;
        remaining -= o.records;
        budget -= o.payload_bytes;
        break;
      }
    }
    if (n > 0) next_start_ = (next_start_ + 1) % n;
    FetchBatchAccess::finish(out);
    if (!out.empty()) return Status::ok();
    SF_RETURN_IF_ERROR(first_error);
    if (Clock::now() >= deadline) return Status::ok();
    notifier.wait(seen, deadline);
  }
}

Status EmbeddedConsumer::commit() {
  SF_RETURN_IF_ERROR(refresh());
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& a : assigned_) {
    if (a.topic && a.position >= 0 && a.position != a.last_committed) {
      offsets.push_back({a.tp.topic, a.tp.partition, a.position});
    }
  }
  if (offsets.empty()) return Status::ok();
  {
    std::lock_guard lock(bus_->groups_mu_);
    EmbeddedBus::Group* group = bus_->find_group_locked(group_id_);
    if (group == nullptr) return Status::failed_precondition(fmt::format("group '{}' is gone", group_id_));
    if (group->generation != generation_) {
      // Rebalanced since refresh(): commit only what this member still owns.
      const auto member = std::find_if(group->members.begin(), group->members.end(),
                                       [&](const auto& m) { return m.id == member_id_; });
      if (member == group->members.end()) return Status::failed_precondition("no longer a group member");
      std::erase_if(offsets, [&](const TopicPartitionOffset& o) {
        return !std::binary_search(member->assignment.begin(), member->assignment.end(),
                                   TopicPartition{o.topic, o.partition});
      });
    }
    SF_RETURN_IF_ERROR(bus_->commit_locked(*group, member_id_, offsets));
  }
  for (const auto& o : offsets) {
    if (Assigned* a = find(o.topic, o.partition)) a->last_committed = o.offset;
  }
  return Status::ok();
}

Status EmbeddedConsumer::commit(std::span<const TopicPartitionOffset> offsets) {
  SF_RETURN_IF_ERROR(refresh());
  {
    std::lock_guard lock(bus_->groups_mu_);
    EmbeddedBus::Group* group = bus_->find_group_locked(group_id_);
    if (group == nullptr) return Status::failed_precondition(fmt::format("group '{}' is gone", group_id_));
    SF_RETURN_IF_ERROR(bus_->commit_locked(*group, member_id_, offsets));
  }
  for (const auto& o : offsets) {
    if (Assigned* a = find(o.topic, o.partition)) a->last_committed = o.offset;
  }
  return Status::ok();
}

Status EmbeddedConsumer::seek(std::string_view topic, int32_t partition, int64_t offset) {
  SF_RETURN_IF_ERROR(refresh());
  Assigned* a = find(topic, partition);
  if (a == nullptr) {
    return Status::failed_precondition(
        fmt::format("topic '{}' partition {} is not assigned to {}", topic, partition, member_id_));
  }
  if (offset < 0) return Status::invalid_argument(fmt::format("cannot seek to negative offset {}", offset));
  a->position = offset;
  return Status::ok();
}

Result<int64_t> EmbeddedConsumer::position(std::string_view topic, int32_t partition) {
  SF_RETURN_IF_ERROR(refresh());
  Assigned* a = find(topic, partition);
  if (a == nullptr || !a->topic) {
    return Status::failed_precondition(
        fmt::format("topic '{}' partition {} is not assigned to {}", topic, partition, member_id_));
  }
  SF_RETURN_IF_ERROR(resolve_position(*a));
  return a->position;
}

std::vector<TopicPartition> EmbeddedConsumer::assignment() {
  if (!refresh()) return {};
  std::vector<TopicPartition> result;
  for (const auto& a : assigned_) result.push_back(a.tp);
  return result;
}

}  // namespace sf::bus::embedded
