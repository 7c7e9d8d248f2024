// Kafka RecordBatch v2 codec: encode into a reused buffer, validate and iterate zero-copy.
#include "bus/record_batch.h"

#include "bus/compression.h"

#include <bit>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "core/crc32c.h"

namespace sf::bus {
namespace {

inline void put_u16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline void put_u32(char* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void put_u64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline uint16_t get_u16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint32_t get_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t get_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

inline uint32_t zigzag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
inline uint64_t zigzag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int32_t unzigzag32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
inline int64_t unzigzag64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

inline std::size_t uvarint_size32(uint32_t v) {
  return 1 + (31 - std::countl_zero(v | 1)) / 7;
}
inline std::size_t uvarint_size64(uint64_t v) {
  return 1 + (63 - std::countl_zero(v | 1)) / 7;
}

inline std::size_t put_uvarint(char* out, uint64_t v) {
  std::size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}

// Size of a nullable byte field: its length varint plus the bytes.
inline std::size_t field_size(std::string_view bytes, bool is_null) {
  return is_null ? 1 : varint_size(static_cast<int32_t>(bytes.size())) + bytes.size();
}

inline char* put_field(char* p, std::string_view bytes, bool is_null) {
  if (is_null) {
    p += write_varint(p, -1);
    return p;
  }
  p += write_varint(p, static_cast<int32_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

constexpr std::size_t kMaxField = static_cast<std::size_t>(kMaxBatchBytes);

// The body of one record (everything after its length varint).
inline std::size_t record_body_size(const OutgoingRecord& r, int64_t timestamp_delta, int32_t offset_delta) {
  std::size_t n = 1 + varlong_size(timestamp_delta) + varint_size(offset_delta) +
                  field_size(r.key.value_or(std::string_view{}), !r.key.has_value()) +
                  field_size(r.value, r.value_is_null) + varint_size(static_cast<int32_t>(r.headers.size()));
  for (const Header& h : r.headers) n += field_size(h.key, false) + field_size(h.value, h.value_is_null);
  return n;
}

}  // namespace

std::size_t varint_size(int32_t value) {
  return uvarint_size32(zigzag32(value));
}
std::size_t varlong_size(int64_t value) {
  return uvarint_size64(zigzag64(value));
}
std::size_t write_varint(char* out, int32_t value) {
  return put_uvarint(out, zigzag32(value));
}
std::size_t write_varlong(char* out, int64_t value) {
  return put_uvarint(out, zigzag64(value));
}

bool read_varint(const char** pos, const char* end, int32_t* value) {
  const char* p = *pos;
  if (p < end && static_cast<uint8_t>(*p) < 0x80) {  // the common one-byte case
    *value = unzigzag32(static_cast<uint8_t>(*p));
    *pos = p + 1;
    return true;
  }
  uint32_t result = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p >= end) return false;
    auto byte = static_cast<uint8_t>(*p++);
    if (shift == 28 && byte > 0x0f) return false;  // more than 32 bits
    result |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = unzigzag32(result);
      *pos = p;
      return true;
    }
  }
  return false;
}

bool read_varlong(const char** pos, const char* end, int64_t* value) {
  const char* p = *pos;
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p >= end) return false;
    auto byte = static_cast<uint8_t>(*p++);
    if (shift == 63 && byte > 0x01) return false;  // more than 64 bits
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = unzigzag64(result);
      *pos = p;
      return true;
    }
  }
  return false;
}

