// How a backend fills a FetchBatch: buffers it reads into, pinned topic names, and decoding of whole record
// batches into RecordViews. Internal to bus/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "bus/byte_buffer.h"

namespace sf::bus {

struct FetchBatch::Storage {
  std::vector<std::unique_ptr<ByteBuffer>> buffers;  // unique_ptr: growing the vector never moves bytes
  std::size_t buffers_used = 0;
  std::vector<Header> headers;
  struct HeaderRange {
    uint32_t record;
    uint32_t begin;
    uint32_t count;
  };
  std::vector<HeaderRange> header_ranges;  // spans are set in finish(): `headers` may reallocate
  std::vector<std::shared_ptr<const std::string>> topics;  // keeps the viewed names alive
};

struct FetchBatchAccess {
  // A buffer to read into; its bytes stay put until the batch is cleared. Reuses an old buffer when it can.
  static ByteBuffer& acquire_buffer(FetchBatch& batch);
  // Returns the buffer most recently acquired, unused (e.g. the read found nothing).
  static void release_last_buffer(FetchBatch& batch);

  struct DecodeResult {
    int32_t records = 0;        // records added
    int64_t next_offset = 0;    // offset after the last record added (unchanged if none)
    int64_t payload_bytes = 0;  // key + value bytes added
    std::size_t consumed = 0;   // bytes of `bytes` made of whole batches that were fully handled
  };
  // Decodes the complete batches at the start of `bytes` (from a batch boundary; a trailing incomplete batch
  // is ignored) into records with offset >= result->next_offset, at most `max_records` of them. Each batch is
  // CRC-checked before use. On a malformed batch returns Corruption naming topic, partition and offset, with
  // `result` describing the records added before it.
  static Status decode_batches(FetchBatch& batch, const std::shared_ptr<const std::string>& topic,
                               int32_t partition, std::string_view bytes, int32_t max_records,
                               DecodeResult* result);
  // Appends one record for backends that receive records one by one (the Kafka backend): its views (and the
  // headers', which are copied) must point into a buffer of acquire_buffer() or other bytes the batch keeps.
  // `record.topic` and `record.headers` are ignored: the topic is pinned from `topic`.
  static void add_record(FetchBatch& batch, const std::shared_ptr<const std::string>& topic,
                         const RecordView& record, std::span<const Header> headers);
  // Call once the batch is filled: points RecordView::headers at their final place.
  static void finish(FetchBatch& batch);
};

}  // namespace sf::bus
