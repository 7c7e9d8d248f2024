// The log of one partition: a directory of segments, appended to at the end, read from any offset, recovered
// on open and trimmed from the front by retention. Internal to the embedded backend.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "bus/embedded/segment.h"
#include "core/status.h"

namespace sf::bus::embedded {

struct LogConfig {
  int64_t segment_bytes = 256 << 20;
  int64_t index_interval_bytes = 4096;
  int64_t retention_bytes = -1;
  int64_t retention_ms = -1;
};

// Thread-safe. Appends are serialised by one mutex that also guards the segment list; reads take it only to
// pick a segment and a byte range (locate()), then pread without it.
class PartitionLog {
 public:
  struct Recovery {
    uint64_t truncated_bytes = 0;  // torn or corrupt tail bytes cut off
    int scanned_segments = 0;      // segments validated batch by batch (no trusted index)
  };
  // Opens or creates the log in `dir`, recovering it (see segment.h). `name` ("topic/partition") is for
  // messages. Corruption if the segment files contradict each other (overlapping offsets).
  static Result<std::unique_ptr<PartitionLog>> open(const std::filesystem::path& dir, std::string name,
                                                    const LogConfig& config, Recovery* recovery);
  ~PartitionLog() = default;

  struct Appended {
    int64_t base_offset = 0;
    std::shared_ptr<Segment> segment;  // where the batch went: fdatasync its fd to make it durable
    std::shared_ptr<Segment> rolled;   // a segment this append sealed: hand it to seal()
    int deleted_segments = 0;          // retention ran because of the roll
  };
  // Appends one encoded batch of `last_offset_delta + 1` records, rewriting its baseOffset and partition
  // leader epoch in place, with a single pwrite. On a failed write the partial bytes are cut off again.
  // NotFound after mark_deleted(); IoError after an fsync failure (the log must be reopened).
  Result<Appended> append(char* batch, std::size_t size, int32_t last_offset_delta, int64_t max_timestamp,
                          TimestampMs now_ms);

  enum class Locate { kData, kAtEnd, kOutOfRange };
  struct Slice {
    std::shared_ptr<Segment> segment;
    uint64_t position = 0;  // a batch boundary at or before the wanted offset
    uint64_t end = 0;       // the segment's size when located: whole batches only
    int64_t segment_next_offset = 0;
  };
  // Where to read `offset` from. kOutOfRange if outside [log start, log end]; then `start`/`end` tell why.
  Locate locate(int64_t offset, Slice* slice, int64_t* start, int64_t* end) const;

  int64_t log_start_offset() const { return start_offset_.load(std::memory_order_acquire); }
  int64_t log_end_offset() const { return end_offset_.load(std::memory_order_acquire); }
  PartitionInfo info(int32_t partition) const;
  const std::string& name() const { return name_; }

  // fdatasyncs the active segment if anything was appended since the last flush. Returns whether it synced.
  Result<bool> flush();
  // Makes a batch durable (FsyncPolicy::kEveryBatch).
  Status sync_segment(Segment& segment);
  // Finishes a rolled segment: fdatasync, then write its index (making it "known clean" for the next open).
  Status seal(Segment& segment);
  // Deletes whole segments beyond retention (never the active one). Returns how many.
  Result<int> enforce_retention(TimestampMs now_ms);
  // Clean shutdown: fdatasync the active segment and write its index, so the next open need not scan it.
  Status close();
  // The topic is being deleted: later appends fail with NotFound.
  void mark_deleted();

 private:
  PartitionLog(std::filesystem::path dir, std::string name, const LogConfig& config);
  Status load(Recovery* recovery);
  Result<std::shared_ptr<Segment>> create_segment(int64_t base_offset);
  // Under mu_: picks segments to delete; the caller unlinks them after unlocking.
  std::vector<std::shared_ptr<Segment>> take_expired_locked(TimestampMs now_ms);
  static void unlink_segments(const std::vector<std::shared_ptr<Segment>>& segments);
  Status poison(Status status);

  const std::filesystem::path dir_;
  const std::string name_;
  const LogConfig config_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Segment>> segments_;  // by base offset; back() is the active segment
  bool deleted_ = false;
  Status failed_;  // set by a failed fsync or an unrecoverable write: everything after it is suspect

  std::atomic<int64_t> start_offset_{0};
  std::atomic<int64_t> end_offset_{0};
  std::atomic<bool> dirty_{false};
};

}  // namespace sf::bus::embedded