Result<BatchHeader> parse_batch_header(std::string_view bytes) {
  using namespace batch_offsets;
  if (bytes.size() < kBatchHeaderSize) {
    return Status::corruption(
        fmt::format("record batch header truncated: {} of {} bytes", bytes.size(), kBatchHeaderSize));
  }
  const char* p = bytes.data();
  BatchHeader h;
  h.base_offset = static_cast<int64_t>(get_u64(p + kBaseOffset));
  h.batch_length = static_cast<int32_t>(get_u32(p + kBatchLength));
  h.partition_leader_epoch = static_cast<int32_t>(get_u32(p + kPartitionLeaderEpoch));
  h.magic = static_cast<int8_t>(p[kMagic]);
  if (h.magic != kMagicV2) {
    return Status::corruption(fmt::format("record batch at base offset {}: magic {} (only v2 is supported)",
                                          h.base_offset, h.magic));
  }
  if (h.batch_length < static_cast<int32_t>(kBatchLengthMin) || h.batch_length > kMaxBatchBytes) {
    return Status::corruption(fmt::format("record batch at base offset {}: batchLength {} out of bounds",
                                          h.base_offset, h.batch_length));
  }
  h.crc = get_u32(p + kCrc);
  h.attributes = static_cast<int16_t>(get_u16(p + kAttributes));
  h.last_offset_delta = static_cast<int32_t>(get_u32(p + kLastOffsetDelta));
  h.base_timestamp = static_cast<int64_t>(get_u64(p + kBaseTimestamp));
  h.max_timestamp = static_cast<int64_t>(get_u64(p + kMaxTimestamp));
  h.producer_id = static_cast<int64_t>(get_u64(p + kProducerId));
  h.producer_epoch = static_cast<int16_t>(get_u16(p + kProducerEpoch));
  h.base_sequence = static_cast<int32_t>(get_u32(p + kBaseSequence));
  h.record_count = static_cast<int32_t>(get_u32(p + kRecordCount));
  // Each record takes at least 7 bytes (7 one-byte varints / fields), which bounds the count: of the batch
  // itself, or of what a compressed batch may decompress to (batch_records' limit).
  const int64_t record_bytes = (h.attributes & 0x07) == 0 ? static_cast<int64_t>(h.batch_length) -
                                                                static_cast<int64_t>(kBatchLengthMin)
                                                          : int64_t{kMaxBatchBytes} * 4;
  const int64_t max_records = record_bytes / 7;
  if (h.record_count < 0 || h.last_offset_delta < 0 || h.record_count > max_records ||
      (h.record_count > 0 && h.last_offset_delta < h.record_count - 1) || h.base_offset < 0 ||
      h.base_offset > INT64_MAX - h.last_offset_delta) {
    return Status::corruption(
        fmt::format("record batch at base offset {}: inconsistent header (recordCount {}, lastOffsetDelta "
                    "{}, batchLength {})",
                    h.base_offset, h.record_count, h.last_offset_delta, h.batch_length));
  }
  return h;
}

Status verify_batch(std::string_view batch, const BatchHeader& header) {
  if (batch.size() != header.total_size()) {
    return Status::corruption(fmt::format("record batch at base offset {}: {} bytes, header says {}",
                                          header.base_offset, batch.size(), header.total_size()));
  }
  const uint32_t crc =
      crc32c(batch.data() + batch_offsets::kAttributes, batch.size() - batch_offsets::kAttributes);
  if (crc != header.crc) {
    return Status::corruption(
        fmt::format("record batch at base offset {}: CRC-32C mismatch (stored {:08x}, computed {:08x})",
                    header.base_offset, header.crc, crc));
  }
  const int codec = header.compression();
  if (codec > 4) {
    return Status::corruption(fmt::format("record batch at base offset {}: invalid compression codec {}",
                                          header.base_offset, codec));
  }
  return Status::ok();
}

Result<std::string_view> batch_records(std::string_view batch, const BatchHeader& header,
                                       ByteBuffer& scratch) {
  const std::string_view records = batch.substr(kBatchHeaderSize);
  if (header.compression() == 0) return records;
  Status s = decompress_records(header.compression(), records, scratch, std::size_t{kMaxBatchBytes} * 4);
  if (!s) {
    return Status(s.code(),
                  fmt::format("record batch at base offset {}: {}", header.base_offset, s.message()));
  }
  return scratch.view();
}

RecordReader::RecordReader(std::string_view batch, const BatchHeader& header)
    : pos_(batch.data() + kBatchHeaderSize), end_(batch.data() + batch.size()), header_(header) {}

RecordReader::RecordReader(const BatchHeader& header, std::string_view records)
    : pos_(records.data()), end_(records.data() + records.size()), header_(header) {}

Status RecordReader::corrupt(std::string_view what) const {
  return Status::corruption(fmt::format("record batch at base offset {}: record {} of {}: {}",
                                        header_.base_offset, index_, header_.record_count, what));
}

