// Kafka RecordBatch v2 codec: round trips, golden bytes, interop with another client's bytes, bad input.
#include "bus/record_batch.h"

#include <random>
#include <string>
#include <vector>

#include <memory>

#include <gtest/gtest.h>

#include "core/crc32c.h"

namespace sf::bus {
namespace {

std::string as_string(const ByteBuffer& b) {
  return std::string(b.view());
}

struct Decoded {
  BatchHeader header;
  std::vector<DecodedRecord> records;
  std::vector<std::vector<Header>> headers;
  std::unique_ptr<ByteBuffer> scratch = std::make_unique<ByteBuffer>();  // decompressed records
};

Result<Decoded> decode(std::string_view bytes) {
  auto header = parse_batch_header(bytes);
  if (!header) return header.status();
  if (header->total_size() > bytes.size()) return Status::corruption("short");
  std::string_view batch = bytes.substr(0, header->total_size());
  SF_RETURN_IF_ERROR(verify_batch(batch, *header));
  Decoded out;
  out.header = *header;
  auto records = batch_records(batch, *header, *out.scratch);
  if (!records) return records.status();
  RecordReader reader(*header, *records);
  while (!reader.done()) {
    DecodedRecord r;
    std::vector<Header> hs;
    SF_RETURN_IF_ERROR(reader.next(r, &hs));
    out.records.push_back(r);
    out.headers.push_back(hs);
  }
  SF_RETURN_IF_ERROR(reader.finish());
  return out;
}

// Recomputes the CRC after a test edits bytes behind it, so the later checks are the ones exercised.
void fix_crc(std::string& batch) {
  const uint32_t crc = crc32c(batch.data() + 21, batch.size() - 21);
  for (int i = 0; i < 4; ++i) batch[17 + i] = static_cast<char>(crc >> (24 - 8 * i));
}

TEST(RecordBatchTest, RoundTripKeysValuesNullsHeadersTimestamps) {
  const Header h1[] = {{"trace", "abc"}, {"empty", ""}, {"null", "", true}};
  std::vector<OutgoingRecord> in(5);
  in[0].key = "BTCUSDT";
  in[0].value = R"({"price":"64000.10"})";
  in[0].timestamp_ms = 1722470400000;
  in[0].headers = h1;
  in[1].key = std::nullopt;  // null key
  in[1].value = "no key";
  in[1].timestamp_ms = 1722470399000;  // earlier than the first: negative delta
  in[2].key = "";                      // empty, not null
  in[2].value = "";                    // empty value
  in[2].timestamp_ms = 1722470401234;
  in[3].key = "tomb";
  in[3].value_is_null = true;
  in[3].timestamp_ms = 0;  // now
  in[4].key = std::string_view("bin\0ary", 7);
  const std::string long_value(300, 'x');
  in[4].value = long_value;  // multi-byte length varints
  in[4].timestamp_ms = 5;

  ByteBuffer buf;
  auto info = encode_batch(in, {}, /*now_ms=*/1722470500000, BatchEncodeOptions{.base_offset = 42}, buf);
  ASSERT_TRUE(info) << info.status().to_string();
  EXPECT_EQ(info->record_count, 5);
  EXPECT_EQ(info->base_timestamp, 1722470400000);
  EXPECT_EQ(info->max_timestamp, 1722470500000);

  auto out = decode(buf.view());
  ASSERT_TRUE(out) << out.status().to_string();
  EXPECT_EQ(out->header.base_offset, 42);
  EXPECT_EQ(out->header.record_count, 5);
  EXPECT_EQ(out->header.last_offset_delta, 4);
  EXPECT_EQ(out->header.max_timestamp, 1722470500000);
  EXPECT_EQ(out->header.producer_id, -1);
  EXPECT_EQ(out->header.compression(), 0);
  ASSERT_EQ(out->records.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out->records[i].offset, 42 + i);

  EXPECT_EQ(out->records[0].key, "BTCUSDT");
  EXPECT_FALSE(out->records[0].key_is_null);
  EXPECT_EQ(out->records[0].value, in[0].value);
  EXPECT_EQ(out->records[0].timestamp_ms, 1722470400000);
  ASSERT_EQ(out->headers[0].size(), 3u);
  EXPECT_EQ(out->headers[0][0].key, "trace");
  EXPECT_EQ(out->headers[0][0].value, "abc");
  EXPECT_EQ(out->headers[0][1].value, "");
  EXPECT_FALSE(out->headers[0][1].value_is_null);
  EXPECT_TRUE(out->headers[0][2].value_is_null);

  EXPECT_TRUE(out->records[1].key_is_null);
  EXPECT_EQ(out->records[1].timestamp_ms, 1722470399000);
  EXPECT_FALSE(out->records[2].key_is_null);
  EXPECT_EQ(out->records[2].key, "");
  EXPECT_FALSE(out->records[2].value_is_null);
  EXPECT_EQ(out->records[2].value, "");
  EXPECT_TRUE(out->records[3].value_is_null);
  EXPECT_EQ(out->records[3].timestamp_ms, 1722470500000);
  EXPECT_EQ(out->records[4].key, std::string_view("bin\0ary", 7));
  EXPECT_EQ(out->records[4].value.size(), 300u);
  EXPECT_EQ(out->records[4].timestamp_ms, 5);
}

TEST(RecordBatchTest, EncodesSubsetInGivenOrder) {
  std::vector<OutgoingRecord> in(4);
  const char* values[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; ++i) in[i].value = values[i];
  const uint32_t order[] = {3, 1};
  ByteBuffer buf;
  ASSERT_TRUE(encode_batch(in, order, 1, {}, buf));
  auto out = decode(buf.view());
  ASSERT_TRUE(out);
  ASSERT_EQ(out->records.size(), 2u);
  EXPECT_EQ(out->records[0].value, "d");
  EXPECT_EQ(out->records[1].value, "b");
}

// One small batch against a layout written out by hand from the Kafka spec; the CRC was computed with an
// independent bit-by-bit CRC-32C (Castagnoli) implementation, not with sf::crc32c.
TEST(RecordBatchTest, GoldenBytes) {
  const Header h0[] = {{"h", "x"}};
  const Header h1[] = {{"n", "", true}};
  std::vector<OutgoingRecord> in(2);
  in[0].key = "k";
  in[0].value = "v";
  in[0].timestamp_ms = 1000;
  in[0].headers = h0;
  in[1].value = "";
  in[1].timestamp_ms = 999;
  in[1].headers = h1;
  ByteBuffer buf;
  ASSERT_TRUE(encode_batch(in, {}, 0, {}, buf));

  const unsigned char expected[] = {
      0, 0, 0, 0, 0, 0, 0, 0,                          // baseOffset 0
      0, 0, 0, 0x48,                                   // batchLength 72 (84 - 12)
      0xff, 0xff, 0xff, 0xff,                          // partitionLeaderEpoch -1
      0x02,                                            // magic 2
      0xe4, 0x4d, 0xe2, 0x45,                          // CRC-32C of the rest
      0x00, 0x00,                                      // attributes: none, CreateTime
      0, 0, 0, 1,                                      // lastOffsetDelta 1
      0, 0, 0, 0, 0, 0, 0x03, 0xe8,                    // baseTimestamp 1000
      0, 0, 0, 0, 0, 0, 0x03, 0xe8,                    // maxTimestamp 1000
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // producerId -1
      0xff, 0xff,                                      // producerEpoch -1
      0xff, 0xff, 0xff, 0xff,                          // baseSequence -1
      0, 0, 0, 2,                                      // 2 records
      // record 0: length 12, attributes 0, timestampDelta 0, offsetDelta 0, key "k", value "v", 1 header h=x
      0x18, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x02, 0x02, 'h', 0x02, 'x',
      // record 1: length 9, attributes 0, timestampDelta -1, offsetDelta 1, null key, value "", header n=null
      0x12, 0x00, 0x01, 0x02, 0x01, 0x00, 0x02, 0x02, 'n', 0x01};
  ASSERT_EQ(buf.size(), sizeof(expected));
  EXPECT_EQ(as_string(buf), std::string(reinterpret_cast<const char*>(expected), sizeof(expected)));
}

// Bytes produced by another Kafka client (Sarama's record_batch_test.go, "uncompressed record").
TEST(RecordBatchTest, DecodesAnotherClientsBatch) {
  const unsigned char sarama[] = {
      0, 0, 0,  0,   0,   0,  0,  0,  0, 0, 0, 70, 0, 0, 0, 0, 2, 84, 121, 97, 253, 0, 0,  0, 0,  0, 0, 0,
      0, 1, 88, 141, 205, 89, 56, 0,  0, 0, 0, 0,  0, 0, 0, 0, 0, 0,  0,   0,  0,   0, 0,  0, 0,  0, 0, 0,
      0, 0, 0,  0,   1,   40, 0,  10, 0, 8, 1, 2,  3, 4, 6, 5, 6, 7,  2,   6,  8,   9, 10, 4, 11, 12};
  auto out = decode(std::string_view(reinterpret_cast<const char*>(sarama), sizeof(sarama)));
  ASSERT_TRUE(out) << out.status().to_string();
  ASSERT_EQ(out->records.size(), 1u);
  EXPECT_EQ(out->header.base_timestamp, 1479847795000);
  EXPECT_EQ(out->records[0].timestamp_ms, 1479847795005);
  EXPECT_EQ(out->records[0].key, std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(out->records[0].value, std::string("\x05\x06\x07", 3));
  ASSERT_EQ(out->headers[0].size(), 1u);
  EXPECT_EQ(out->headers[0][0].key, std::string("\x08\x09\x0a", 3));
  EXPECT_EQ(out->headers[0][0].value, std::string("\x0b\x0c", 2));
}

class RecordBatchCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_.resize(3);
    in_[0].key = "key-0";
    in_[0].value = "value-0";
    in_[1].value = "value-1";
    in_[2].key = "key-2";
    in_[2].value = "value-2";
    ByteBuffer buf;
    ASSERT_TRUE(encode_batch(in_, {}, 1000, {}, buf));
    good_ = as_string(buf);
  }
  std::vector<OutgoingRecord> in_;
  std::string good_;
};

TEST_F(RecordBatchCorruptionTest, CrcMismatch) {
  std::string bad = good_;
  bad[bad.size() - 3] ^= 0x01;  // inside a value
  auto out = decode(bad);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(out.status().message().find("CRC"), std::string::npos) << out.status().message();
}

TEST_F(RecordBatchCorruptionTest, TruncatedHeaderAndBody) {
  auto h = parse_batch_header(std::string_view(good_).substr(0, 60));
  ASSERT_FALSE(h);
  EXPECT_EQ(h.status().code(), ErrorCode::kCorruption);
  auto full = parse_batch_header(good_);
  ASSERT_TRUE(full);
  Status s = verify_batch(std::string_view(good_).substr(0, good_.size() - 1), *full);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
}

TEST_F(RecordBatchCorruptionTest, BadMagicAndLength) {
  std::string bad = good_;
  bad[16] = 1;
  EXPECT_EQ(parse_batch_header(bad).status().code(), ErrorCode::kCorruption);
  bad = good_;
  bad[8] = static_cast<char>(0x7f);  // batchLength ~2 GiB
  EXPECT_EQ(parse_batch_header(bad).status().code(), ErrorCode::kCorruption);
  bad = good_;
  bad[11] = 10;  // batchLength below the header
  bad[8] = bad[9] = bad[10] = 0;
  EXPECT_EQ(parse_batch_header(bad).status().code(), ErrorCode::kCorruption);
  bad = good_;
  bad[57] = static_cast<char>(0x7f);  // absurd record count
  EXPECT_EQ(parse_batch_header(bad).status().code(), ErrorCode::kCorruption);
}

TEST_F(RecordBatchCorruptionTest, BadVarintsWithValidCrc) {
  // Record 0 starts at byte 61 with its length varint: make it 6 continuation bytes (too long for an int32).
  std::string bad = good_;
  for (int i = 0; i < 6; ++i) bad[61 + i] = static_cast<char>(0xff);
  fix_crc(bad);
  auto out = decode(bad);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(out.status().message().find("record 0"), std::string::npos) << out.status().message();

  // A key length pointing past the record.
  bad = good_;
  bad[61 + 4] = 0x7e;  // keyLength zigzag 63
  fix_crc(bad);
  out = decode(bad);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.status().code(), ErrorCode::kCorruption);

