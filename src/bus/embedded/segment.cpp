// Segment files: naming, sparse index encoding, and the validating scan used by recovery.
#include "bus/embedded/segment.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "bus/byte_buffer.h"
#include "bus/record_batch.h"
#include "core/crc32c.h"

namespace sf::bus::embedded {
namespace {

constexpr uint32_t kIndexMagic = 0x53464958;  // "SFIX"

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

uint32_t Segment::lookup(int64_t offset) const {
  if (offset <= base_offset || index.empty()) return 0;
  const int64_t rel = offset - base_offset;
  auto it = std::upper_bound(index.begin(), index.end(), rel, [](int64_t r, const IndexEntry& e) {
    return r < static_cast<int64_t>(e.relative_offset);
  });
  return it == index.begin() ? 0 : std::prev(it)->position;
}

void Segment::note_batch(int64_t batch_base_offset, uint64_t position, uint64_t batch_size,
                         int64_t index_interval) {
  if (bytes_since_index > static_cast<uint64_t>(index_interval)) {
    index.push_back(
        {static_cast<uint32_t>(batch_base_offset - base_offset), static_cast<uint32_t>(position)});
    bytes_since_index = 0;
  }
  bytes_since_index += batch_size;
}

std::string segment_stem(int64_t base_offset) {
  return fmt::format("{:020d}", base_offset);
}

std::optional<int64_t> parse_segment_filename(std::string_view filename, std::string_view ext) {
  if (filename.size() != 20 + ext.size() || filename.substr(20) != ext) return std::nullopt;
  int64_t value = 0;
  for (char c : filename.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string encode_index(const Segment& segment) {
  std::string out;
  out.reserve(segment.index.size() * 8 + kIndexFooterSize);
  for (const IndexEntry& e : segment.index) {
    put_u32(out, e.relative_offset);
    put_u32(out, e.position);
  }
  put_u32(out, kIndexMagic);
  put_u64(out, static_cast<uint64_t>(segment.next_offset));
  put_u64(out, static_cast<uint64_t>(segment.max_timestamp));
  put_u64(out, segment.size);
  put_u32(out, crc32c(out));
  return out;
}

std::optional<IndexFile> decode_index(std::string_view bytes, int64_t base_offset) {
  if (bytes.size() < kIndexFooterSize || (bytes.size() - kIndexFooterSize) % 8 != 0) return std::nullopt;
  const char* footer = bytes.data() + bytes.size() - kIndexFooterSize;
  if (get_u32(footer) != kIndexMagic) return std::nullopt;
  if (get_u32(footer + 28) != crc32c(bytes.data(), bytes.size() - 4)) return std::nullopt;
  IndexFile file;
  file.next_offset = static_cast<int64_t>(get_u64(footer + 4));
  file.max_timestamp = static_cast<int64_t>(get_u64(footer + 12));
  file.log_size = get_u64(footer + 20);
  if (file.next_offset < base_offset || file.log_size > UINT32_MAX) return std::nullopt;
  const std::size_t n = (bytes.size() - kIndexFooterSize) / 8;
  file.entries.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    IndexEntry e{get_u32(bytes.data() + i * 8), get_u32(bytes.data() + i * 8 + 4)};
    const bool ordered = file.entries.empty() || (e.relative_offset > file.entries.back().relative_offset &&
                                                  e.position > file.entries.back().position);
    if (!ordered || e.position >= file.log_size ||
        static_cast<int64_t>(e.relative_offset) >= file.next_offset - base_offset) {
      return std::nullopt;
    }
    file.entries.push_back(e);
  }
  return file;
}

Result<ScanResult> scan_segment(const Segment& segment, uint64_t file_size, int64_t index_interval) {
  ScanResult result;
  result.next_offset = segment.base_offset;
  Segment rebuilt;  // collects index entries with the same rule as appends
  rebuilt.base_offset = segment.base_offset;
  ByteBuffer buf;
  ByteBuffer scratch;      // a compressed batch's records
  uint64_t buf_start = 0;  // file position of buf[0]
  constexpr std::size_t kChunk = 1 << 20;
  uint64_t pos = 0;
  auto stop = [&](std::string why) {
    result.stop = Status::corruption(fmt::format("{} at byte {} (offset {}): {}", segment.log_path.string(),
                                                 pos, result.next_offset, why));
  };
  while (pos < file_size) {
    // Make sure the buffer holds the header, then the whole batch, starting at `pos`.
    std::size_t want = kBatchHeaderSize;
    for (int pass = 0; pass < 2; ++pass) {
      const uint64_t have_end = buf_start + buf.size();
      if (pos < buf_start || pos + want > have_end) {
        const std::size_t len =
            static_cast<std::size_t>(std::min<uint64_t>(std::max(want, kChunk), file_size - pos));
        buf.resize(len);
        auto n = pread_full(segment.fd.get(), buf.data(), len, pos, segment.log_path);
        if (!n) return n.status();
        buf.resize(*n);
        buf_start = pos;
      }
      if (pos + want > buf_start + buf.size()) break;
      if (pass == 0) {
        auto header = parse_batch_header(
            std::string_view(buf.data() + (pos - buf_start), buf.size() - (pos - buf_start)));
        if (!header) break;
        want = header->total_size();
      }
    }
    const std::string_view rest(buf.data() + (pos - buf_start), buf.size() - (pos - buf_start));
    if (rest.size() < kBatchHeaderSize) {
      stop(fmt::format("torn batch header ({} of {} bytes)", file_size - pos, kBatchHeaderSize));
      break;
    }
    auto header = parse_batch_header(rest);
    if (!header) {
      stop(header.status().message());
      break;
    }
    if (header->total_size() > rest.size()) {
      stop(fmt::format("torn batch ({} of {} bytes)", file_size - pos, header->total_size()));
      break;
    }
    if (header->base_offset != result.next_offset) {
      stop(
          fmt::format("batch base offset {} where {} was expected", header->base_offset, result.next_offset));
      break;
    }
    const std::string_view batch = rest.substr(0, header->total_size());
    Status status = verify_batch(batch, *header);
    std::string_view records;
    if (status) {
      auto decompressed = batch_records(batch, *header, scratch);
      if (decompressed)
        records = *decompressed;
      else
        status = decompressed.status();
    }
    if (status) {
      RecordReader reader(*header, records);
      DecodedRecord rec;
      while (status && !reader.done()) status = reader.next(rec, nullptr);
      if (status) status = reader.finish();
    }
    if (!status) {
      stop(status.message());
      break;
    }
    rebuilt.note_batch(header->base_offset, pos, batch.size(), index_interval);
    result.next_offset = header->last_offset() + 1;
    if (header->record_count > 0)
      result.max_timestamp = std::max(result.max_timestamp, header->max_timestamp);
    ++result.batches;
    pos += batch.size();
    result.valid_bytes = pos;
  }
  result.index = std::move(rebuilt.index);
  result.bytes_since_index = rebuilt.bytes_since_index;
  return result;
}

}  // namespace sf::bus::embedded
