// The backend-independent parts of bus.h: FetchBatch, name validation, decoding into views.
#include "bus/bus.h"

#include <fmt/format.h>

#include "bus/fetch_batch_access.h"
#include "bus/record_batch.h"

namespace sf::bus {

FetchBatch::FetchBatch() : storage_(std::make_unique<Storage>()) {}
FetchBatch::~FetchBatch() = default;
FetchBatch::FetchBatch(FetchBatch&& other) noexcept
    : records_(std::move(other.records_)),
      storage_(std::exchange(other.storage_, std::make_unique<Storage>())) {}
FetchBatch& FetchBatch::operator=(FetchBatch&& other) noexcept {
  if (this != &other) {
    records_ = std::move(other.records_);
    other.records_.clear();
    std::swap(storage_, other.storage_);
    other.clear();
  }
  return *this;
}

void FetchBatch::clear() {
  records_.clear();
  storage_->buffers_used = 0;
  storage_->headers.clear();
  storage_->header_ranges.clear();
  storage_->topics.clear();
}

ByteBuffer& FetchBatchAccess::acquire_buffer(FetchBatch& batch) {
  FetchBatch::Storage& s = *batch.storage_;
  if (s.buffers_used == s.buffers.size()) s.buffers.push_back(std::make_unique<ByteBuffer>());
  ByteBuffer& buffer = *s.buffers[s.buffers_used++];
  buffer.clear();
  return buffer;
}

void FetchBatchAccess::release_last_buffer(FetchBatch& batch) {
  if (batch.storage_->buffers_used > 0) --batch.storage_->buffers_used;
}

Status FetchBatchAccess::decode_batches(FetchBatch& batch, const std::shared_ptr<const std::string>& topic,
                                        int32_t partition, std::string_view bytes, int32_t max_records,
                                        DecodeResult* result) {
  FetchBatch::Storage& s = *batch.storage_;
  if (s.topics.empty() || s.topics.back() != topic) s.topics.push_back(topic);
  const std::string_view topic_view = *topic;
  auto fail = [&](const Status& status) {
    return Status(status.code(), fmt::format("topic '{}' partition {} at offset {}: {}", topic_view,
                                             partition, result->next_offset, status.message()));
  };
  std::size_t pos = 0;
  DecodedRecord rec;
  while (result->records < max_records && bytes.size() - pos >= kBatchHeaderSize) {
    const std::string_view rest = bytes.substr(pos);
    auto header = parse_batch_header(rest);
    if (!header) return fail(header.status());
    if (header->total_size() > rest.size()) break;  // incomplete: the caller reads on from here
    const std::string_view one = rest.substr(0, header->total_size());
    if (header->last_offset() < result->next_offset || header->is_control()) {  // before the start: skip
      pos += one.size();
      result->consumed = pos;
      continue;
    }
    if (Status verified = verify_batch(one, *header); !verified) return fail(verified);
    std::string_view records = one.substr(kBatchHeaderSize);
    if (header->compression() != 0) {
      // Decompressed into a buffer of the batch: the records' views point into it.
      auto decompressed = batch_records(one, *header, acquire_buffer(batch));
      if (!decompressed) return fail(decompressed.status());
      records = *decompressed;
    }
    RecordReader reader(*header, records);
    const std::size_t records_before = batch.records_.size();
    const std::size_t headers_before = s.headers.size();
    const std::size_t ranges_before = s.header_ranges.size();
    int32_t added = 0;
    int64_t payload = 0;
    int64_t next_offset = result->next_offset;
    Status status;
    while (!reader.done()) {
      const std::size_t header_begin = s.headers.size();
      status = reader.next(rec, &s.headers);
      if (!status) break;
      if (rec.offset < result->next_offset || result->records + added >= max_records) {
        s.headers.resize(header_begin);
        continue;  // keep decoding: the whole batch must be valid before any of it is handed out
      }
      if (rec.header_count > 0) {
        s.header_ranges.push_back({static_cast<uint32_t>(batch.records_.size()),
                                   static_cast<uint32_t>(header_begin), rec.header_count});
      }
      batch.records_.push_back(RecordView{topic_view,
                                          partition,
                                          rec.offset,
                                          rec.timestamp_ms,
                                          rec.key,
                                          rec.key_is_null,
                                          rec.value,
                                          rec.value_is_null,
                                          {}});
      ++added;
      payload += static_cast<int64_t>(rec.key.size() + rec.value.size());
      next_offset = rec.offset + 1;
    }
    if (status) status = reader.finish();
    if (!status) {  // drop what this batch added: none of a malformed batch is handed out
      batch.records_.resize(records_before);
      s.headers.resize(headers_before);
      s.header_ranges.resize(ranges_before);
      return fail(status);
    }
    result->records += added;
    result->payload_bytes += payload;
    result->next_offset = next_offset;
    pos += one.size();
    result->consumed = pos;
  }
  return Status::ok();
}

void FetchBatchAccess::add_record(FetchBatch& batch, const std::shared_ptr<const std::string>& topic,
                                  const RecordView& record, std::span<const Header> headers) {
  FetchBatch::Storage& s = *batch.storage_;
  if (s.topics.empty() || s.topics.back() != topic) s.topics.push_back(topic);
  if (!headers.empty()) {
    s.header_ranges.push_back({static_cast<uint32_t>(batch.records_.size()),
                               static_cast<uint32_t>(s.headers.size()),
                               static_cast<uint32_t>(headers.size())});
    s.headers.insert(s.headers.end(), headers.begin(), headers.end());
  }
  RecordView& added = batch.records_.emplace_back(record);
  added.topic = *topic;
  added.headers = {};
}

void FetchBatchAccess::finish(FetchBatch& batch) {
  FetchBatch::Storage& s = *batch.storage_;
  for (const auto& range : s.header_ranges) {
    batch.records_[range.record].headers =
        std::span<const Header>(s.headers.data() + range.begin, range.count);
  }
}

namespace {
Status validate_name(std::string_view kind, std::string_view name) {
  if (name.empty()) return Status::invalid_argument(fmt::format("{} name is empty", kind));
  if (name.size() > 249) {
    return Status::invalid_argument(fmt::format("{} name '{}...' is {} characters long; the limit is 249",
                                                kind, name.substr(0, 20), name.size()));
  }
  if (name == "." || name == "..")
    return Status::invalid_argument(fmt::format("{} name cannot be '{}'", kind, name));
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) {
      return Status::invalid_argument(fmt::format(
          "{} name '{}' contains byte 0x{:02x}; allowed are ASCII letters, digits, '.', '_' and '-'", kind,
          name, static_cast<unsigned char>(c)));
    }
  }
  return Status::ok();
}
}  // namespace

Status validate_topic_name(std::string_view name) {
  return validate_name("topic", name);
}
Status validate_group_id(std::string_view group_id) {
  return validate_name("consumer group", group_id);
}

std::string_view fsync_policy_name(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kEveryBatch:
      return "every_batch";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNone:
      return "none";
  }
  return "unknown";
}

Result<int64_t> Bus::append_raw_batches(std::string_view, int32_t, std::span<char>) {
  return Status::failed_precondition("this bus backend does not store raw record batches");
}

Status Bus::fetch_raw(std::string_view, int32_t, int64_t, int64_t, std::chrono::milliseconds, std::string&,
                      RawFetchResult*) {
  return Status::failed_precondition("this bus backend does not serve raw record batches");
}

Status Bus::commit_group_offsets(std::string_view, std::span<const TopicPartitionOffset>) {
  return Status::failed_precondition("this bus backend has no external group offset store");
}

Result<std::vector<TopicPartitionOffset>> Bus::group_offsets(std::string_view) {
  return Status::failed_precondition("this bus backend has no external group offset store");
}

}  // namespace sf::bus