  // A record count larger than the records present.
  bad = good_;
  bad[60] = 4;
  bad[26] = 3;  // lastOffsetDelta 3 to stay consistent
  fix_crc(bad);
  out = decode(bad);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.status().code(), ErrorCode::kCorruption);
}

TEST_F(RecordBatchCorruptionTest, UndecodableCompressedRecordsAreCorruptionNotACrash) {
  std::string gz = good_;
  gz[22] = 1;  // attributes: gzip, over records that are not gzip
  fix_crc(gz);
  auto out = decode(gz);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(out.status().message().find("gzip"), std::string::npos) << out.status().message();
  gz[22] = 6;  // not a Kafka codec
  fix_crc(gz);
  EXPECT_EQ(decode(gz).status().code(), ErrorCode::kCorruption);
}

// Random damage with the CRC repaired, so the structural checks must hold on their own (ASan/UBSan watch).
TEST_F(RecordBatchCorruptionTest, RandomDamageNeverCrashes) {
  std::mt19937 rng(7);
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bad = good_;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[61 + rng() % (bad.size() - 61)] = static_cast<char>(rng());
    if (rng() % 4 == 0) bad.resize(61 + rng() % (bad.size() - 61));
    fix_crc(bad);
    if (!decode(bad)) ++rejected;
  }
  EXPECT_GT(rejected, 2000);
}

