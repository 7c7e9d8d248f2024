// One segment of a partition log: <20-digit base offset>.log (record batches, Kafka's format) and .index
// (sparse offset index). Internal to the embedded backend.
//
// .index layout (big-endian): entries {u32 offset relative to the base, u32 byte position of the batch that
// starts there}, one per index_interval_bytes of log, then a 32-byte footer {u32 magic "SFIX", i64 next
// offset, i64 max timestamp, u64 log size, u32 CRC-32C of everything before it}. An index is written when a
// segment is sealed (and at clean close); it is trusted only if its CRC holds and the log still has the
// recorded size, otherwise the segment is scanned (every batch CRC-checked) and the index rebuilt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/embedded/file_util.h"
#include "core/status.h"

namespace sf::bus::embedded {

struct IndexEntry {
  uint32_t relative_offset = 0;
  uint32_t position = 0;
};

inline constexpr std::size_t kIndexFooterSize = 32;

// The fd and paths never change, so a reader holding a shared_ptr<Segment> may pread without locks (even
// after the files were deleted by retention). Everything else is guarded by the owning PartitionLog's mutex.
struct Segment {
  int64_t base_offset = 0;
  std::filesystem::path log_path;
  std::filesystem::path index_path;
  UniqueFd fd;

  uint64_t size = 0;           // bytes of whole, acknowledged batches
  int64_t next_offset = 0;     // offset after the last record
  int64_t max_timestamp = -1;  // newest record timestamp; -1 when empty
  std::vector<IndexEntry> index;
  uint64_t bytes_since_index = 0;  // log bytes appended since the last index entry
  bool sealed = false;             // rolled: no more appends

  // Byte position to start scanning from for `offset`: the last index entry at or before it, else 0.
  uint32_t lookup(int64_t offset) const;
  // Adds an index entry for a batch about to be written at `position` when the interval has passed (Kafka's
  // rule), then accounts for its bytes.
  void note_batch(int64_t batch_base_offset, uint64_t position, uint64_t batch_size, int64_t index_interval);
};

std::string segment_stem(int64_t base_offset);  // "00000000000000000042"
// The base offset of "<20 digits><ext>", or nullopt if `filename` is not such a name.
std::optional<int64_t> parse_segment_filename(std::string_view filename, std::string_view ext);

std::string encode_index(const Segment& segment);
struct IndexFile {
  std::vector<IndexEntry> entries;
  int64_t next_offset = 0;
  int64_t max_timestamp = -1;
  uint64_t log_size = 0;
};
// nullopt if malformed (bad size, magic, CRC or entries).
std::optional<IndexFile> decode_index(std::string_view bytes, int64_t base_offset);

struct ScanResult {
  uint64_t valid_bytes = 0;  // the whole batches from the start that passed every check
  int64_t next_offset = 0;
  int64_t max_timestamp = -1;
  std::vector<IndexEntry> index;
  uint64_t bytes_since_index = 0;
  int64_t batches = 0;
  Status stop;  // why the scan stopped before the end of the file; OK if every byte was valid
};
// Reads the segment from the start, checking every batch: header, CRC-32C, records, and that offsets continue
// from base_offset. Stops at the first torn or bad batch. IoError only if reading fails.
Result<ScanResult> scan_segment(const Segment& segment, uint64_t file_size, int64_t index_interval);

}  // namespace sf::bus::embedded
