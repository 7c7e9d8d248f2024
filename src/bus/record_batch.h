// Kafka RecordBatch v2 (magic 2), byte for byte: the on-disk format of the embedded log and the wire format
// of the Kafka protocol, so stored batches can be served to Kafka clients unchanged. Internal to bus/.
//
// Layout (big-endian; CRC-32C covers attributes..end):
//   0 baseOffset i64 | 8 batchLength i32 (bytes after this field) | 12 partitionLeaderEpoch i32 | 16 magic i8
//   17 crc u32 | 21 attributes i16 | 23 lastOffsetDelta i32 | 27 baseTimestamp i64 | 35 maxTimestamp i64
//   43 producerId i64 | 51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32 | 61 records...
// Record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint | keyLength varint |
//   key | valueLength varint | value | headerCount varint | headers (keyLength varint, key, valueLength
//   varint, value). Varints are zigzag (protobuf sint32/sint64); a length of -1 means null.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "bus/byte_buffer.h"
#include "core/status.h"

namespace sf::bus {

inline constexpr std::size_t kBatchHeaderSize = 61;
inline constexpr std::size_t kLogOverhead = 12;          // baseOffset + batchLength
inline constexpr std::size_t kBatchLengthMin = 61 - 12;  // a batch with no records
inline constexpr int32_t kMaxBatchBytes = 256 << 20;     // what this bus accepts per batch
inline constexpr int8_t kMagicV2 = 2;

namespace batch_offsets {
inline constexpr std::size_t kBaseOffset = 0;
inline constexpr std::size_t kBatchLength = 8;
inline constexpr std::size_t kPartitionLeaderEpoch = 12;
inline constexpr std::size_t kMagic = 16;
inline constexpr std::size_t kCrc = 17;
inline constexpr std::size_t kAttributes = 21;
inline constexpr std::size_t kLastOffsetDelta = 23;
inline constexpr std::size_t kBaseTimestamp = 27;
inline constexpr std::size_t kMaxTimestamp = 35;
inline constexpr std::size_t kProducerId = 43;
inline constexpr std::size_t kProducerEpoch = 51;
inline constexpr std::size_t kBaseSequence = 53;
inline constexpr std::size_t kRecordCount = 57;
}  // namespace batch_offsets

// The fixed header of a batch.
struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  std::size_t total_size() const { return kLogOverhead + static_cast<std::size_t>(batch_length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int compression() const { return attributes & 0x07; }
  bool is_control() const { return (attributes & 0x20) != 0; }
};

// Parses the 61-byte header at the start of `bytes` (which may hold more, or fewer bytes than the batch).
// Corruption if fewer than 61 bytes, the magic is not 2, batchLength is below 49 or above kMaxBatchBytes, or
// the record count / lastOffsetDelta are inconsistent. Does not check the CRC.
Result<BatchHeader> parse_batch_header(std::string_view bytes);

// Checks a complete batch (`batch.size()` == header.total_size()): CRC-32C, then that the compression codec
// is one of Kafka's (none, gzip, snappy, lz4, zstd; Corruption for 5..7).
Status verify_batch(std::string_view batch, const BatchHeader& header);

// The records section of a verified batch: the batch's own bytes when uncompressed, else the decompressed
// records written into `scratch` (Corruption if they do not decompress, or exceed kMaxBatchBytes * 4).
Result<std::string_view> batch_records(std::string_view batch, const BatchHeader& header,
                                       ByteBuffer& scratch);

// One decoded record; views point into the batch bytes.
struct DecodedRecord {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string_view key;
  bool key_is_null = false;
  std::string_view value;
  bool value_is_null = false;
  uint32_t header_count = 0;
};

// Iterates the records of a verified batch, zero-copy. Every varint and length is bounds-checked: malformed
// bytes give Corruption, never undefined behaviour.
class RecordReader {
 public:
  // Over an uncompressed batch.
  RecordReader(std::string_view batch, const BatchHeader& header);
  // Over a records section from batch_records() (compressed batches too).
  RecordReader(const BatchHeader& header, std::string_view records);
  bool done() const { return index_ == header_.record_count; }
  // Decodes the next record; its headers are appended to `headers` when non-null (else only validated).
  // Precondition: !done().
  Status next(DecodedRecord& record, std::vector<Header>* headers);
  // After the last record: Corruption if bytes remain.
  Status finish() const;

 private:
  Status corrupt(std::string_view what) const;
  const char* pos_;
  const char* end_;
  BatchHeader header_;
  int32_t index_ = 0;
  int32_t last_delta_ = -1;
};

// Fields of the batch header that encode_batch() does not derive from the records.
struct BatchEncodeOptions {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;  // -1 as a producer sends it; the log stamps its own
  int64_t producer_id = -1;             // -1: not an idempotent producer
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

struct EncodedBatchInfo {
  int32_t record_count = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
};

// Encodes records[order[0]], records[order[1]], ... (all records in order if `order` is empty) as one
// uncompressed batch into `out` (replacing its contents). Records with timestamp_ms == 0 get `now_ms`.
// InvalidArgument for no records, a negative timestamp, or a batch above kMaxBatchBytes.
Result<EncodedBatchInfo> encode_batch(std::span<const OutgoingRecord> records,
                                      std::span<const uint32_t> order, TimestampMs now_ms,
                                      const BatchEncodeOptions& options, ByteBuffer& out);

// Rewrite the fields outside the CRC (what a broker does to a batch it stores).
void set_batch_base_offset(char* batch, int64_t base_offset);
void set_batch_partition_leader_epoch(char* batch, int32_t epoch);

// Kafka varints (zigzag), exposed for tests. Return the bytes written / 0 on malformed input.
std::size_t write_varint(char* out, int32_t value);
std::size_t write_varlong(char* out, int64_t value);
std::size_t varint_size(int32_t value);
std::size_t varlong_size(int64_t value);
// Reads at `*pos` (not past `end`), advancing `*pos`; false if truncated or longer than 5 (10) bytes.
bool read_varint(const char** pos, const char* end, int32_t* value);
bool read_varlong(const char** pos, const char* end, int64_t* value);

}  // namespace sf::bus