TEST(RecordBatchTest, VarintEdges) {
  char buf[10];
  for (int32_t v : {0, 1, -1, 63, -64, 64, 8191, -8193, INT32_MAX, INT32_MIN}) {
    const std::size_t n = write_varint(buf, v);
    EXPECT_EQ(n, varint_size(v));
    const char* p = buf;
    int32_t back;
    ASSERT_TRUE(read_varint(&p, buf + n, &back));
    EXPECT_EQ(back, v);
    EXPECT_EQ(p, buf + n);
    p = buf;
    if (n > 1) {
      EXPECT_FALSE(read_varint(&p, buf + n - 1, &back)) << "truncated";
    }
  }
  for (int64_t v : {int64_t{0}, int64_t{-1}, INT64_MAX, INT64_MIN, int64_t{1722470400000}}) {
    const std::size_t n = write_varlong(buf, v);
    EXPECT_EQ(n, varlong_size(v));
    const char* p = buf;
    int64_t back;
    ASSERT_TRUE(read_varlong(&p, buf + n, &back));
    EXPECT_EQ(back, v);
  }
  const char overlong[] = {'\xff', '\xff', '\xff', '\xff', '\x7f'};  // 5th byte carries bits beyond 32
  const char* p = overlong;
  int32_t v;
  EXPECT_FALSE(read_varint(&p, overlong + 5, &v));
}

TEST(RecordBatchTest, RejectsBadInput) {
  ByteBuffer buf;
  EXPECT_EQ(encode_batch({}, {}, 0, {}, buf).status().code(), ErrorCode::kInvalidArgument);
  OutgoingRecord r;
  r.timestamp_ms = -5;
  EXPECT_EQ(encode_batch(std::span(&r, 1), {}, 0, {}, buf).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sf::bus
