// PartitionLog: contiguous appends, reopen, segment roll with the sparse index, retention by size and age.
#include "bus/embedded/partition_log.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/record_batch.h"
#include "bus/tests/test_util.h"

namespace sf::bus::embedded {
namespace {

namespace fs = std::filesystem;
using sf::bus::testing::TempDir;

TimestampMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class PartitionLogTest : public ::testing::Test {
 protected:
  fs::path dir() const { return tmp_.path() / "p0"; }

  std::unique_ptr<PartitionLog> open(const LogConfig& config, PartitionLog::Recovery* recovery = nullptr) {
    auto log = PartitionLog::open(dir(), "t/0", config, recovery);
    EXPECT_TRUE(log) << log.status().to_string();
    return log ? std::move(*log) : nullptr;
  }

  // Appends `n` records with the given timestamp; seals a rolled segment like the bus does.
  int64_t append(PartitionLog& log, int n, TimestampMs ts = 0, std::size_t value_size = 20) {
    std::vector<OutgoingRecord> records(n);
    std::string value(value_size, 'v');
    for (auto& r : records) {
      r.value = value;
      r.timestamp_ms = ts;
    }
    ByteBuffer buf;
    auto info = encode_batch(records, {}, now_ms(), {}, buf);
    EXPECT_TRUE(info);
    auto appended = log.append(buf.data(), buf.size(), n - 1, info->max_timestamp, now_ms());
    EXPECT_TRUE(appended) << appended.status().to_string();
    if (!appended) return -1;
    if (appended->rolled) {
      EXPECT_TRUE(log.seal(*appended->rolled));
    }
    return appended->base_offset;
  }

  std::vector<fs::path> files(std::string_view ext) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir())) {
      if (e.path().extension() == ext) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir tmp_;
};

TEST_F(PartitionLogTest, AppendsGetContiguousOffsetsAndSurviveReopen) {
  {
    auto log = open(LogConfig{});
    EXPECT_EQ(log->log_end_offset(), 0);
    EXPECT_EQ(append(*log, 3), 0);
    EXPECT_EQ(append(*log, 1), 3);
    EXPECT_EQ(append(*log, 10), 4);
    EXPECT_EQ(log->log_end_offset(), 14);
    // Destroyed without close(): like a crash, the active segment has no index and is scanned on open.
  }
  PartitionLog::Recovery recovery;
  {
    auto log = open(LogConfig{}, &recovery);
    EXPECT_EQ(recovery.scanned_segments, 1);
    EXPECT_EQ(recovery.truncated_bytes, 0u);
    EXPECT_EQ(log->log_start_offset(), 0);
    EXPECT_EQ(log->log_end_offset(), 14);
    EXPECT_EQ(append(*log, 2), 14);
    EXPECT_TRUE(log->close());
  }
  recovery = {};
  auto log = open(LogConfig{}, &recovery);
  EXPECT_EQ(recovery.scanned_segments, 0) << "a clean close leaves a trusted index";
  EXPECT_EQ(log->log_end_offset(), 16);
  EXPECT_EQ(append(*log, 1), 16);
}

TEST_F(PartitionLogTest, RollsSegmentsAndIndexFindsMiddleOffsets) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 300;
  {
    auto log = open(config);
    for (int i = 0; i < 120; ++i) ASSERT_EQ(append(*log, 5), i * 5);
  }
  const auto logs = files(".log");
  ASSERT_GT(logs.size(), 5u);
  EXPECT_EQ(files(".index").size(), logs.size() - 1) << "every sealed segment has an index";

  PartitionLog::Recovery recovery;
  auto log = open(config, &recovery);
  EXPECT_EQ(recovery.scanned_segments, 1) << "sealed segments are trusted through their index";
  EXPECT_EQ(log->log_end_offset(), 600);
  // Every offset is found at a batch boundary at or before it, and the index narrows it down: never more than
  // index_interval_bytes plus one batch before the batch holding the offset.
  bool used_index = false;
  for (int64_t offset = 0; offset < 600; offset += 7) {
    PartitionLog::Slice slice;
    int64_t start, end;
    ASSERT_EQ(log->locate(offset, &slice, &start, &end), PartitionLog::Locate::kData);
    EXPECT_LE(slice.segment->base_offset, offset);
    EXPECT_GT(slice.segment_next_offset, offset);
    std::string bytes(slice.end - slice.position, '\0');
    ASSERT_EQ(
        ::pread(slice.segment->fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(slice.position)),
        static_cast<ssize_t>(bytes.size()));
    std::size_t pos = 0, skipped = 0;
    for (;;) {
      auto h = parse_batch_header(std::string_view(bytes).substr(pos));
      ASSERT_TRUE(h) << h.status().to_string();
      if (pos == 0) {
        EXPECT_LE(h->base_offset, offset);
      }
      if (h->last_offset() >= offset) break;
      pos += h->total_size();
      skipped += h->total_size();
    }
    EXPECT_LE(skipped, static_cast<std::size_t>(config.index_interval_bytes) + 200);
    used_index = used_index || slice.position > 0;
  }
  EXPECT_TRUE(used_index);
  PartitionLog::Slice slice;
  int64_t start, end;
  EXPECT_EQ(log->locate(600, &slice, &start, &end), PartitionLog::Locate::kAtEnd);
  EXPECT_EQ(log->locate(601, &slice, &start, &end), PartitionLog::Locate::kOutOfRange);
}

