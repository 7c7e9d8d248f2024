// Partition log: append, locate, recovery, retention (see partition_log.h).
#include "bus/embedded/partition_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bus/record_batch.h"

namespace sf::bus::embedded {

namespace fs = std::filesystem;

PartitionLog::PartitionLog(fs::path dir, std::string name, const LogConfig& config)
    : dir_(std::move(dir)), name_(std::move(name)), config_(config) {}

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(const fs::path& dir, std::string name,
                                                         const LogConfig& config, Recovery* recovery) {
  std::unique_ptr<PartitionLog> log(new PartitionLog(dir, std::move(name), config));
  Recovery ignored;
  SF_RETURN_IF_ERROR(log->load(recovery != nullptr ? recovery : &ignored));
  return log;
}

Result<std::shared_ptr<Segment>> PartitionLog::create_segment(int64_t base_offset) {
  auto segment = std::make_shared<Segment>();
  segment->base_offset = base_offset;
  segment->next_offset = base_offset;
  segment->log_path = dir_ / (segment_stem(base_offset) + ".log");
  segment->index_path = dir_ / (segment_stem(base_offset) + ".index");
  // A stale index of an earlier incarnation of this base offset must not be trusted.
  std::error_code ec;
  fs::remove(segment->index_path, ec);
  auto fd = open_file(segment->log_path, O_RDWR | O_CREAT | O_TRUNC);
  if (!fd) return fd.status();
  segment->fd = std::move(*fd);
  SF_RETURN_IF_ERROR(sync_dir(dir_));  // the new file must survive a crash before its first batch is acked
  return segment;
}

Status PartitionLog::load(Recovery* recovery) {
  SF_RETURN_IF_ERROR(create_dirs(dir_));
  std::vector<int64_t> bases;
  std::vector<fs::path> orphans;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string filename = entry.path().filename().string();
    if (auto base = parse_segment_filename(filename, ".log")) {
      bases.push_back(*base);
    } else if (auto index_base = parse_segment_filename(filename, ".index")) {
      if (!fs::exists(dir_ / (segment_stem(*index_base) + ".log"))) orphans.push_back(entry.path());
    } else if (filename.ends_with(".tmp")) {
      orphans.push_back(entry.path());
    }
  }
  if (ec) return Status::io_error(fmt::format("list {}: {}", dir_.string(), ec.message()));
  for (const auto& orphan : orphans) fs::remove(orphan, ec);  // leftovers of retention or an index write
  std::sort(bases.begin(), bases.end());

  if (bases.empty()) {
    auto segment = create_segment(0);
    if (!segment) return segment.status();
    segments_.push_back(std::move(*segment));
  }
  for (std::size_t i = 0; i < bases.size(); ++i) {
    const bool last = i + 1 == bases.size();
    auto segment = std::make_shared<Segment>();
    segment->base_offset = bases[i];
    segment->log_path = dir_ / (segment_stem(bases[i]) + ".log");
    segment->index_path = dir_ / (segment_stem(bases[i]) + ".index");
    auto fd = open_file(segment->log_path, O_RDWR);
    if (!fd) return fd.status();
    segment->fd = std::move(*fd);
    auto size = file_size(segment->fd.get(), segment->log_path);
    if (!size) return size.status();

    std::optional<IndexFile> index;
    if (auto bytes = read_file(segment->index_path); bytes) {
      index = decode_index(*bytes, segment->base_offset);
      if (index && index->log_size != *size) index.reset();
    }
    if (index) {  // known clean: sealed by roll, or a clean close
      segment->size = *size;
      segment->next_offset = index->next_offset;
      segment->max_timestamp = index->max_timestamp;
      segment->index = std::move(index->entries);
      segment->bytes_since_index = *size - (segment->index.empty() ? 0 : segment->index.back().position);
    } else {
      ++recovery->scanned_segments;
      auto scan = scan_segment(*segment, *size, config_.index_interval_bytes);
      if (!scan) return scan.status();
      if (!scan->stop.is_ok()) {
        const uint64_t cut = *size - scan->valid_bytes;
        if (last) {
          spdlog::warn(
              "bus: {}: truncating {} bytes of torn or corrupt tail ({} valid bytes, {} batches kept): {}",
              name_, cut, scan->valid_bytes, scan->batches, scan->stop.message());
        } else {
          spdlog::error(
              "bus: {}: sealed segment {} is damaged; truncating {} bytes, offsets {}..{} are lost: {}",
              name_, segment->log_path.string(), cut, scan->next_offset,
              i + 1 < bases.size() ? bases[i + 1] - 1 : scan->next_offset, scan->stop.message());
        }
        SF_RETURN_IF_ERROR(truncate_file(segment->fd.get(), scan->valid_bytes, segment->log_path));
        SF_RETURN_IF_ERROR(sync_data(segment->fd.get(), segment->log_path));
        recovery->truncated_bytes += cut;
      }
      segment->size = scan->valid_bytes;
      segment->next_offset = scan->next_offset;
      segment->max_timestamp = scan->max_timestamp;
      segment->index = std::move(scan->index);
      segment->bytes_since_index = scan->bytes_since_index;
      if (!last) SF_RETURN_IF_ERROR(write_file_atomic(segment->index_path, encode_index(*segment)));
    }
    if (!segments_.empty() && segment->base_offset < segments_.back()->next_offset) {
      return Status::corruption(
          fmt::format("bus: {}: segment {} starts at offset {} but the previous one ends at {}", name_,
                      segment->log_path.string(), segment->base_offset, segments_.back()->next_offset));
    }
    segment->sealed = !last;
    segments_.push_back(std::move(segment));
  }
  start_offset_.store(segments_.front()->base_offset);
  end_offset_.store(segments_.back()->next_offset);
  return Status::ok();
}

