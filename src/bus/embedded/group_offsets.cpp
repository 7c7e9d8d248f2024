// Durable consumer-group offsets (see group_offsets.h).
#include "bus/embedded/group_offsets.h"

#include <fcntl.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/crc32c.h"

namespace sf::bus::embedded {
namespace {

constexpr std::string_view kFileHeader{"SFGO\0\0\0\1", 8};

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

template <typename Range>
std::string encode_record(const Range& entries, std::size_t count) {
  std::string payload;
  put_u32(payload, static_cast<uint32_t>(count));
  for (const auto& e : entries) {
    put_u16(payload, static_cast<uint16_t>(e.topic.size()));
    payload += e.topic;
    put_u32(payload, static_cast<uint32_t>(e.partition));
    put_u64(payload, static_cast<uint64_t>(e.offset));
  }
  std::string record;
  put_u32(record, static_cast<uint32_t>(payload.size()));
  put_u32(record, crc32c(payload));
  return record + payload;
}

// Applies one payload to `offsets`; false if malformed.
bool apply_payload(std::string_view payload, OffsetMap* offsets) {
  if (payload.size() < 4) return false;
  const uint64_t count = get_be(payload.data(), 4);
  std::size_t pos = 4;
  OffsetMap staged;
  for (uint64_t i = 0; i < count; ++i) {
    if (payload.size() - pos < 2) return false;
    const std::size_t topic_len = get_be(payload.data() + pos, 2);
    pos += 2;
    if (payload.size() - pos < topic_len + 12) return false;
    TopicPartition tp{std::string(payload.substr(pos, topic_len)), 0};
    pos += topic_len;
    tp.partition = static_cast<int32_t>(get_be(payload.data() + pos, 4));
    const auto offset = static_cast<int64_t>(get_be(payload.data() + pos + 4, 8));
    pos += 12;
    staged[std::move(tp)] = offset;
  }
  if (pos != payload.size()) return false;
  for (auto& [tp, offset] : staged) (*offsets)[tp] = offset;
  return true;
}

struct Entry {
  const std::string& topic;
  int32_t partition;
  int64_t offset;
};

}  // namespace

Result<std::unique_ptr<GroupOffsetsFile>> GroupOffsetsFile::open(const std::filesystem::path& path,
                                                                 OffsetMap* offsets) {
  std::unique_ptr<GroupOffsetsFile> file(new GroupOffsetsFile(path));
  auto content = read_file(path);
  if (content) {
    std::string_view bytes = *content;
    if (!bytes.starts_with(kFileHeader)) {
      spdlog::warn("bus: {}: not a group offsets file (bad header); the group's offsets are lost",
                   path.string());
    } else {
      std::size_t pos = kFileHeader.size();
      while (pos < bytes.size()) {
        if (bytes.size() - pos < 8) break;
        const std::size_t len = get_be(bytes.data() + pos, 4);
        const auto crc = static_cast<uint32_t>(get_be(bytes.data() + pos + 4, 4));
        if (bytes.size() - pos - 8 < len) break;
        const std::string_view payload = bytes.substr(pos + 8, len);
        if (crc32c(payload) != crc || !apply_payload(payload, offsets)) break;
        pos += 8 + len;
      }
      if (pos < bytes.size()) {
        spdlog::warn("bus: {}: dropping {} bytes of torn or corrupt commit records at byte {}", path.string(),
                     bytes.size() - pos, pos);
      }
    }
  } else if (content.status().code() != ErrorCode::kNotFound) {
    return content.status();
  }
  SF_RETURN_IF_ERROR(file->rewrite(*offsets));
  return file;
}

Status GroupOffsetsFile::rewrite(const OffsetMap& offsets) {
  std::string content(kFileHeader);
  if (!offsets.empty()) {
    std::vector<Entry> entries;
    for (const auto& [tp, offset] : offsets) entries.push_back({tp.topic, tp.partition, offset});
    content += encode_record(entries, entries.size());
  }
  fd_.reset();
  SF_RETURN_IF_ERROR(write_file_atomic(path_, content));
  dirty_ = false;
  return reopen_for_append();
}

Status GroupOffsetsFile::reopen_for_append() {
  auto fd = open_file(path_, O_WRONLY | O_APPEND);
  if (!fd) return fd.status();
  fd_ = std::move(*fd);
  auto size = file_size(fd_.get(), path_);
  if (!size) return size.status();
  size_ = *size;
  return Status::ok();
}

Status GroupOffsetsFile::append(std::span<const TopicPartitionOffset> offsets) {
  if (offsets.empty()) return Status::ok();
  for (const auto& o : offsets) {
    if (o.topic.size() > UINT16_MAX) return Status::invalid_argument("topic name too long");
  }
  if (!fd_.valid()) SF_RETURN_IF_ERROR(reopen_for_append());
  const std::string record = encode_record(offsets, offsets.size());
  if (Status written = write_all(fd_.get(), record.data(), record.size(), path_); !written) {
    // Cut a partial record so later appends are not hidden behind it.
    (void)truncate_file(fd_.get(), size_, path_);
    return written;
  }
  size_ += record.size();
  dirty_ = true;
  return Status::ok();
}

Result<bool> GroupOffsetsFile::sync() {
  if (!dirty_ || !fd_.valid()) return false;
  SF_RETURN_IF_ERROR(sync_data(fd_.get(), path_));
  dirty_ = false;
  return true;
}

}  // namespace sf::bus::embedded