Status RecordReader::next(DecodedRecord& record, std::vector<Header>* headers) {
  int32_t length;
  if (!read_varint(&pos_, end_, &length)) return corrupt("bad or truncated length varint");
  if (length < 0 || length > end_ - pos_) return corrupt(fmt::format("length {} exceeds the batch", length));
  const char* p = pos_;
  const char* const rec_end = pos_ + length;
  if (p >= rec_end) return corrupt("empty record");
  ++p;  // attributes: unused in v2
  int64_t timestamp_delta;
  int32_t offset_delta;
  if (!read_varlong(&p, rec_end, &timestamp_delta)) return corrupt("bad timestampDelta varlong");
  if (!read_varint(&p, rec_end, &offset_delta)) return corrupt("bad offsetDelta varint");
  // Offsets strictly increase within [0, lastOffsetDelta] (equal to the index unless the batch was
  // compacted).
  if (offset_delta <= last_delta_ || offset_delta > header_.last_offset_delta) {
    return corrupt(fmt::format("offsetDelta {} out of order", offset_delta));
  }
  int32_t key_length;
  if (!read_varint(&p, rec_end, &key_length)) return corrupt("bad keyLength varint");
  if (key_length < -1 || key_length > rec_end - p)
    return corrupt(fmt::format("keyLength {} out of bounds", key_length));
  record.key_is_null = key_length < 0;
  record.key =
      record.key_is_null ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(key_length));
  if (key_length > 0) p += key_length;
  int32_t value_length;
  if (!read_varint(&p, rec_end, &value_length)) return corrupt("bad valueLength varint");
  if (value_length < -1 || value_length > rec_end - p) {
    return corrupt(fmt::format("valueLength {} out of bounds", value_length));
  }
  record.value_is_null = value_length < 0;
  record.value =
      record.value_is_null ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(value_length));
  if (value_length > 0) p += value_length;
  int32_t header_count;
  if (!read_varint(&p, rec_end, &header_count)) return corrupt("bad header count varint");
  if (header_count < 0 || header_count > rec_end - p) {
    return corrupt(fmt::format("header count {} out of bounds", header_count));
  }
  for (int32_t i = 0; i < header_count; ++i) {
    int32_t hk, hv;
    if (!read_varint(&p, rec_end, &hk)) return corrupt("bad header key length varint");
    if (hk < 0 || hk > rec_end - p) return corrupt(fmt::format("header key length {} out of bounds", hk));
    std::string_view hkey(p, static_cast<std::size_t>(hk));
    p += hk;
    if (!read_varint(&p, rec_end, &hv)) return corrupt("bad header value length varint");
    if (hv < -1 || hv > rec_end - p) return corrupt(fmt::format("header value length {} out of bounds", hv));
    if (headers != nullptr) {
      headers->push_back(Header{
          hkey, hv < 0 ? std::string_view{} : std::string_view(p, static_cast<std::size_t>(hv)), hv < 0});
    }
    if (hv > 0) p += hv;
  }
  if (p != rec_end) return corrupt(fmt::format("{} unexpected bytes after the headers", rec_end - p));
  record.offset = header_.base_offset + offset_delta;
  record.timestamp_ms = static_cast<int64_t>(static_cast<uint64_t>(header_.base_timestamp) +
                                             static_cast<uint64_t>(timestamp_delta));
  record.header_count = static_cast<uint32_t>(header_count);
  pos_ = rec_end;
  last_delta_ = offset_delta;
  ++index_;
  return Status::ok();
}

Status RecordReader::finish() const {
  if (pos_ != end_) {
    return Status::corruption(fmt::format("record batch at base offset {}: {} bytes after the last record",
                                          header_.base_offset, end_ - pos_));
  }
  return Status::ok();
}