Status PartitionLog::poison(Status status) {
  if (failed_.is_ok()) {
    failed_ = Status::io_error(fmt::format("bus: {}: log disabled after an I/O failure, reopen the bus: {}",
                                           name_, status.message()));
  }
  return status;
}

Result<PartitionLog::Appended> PartitionLog::append(char* batch, std::size_t size, int32_t last_offset_delta,
                                                    int64_t max_timestamp, TimestampMs now_ms) {
  Appended result;
  std::vector<std::shared_ptr<Segment>> expired;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return Status::not_found(fmt::format("bus: {}: the topic was deleted", name_));
    if (!failed_.is_ok()) return failed_;
    std::shared_ptr<Segment> active = segments_.back();
    const int64_t base = active->next_offset;
    const bool full = active->size > 0 && active->size + size > static_cast<uint64_t>(config_.segment_bytes);
    const bool offsets_full =
        base + last_offset_delta - active->base_offset > static_cast<int64_t>(UINT32_MAX);
    if (full || offsets_full) {
      auto fresh = create_segment(base);
      if (!fresh) return fresh.status();
      active->sealed = true;
      result.rolled = active;
      segments_.push_back(*fresh);
      active = std::move(*fresh);
      expired = take_expired_locked(now_ms);
      result.deleted_segments = static_cast<int>(expired.size());
    }
    set_batch_base_offset(batch, base);
    set_batch_partition_leader_epoch(batch, 0);  // a single-broker log: leader epoch 0
    const uint64_t position = active->size;
    Status written = Status::ok();
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n =
          ::pwrite(active->fd.get(), batch + done, size - done, static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        written = errno_status("pwrite", active->log_path, errno);
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    if (!written) {  // cut the partial batch so readers and recovery never see it
      if (Status cut = truncate_file(active->fd.get(), position, active->log_path); !cut) (void)poison(cut);
      return written;
    }
    active->note_batch(base, position, size, config_.index_interval_bytes);
    active->size = position + size;
    active->next_offset = base + last_offset_delta + 1;
    active->max_timestamp = std::max(active->max_timestamp, max_timestamp);
    result.base_offset = base;
    result.segment = active;
    dirty_.store(true, std::memory_order_release);
    end_offset_.store(active->next_offset, std::memory_order_release);
    if (!expired.empty()) start_offset_.store(segments_.front()->base_offset, std::memory_order_release);
  }
  unlink_segments(expired);
  return result;
}

PartitionLog::Locate PartitionLog::locate(int64_t offset, Slice* slice, int64_t* start, int64_t* end) const {
  std::lock_guard lock(mu_);
  *start = segments_.front()->base_offset;
  *end = segments_.back()->next_offset;
  if (offset < *start || offset > *end) return Locate::kOutOfRange;
  if (offset == *end) return Locate::kAtEnd;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t o, const std::shared_ptr<Segment>& s) { return o < s->base_offset; });
  --it;  // the last segment starting at or before `offset` (exists: offset >= start)
  // A gap left by a damaged sealed segment: continue in the next one.
  while (offset >= (*it)->next_offset && std::next(it) != segments_.end()) ++it;
  slice->segment = *it;
  slice->position = (*it)->lookup(offset);
  slice->end = (*it)->size;
  slice->segment_next_offset = (*it)->next_offset;
  return Locate::kData;
}