TEST_F(PartitionLogTest, IndexRebuiltWhenMissingOrDamaged) {
  LogConfig config;
  config.segment_bytes = 2048;
  {
    auto log = open(config);
    for (int i = 0; i < 40; ++i) append(*log, 4);
  }
  auto indexes = files(".index");
  ASSERT_GE(indexes.size(), 2u);
  fs::remove(indexes[0]);
  {
    std::FILE* f = std::fopen(indexes[1].c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fputc('X', f);  // breaks its CRC
    std::fclose(f);
  }
  PartitionLog::Recovery recovery;
  {
    auto log = open(config, &recovery);
    EXPECT_EQ(recovery.scanned_segments, 3);
    EXPECT_EQ(recovery.truncated_bytes, 0u);
    EXPECT_EQ(log->log_end_offset(), 160);
  }
  recovery = {};
  auto log = open(config, &recovery);
  EXPECT_EQ(recovery.scanned_segments, 1) << "rebuilt indexes were written back";
}

TEST_F(PartitionLogTest, RetentionBySizeDeletesOldestSegments) {
  LogConfig config;
  config.segment_bytes = 2048;
  config.retention_bytes = 6000;
  auto log = open(config);
  for (int i = 0; i < 100; ++i) append(*log, 4);  // ~17 KB; rolls run retention as they go
  auto r = log->enforce_retention(now_ms());
  ASSERT_TRUE(r);
  const PartitionInfo info = log->info(0);
  EXPECT_GT(info.log_start_offset, 0);
  EXPECT_EQ(info.log_end_offset, 400);
  EXPECT_GE(info.size_bytes, 6000) << "Kafka keeps at least retention_bytes";
  EXPECT_LT(info.size_bytes, 6000 + 2 * 2048);
  EXPECT_EQ(files(".log").front().filename().string(), segment_stem(info.log_start_offset) + ".log");
  PartitionLog::Slice slice;
  int64_t start, end;
  EXPECT_EQ(log->locate(0, &slice, &start, &end), PartitionLog::Locate::kOutOfRange);
  EXPECT_EQ(start, info.log_start_offset);
  log.reset();
  log = open(config);
  EXPECT_EQ(log->log_start_offset(), info.log_start_offset);
  EXPECT_EQ(log->log_end_offset(), 400);
}

TEST_F(PartitionLogTest, RetentionByAgeUsesNewestTimestampOfSegment) {
  LogConfig config;
  config.segment_bytes = 1024;
  config.retention_ms = 24 * 3600 * 1000;
  auto log = open(config);
  const TimestampMs old = now_ms() - 10LL * 24 * 3600 * 1000;
  for (int i = 0; i < 30; ++i) append(*log, 4, old + i);  // ten days old
  const int64_t recent_start = log->log_end_offset();
  for (int i = 0; i < 30; ++i) append(*log, 4);  // now; the first roll here already ran retention
  ASSERT_TRUE(log->enforce_retention(now_ms()));
  // Every old segment is gone; the segment holding the first recent batch may start a little earlier.
  EXPECT_GT(log->log_start_offset(), 0);
  EXPECT_LE(log->log_start_offset(), recent_start);
  PartitionLog::Slice slice;
  int64_t start, end;
  ASSERT_EQ(log->locate(log->log_start_offset(), &slice, &start, &end), PartitionLog::Locate::kData);
  EXPECT_GE(slice.segment->max_timestamp, now_ms() - 60000);

  // The active segment is never deleted, however old.
  TempDir other;
  auto lone = PartitionLog::open(other.path(), "t/1", config, nullptr);
  ASSERT_TRUE(lone);
  append(**lone, 3, old);
  ASSERT_TRUE((*lone)->enforce_retention(now_ms()));
  EXPECT_EQ((*lone)->log_start_offset(), 0);
  EXPECT_EQ((*lone)->log_end_offset(), 3);
}

}  // namespace
}  // namespace sf::bus::embedded
