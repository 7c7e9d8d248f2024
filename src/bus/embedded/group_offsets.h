// The durable committed offsets of one consumer group: <dir>/groups/<group>.offsets, an append-only log of
// checksummed commit records, compacted (rewritten atomically) when opened. Internal to the embedded backend.
//
// Layout (big-endian): header "SFGO" u32 version=1; then records {u32 payload length, u32 CRC-32C of payload,
// payload: u32 count, count x {u16 topic length, topic, i32 partition, i64 offset}}. A torn or corrupt record
// ends the log: it and anything after it are dropped with a warning (only the tail can be torn).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "bus/bus.h"
#include "bus/embedded/file_util.h"
#include "core/status.h"

namespace sf::bus::embedded {

using OffsetMap = std::map<TopicPartition, int64_t>;

// Not thread-safe: the caller (the group coordinator) serialises access.
class GroupOffsetsFile {
 public:
  // Opens or creates the file, replays it into `offsets`, and rewrites it compacted.
  static Result<std::unique_ptr<GroupOffsetsFile>> open(const std::filesystem::path& path,
                                                        OffsetMap* offsets);

  // Appends one commit record (all entries or, after a crash, none of them).
  Status append(std::span<const TopicPartitionOffset> offsets);
  // Replaces the whole file with `offsets` (atomic).
  Status rewrite(const OffsetMap& offsets);
  // fdatasync if anything was appended since the last sync.
  Result<bool> sync();
  bool dirty() const { return dirty_; }

 private:
  explicit GroupOffsetsFile(std::filesystem::path path) : path_(std::move(path)) {}
  Status reopen_for_append();

  std::filesystem::path path_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  bool dirty_ = false;
};

}  // namespace sf::bus::embedded