PartitionInfo PartitionLog::info(int32_t partition) const {
  std::lock_guard lock(mu_);
  PartitionInfo info;
  info.partition = partition;
  info.log_start_offset = segments_.front()->base_offset;
  info.log_end_offset = segments_.back()->next_offset;
  for (const auto& s : segments_) info.size_bytes += static_cast<int64_t>(s->size);
  return info;
}

Result<bool> PartitionLog::flush() {
  if (!dirty_.exchange(false, std::memory_order_acq_rel)) return false;
  std::shared_ptr<Segment> active;
  {
    std::lock_guard lock(mu_);
    if (!failed_.is_ok()) return failed_;
    active = segments_.back();
  }
  if (Status synced = sync_data(active->fd.get(), active->log_path); !synced) {
    std::lock_guard lock(mu_);
    return poison(synced);
  }
  return true;
}

Status PartitionLog::sync_segment(Segment& segment) {
  if (Status synced = sync_data(segment.fd.get(), segment.log_path); !synced) {
    std::lock_guard lock(mu_);
    return poison(synced);
  }
  return Status::ok();
}

Status PartitionLog::seal(Segment& segment) {
  SF_RETURN_IF_ERROR(sync_segment(segment));
  std::string index;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return Status::ok();
    // Deleted by retention meanwhile: writing its index would leave an orphan.
    if (segment.base_offset < segments_.front()->base_offset) return Status::ok();
    index = encode_index(segment);
  }
  return write_file_atomic(segment.index_path, index);
}

std::vector<std::shared_ptr<Segment>> PartitionLog::take_expired_locked(TimestampMs now_ms) {
  std::vector<std::shared_ptr<Segment>> expired;
  if (config_.retention_bytes < 0 && config_.retention_ms < 0) return expired;
  uint64_t total = 0;
  for (const auto& s : segments_) total += s->size;
  while (segments_.size() > 1) {  // never the active segment
    const Segment& oldest = *segments_.front();
    // Kafka's rules: drop the oldest segment while the rest still holds retention_bytes; and segments whose
    // newest record is older than retention_ms.
    const bool by_size =
        config_.retention_bytes >= 0 && total - oldest.size >= static_cast<uint64_t>(config_.retention_bytes);
    const bool by_age = config_.retention_ms >= 0 && now_ms - oldest.max_timestamp > config_.retention_ms;
    if (!by_size && !by_age) break;
    total -= oldest.size;
    expired.push_back(segments_.front());
    segments_.erase(segments_.begin());
  }
  return expired;
}

void PartitionLog::unlink_segments(const std::vector<std::shared_ptr<Segment>>& segments) {
  for (const auto& s : segments) {
    // The .log first: an index without its log is an orphan removed on open; the reverse would be a
    // segment that looks unclean. Open readers keep their fd, so an in-flight fetch still completes.
    std::error_code ec;
    fs::remove(s->log_path, ec);
    if (ec) spdlog::warn("bus: remove {}: {}", s->log_path.string(), ec.message());
    fs::remove(s->index_path, ec);
  }
}

Result<int> PartitionLog::enforce_retention(TimestampMs now_ms) {
  std::vector<std::shared_ptr<Segment>> expired;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return 0;
    expired = take_expired_locked(now_ms);
    if (!expired.empty()) start_offset_.store(segments_.front()->base_offset, std::memory_order_release);
  }
  if (!expired.empty()) {
    spdlog::info("bus: {}: retention deleted {} segment(s); log start offset is now {}", name_,
                 expired.size(), log_start_offset());
  }
  unlink_segments(expired);
  return static_cast<int>(expired.size());
}

Status PartitionLog::close() {
  std::shared_ptr<Segment> active;
  {
    std::lock_guard lock(mu_);
    if (deleted_ || !failed_.is_ok()) return Status::ok();
    active = segments_.back();
  }
  SF_RETURN_IF_ERROR(sync_data(active->fd.get(), active->log_path));
  std::string index;
  {
    std::lock_guard lock(mu_);
    index = encode_index(*active);
  }
  return write_file_atomic(active->index_path, index);
}

void PartitionLog::mark_deleted() {
  std::lock_guard lock(mu_);
  deleted_ = true;
}

}  // namespace sf::bus::embedded