Result<EncodedBatchInfo> encode_batch(std::span<const OutgoingRecord> records,
                                      std::span<const uint32_t> order, TimestampMs now_ms,
                                      const BatchEncodeOptions& options, ByteBuffer& out) {
  const std::size_t count = order.empty() ? records.size() : order.size();
  if (count == 0) return Status::invalid_argument("a record batch needs at least one record");
  auto at = [&](std::size_t i) -> const OutgoingRecord& {
    return order.empty() ? records[i] : records[order[i]];
  };

  // Pass 1: timestamps and the exact size, so pass 2 writes each byte once into a buffer of the right size.
  EncodedBatchInfo info;
  info.record_count = static_cast<int32_t>(count);
  std::size_t total = kBatchHeaderSize;
  for (std::size_t i = 0; i < count; ++i) {
    const OutgoingRecord& r = at(i);
    if (r.timestamp_ms < 0) {
      return Status::invalid_argument(fmt::format("record {}: negative timestamp {}", i, r.timestamp_ms));
    }
    const int64_t ts = r.timestamp_ms == 0 ? now_ms : r.timestamp_ms;
    if (i == 0) info.base_timestamp = info.max_timestamp = ts;
    if (ts > info.max_timestamp) info.max_timestamp = ts;
    bool too_big = r.value.size() > kMaxField || r.key.value_or(std::string_view{}).size() > kMaxField ||
                   r.headers.size() > kMaxField;
    for (const Header& h : r.headers)
      too_big = too_big || h.key.size() > kMaxField || h.value.size() > kMaxField;
    if (too_big) {
      return Status::invalid_argument(
          fmt::format("record {}: a key, value or header above {} bytes", i, kMaxField));
    }
    const std::size_t body = record_body_size(r, ts - info.base_timestamp, static_cast<int32_t>(i));
    total += varint_size(static_cast<int32_t>(std::min(body, kMaxField))) + body;
    if (total > kMaxField) {
      return Status::invalid_argument(fmt::format(
          "record batch above {} bytes at record {}: produce fewer records per call", kMaxField, i));
    }
  }

  out.resize(total);
  char* const base = out.data();
  using namespace batch_offsets;
  put_u64(base + kBaseOffset, static_cast<uint64_t>(options.base_offset));
  put_u32(base + kBatchLength, static_cast<uint32_t>(total - kLogOverhead));
  put_u32(base + kPartitionLeaderEpoch, static_cast<uint32_t>(options.partition_leader_epoch));
  base[kMagic] = kMagicV2;
  put_u16(base + kAttributes, 0);  // no compression, CreateTime, not transactional, not control
  put_u32(base + kLastOffsetDelta, static_cast<uint32_t>(count - 1));
  put_u64(base + kBaseTimestamp, static_cast<uint64_t>(info.base_timestamp));
  put_u64(base + kMaxTimestamp, static_cast<uint64_t>(info.max_timestamp));
  put_u64(base + kProducerId, static_cast<uint64_t>(options.producer_id));
  put_u16(base + kProducerEpoch, static_cast<uint16_t>(options.producer_epoch));
  put_u32(base + kBaseSequence, static_cast<uint32_t>(options.base_sequence));
  put_u32(base + kRecordCount, static_cast<uint32_t>(count));

  // Pass 2: the records.
  char* p = base + kBatchHeaderSize;
  for (std::size_t i = 0; i < count; ++i) {
    const OutgoingRecord& r = at(i);
    const int64_t ts_delta = (r.timestamp_ms == 0 ? now_ms : r.timestamp_ms) - info.base_timestamp;
    const auto offset_delta = static_cast<int32_t>(i);
    p += write_varint(p, static_cast<int32_t>(record_body_size(r, ts_delta, offset_delta)));
    *p++ = 0;  // attributes
    p += write_varlong(p, ts_delta);
    p += write_varint(p, offset_delta);
    p = put_field(p, r.key.value_or(std::string_view{}), !r.key.has_value());
    p = put_field(p, r.value, r.value_is_null);
    p += write_varint(p, static_cast<int32_t>(r.headers.size()));
    for (const Header& h : r.headers) {
      p = put_field(p, h.key, false);
      p = put_field(p, h.value, h.value_is_null);
    }
  }
  if (static_cast<std::size_t>(p - base) != total) {
    return Status::internal(fmt::format("record batch encoder wrote {} bytes, sized {}", p - base, total));
  }
  put_u32(base + kCrc, crc32c(base + kAttributes, total - kAttributes));
  return info;
}

void set_batch_base_offset(char* batch, int64_t base_offset) {
  put_u64(batch + batch_offsets::kBaseOffset, static_cast<uint64_t>(base_offset));
}

void set_batch_partition_leader_epoch(char* batch, int32_t epoch) {
  put_u32(batch + batch_offsets::kPartitionLeaderEpoch, static_cast<uint32_t>(epoch));
}

}  // namespace sf::bus
