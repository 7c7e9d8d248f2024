// Crash recovery and damaged files: torn tails, garbage, flipped bytes in sealed segments, a real kill -9.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "bus/record_batch.h"
#include "bus/tests/test_util.h"
#include "core/metrics.h"

namespace sf::bus {
namespace {

namespace fs = std::filesystem;
using testing::open_or_die;
using testing::options_for;
using testing::partitions;
using testing::read_all;
using testing::RecordSet;
using testing::TempDir;

std::vector<fs::path> segment_files(const fs::path& data, const std::string& topic, int partition) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(data / "topics" / topic / std::to_string(partition))) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Byte positions of the batches in a segment file.
std::vector<std::size_t> batch_starts(const std::string& bytes) {
  std::vector<std::size_t> starts;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    auto h = parse_batch_header(std::string_view(bytes).substr(pos));
    if (!h) break;
    starts.push_back(pos);
    pos += h->total_size();
  }
  return starts;
}

std::vector<std::string> values_of(const RecordSet& rs, int n) {
  return std::vector<std::string>(rs.values.begin(), rs.values.begin() + n);
}

TEST(RecoveryTest, TornTailIsTruncatedAndAppendsContinueContiguously) {
  // Cut the last batch at several points: inside the 12-byte log overhead, inside the 61-byte header, in the
  // records, and one byte short of complete.
  for (std::size_t cut : {1u, 30u, 61u, 100u, 0u}) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    TempDir tmp;
    auto options = options_for(tmp.path());
    auto metrics = make_metrics_registry();
    options.metrics = metrics;
    RecordSet rs = RecordSet::make(40, "value-");
    {
      auto bus = open_or_die(options);
      ASSERT_TRUE(bus->create_topic("t", {}));
      for (int b = 0; b < 4; ++b) ASSERT_TRUE(bus->produce("t", std::span(rs.records).subspan(b * 10, 10)));
    }
    const fs::path log = segment_files(tmp.path(), "t", 0).back();
    const std::string bytes = slurp(log);
    const auto starts = batch_starts(bytes);
    ASSERT_EQ(starts.size(), 4u);
    const std::size_t keep = starts[3] + (cut == 0 ? bytes.size() - starts[3] - 1 : cut);
    fs::resize_file(log, keep);
    {
      auto bus = open_or_die(options);
      EXPECT_EQ(bus->describe_topic("t")->partitions[0].log_end_offset, 30);
      EXPECT_EQ(read_all(*bus, "t", 0), values_of(rs, 30)) << "the whole batches before the tear are intact";
      EXPECT_NE(render_metrics(*metrics).find("streamforge_bus_recovery_truncated_bytes_total " +
                                              std::to_string(keep - starts[3])),
                std::string::npos);
      auto more = bus->produce("t", std::span(rs.records).subspan(30, 10));
      ASSERT_TRUE(more);
      EXPECT_EQ(more->records.front().offset, 30) << "offsets stay contiguous";
    }
    auto bus = open_or_die(options);
    EXPECT_EQ(read_all(*bus, "t", 0), values_of(rs, 40));
  }
}

TEST(RecoveryTest, GarbageAfterTheLastBatchIsCutOff) {
  TempDir tmp;
  RecordSet rs = RecordSet::make(30, "v");
  {
    auto bus = open_or_die(options_for(tmp.path()));
    ASSERT_TRUE(bus->create_topic("t", partitions(2)));
    ASSERT_TRUE(bus->produce_to_partition("t", 0, std::span(rs.records).subspan(0, 20)));
    ASSERT_TRUE(bus->produce_to_partition("t", 1, rs.records));
  }
  const fs::path log = segment_files(tmp.path(), "t", 0).back();
  const auto size = fs::file_size(log);
  {
    std::ofstream out(log, std::ios::binary | std::ios::app);
    std::mt19937 rng(3);
    for (int i = 0; i < 1000; ++i) out.put(static_cast<char>(rng()));
  }
  {
    auto bus = open_or_die(options_for(tmp.path()));
    EXPECT_EQ(fs::file_size(log), size);
    EXPECT_EQ(read_all(*bus, "t", 0), values_of(rs, 20));
    EXPECT_EQ(read_all(*bus, "t", 1), values_of(rs, 30)) << "the other partition is untouched";
    auto more = bus->produce_to_partition("t", 0, std::span(rs.records).subspan(20, 10));
    ASSERT_TRUE(more);
    EXPECT_EQ(more->records.front().offset, 20);
  }
  auto bus = open_or_die(options_for(tmp.path()));
  EXPECT_EQ(read_all(*bus, "t", 0), values_of(rs, 30));
}

TEST(RecoveryTest, FlippedByteInSealedSegmentFailsOnlyThatRange) {
  TempDir tmp;
  auto options = options_for(tmp.path());
  options.segment_bytes = 1500;
  RecordSet rs = RecordSet::make(150, "value-");
  {
    auto bus = open_or_die(options);
    ASSERT_TRUE(bus->create_topic("t", partitions(2)));
    ASSERT_TRUE(bus->create_topic("other", {}));
    for (int b = 0; b < 30; ++b) {
      auto chunk = std::span(rs.records).subspan(b * 5, 5);
      ASSERT_TRUE(bus->produce_to_partition("t", 0, chunk));
      ASSERT_TRUE(bus->produce_to_partition("t", 1, chunk));
      ASSERT_TRUE(bus->produce("other", chunk));
    }
  }
  const auto logs = segment_files(tmp.path(), "t", 0);
  ASSERT_GE(logs.size(), 3u);
  const std::string bytes = slurp(logs[0]);
  const auto starts = batch_starts(bytes);
  ASSERT_GE(starts.size(), 3u);
  {
    std::fstream f(logs[0], std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(starts[1] + 75));  // inside the second batch's records (offsets 5..9)
    f.put(static_cast<char>(bytes[starts[1] + 75] ^ 0x20));
  }

  auto bus = open_or_die(options);  // opening does not fail: sealed segments are checked when read
  FetchBatch batch;
  ASSERT_TRUE(bus->fetch("t", 0, 0, {}, batch));
  ASSERT_EQ(batch.size(), 5u) << "records before the damaged batch are served";
  Status bad = bus->fetch("t", 0, 5, {}, batch);
  ASSERT_EQ(bad.code(), ErrorCode::kCorruption);
  EXPECT_NE(bad.message().find("topic 't' partition 0 at offset 5"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("CRC"), std::string::npos) << bad.message();
  EXPECT_EQ(bus->fetch("t", 0, 7, {}, batch).code(), ErrorCode::kCorruption);
  ASSERT_TRUE(bus->fetch("t", 0, 10, {}, batch)) << "the range after the damaged batch is readable";
  EXPECT_EQ(batch[0].offset, 10);
  EXPECT_EQ(read_all(*bus, "t", 0, 10).size(), 140u);
  EXPECT_EQ(read_all(*bus, "t", 1), values_of(rs, 150)) << "other partitions are fine";
  EXPECT_EQ(read_all(*bus, "other", 0), values_of(rs, 150)) << "other topics are fine";
  EXPECT_TRUE(bus->produce_to_partition("t", 0, std::span(rs.records).subspan(0, 1))) << "appends still work";

  // A consumer gets the error, then gets past it with seek().
  ConsumerOptions co;
  auto consumer = bus->subscribe("g", {"t"}, co);
  ASSERT_TRUE(consumer);
  std::map<int32_t, int> seen;
  Status error;
  for (int i = 0; i < 20 && error.is_ok(); ++i) {
    error = (*consumer)->poll(std::chrono::milliseconds(0), batch);
    for (const auto& r : batch) ++seen[r.partition];
  }
  EXPECT_EQ(error.code(), ErrorCode::kCorruption);
  EXPECT_EQ(seen[0], 5);
  EXPECT_EQ(seen[1], 150) << "the healthy partition was consumed completely first";
  ASSERT_TRUE((*consumer)->seek("t", 0, 10));
  ASSERT_TRUE((*consumer)->poll(std::chrono::milliseconds(0), batch));
  ASSERT_FALSE(batch.empty());
  EXPECT_EQ(batch[0].offset, 10);
}

TEST(RecoveryTest, UnreadableTopicConfigLosesNothingElse) {
  TempDir tmp;
  RecordSet rs = RecordSet::make(10, "v");
  {
    auto bus = open_or_die(options_for(tmp.path()));
    ASSERT_TRUE(bus->create_topic("good", {}));
    ASSERT_TRUE(bus->create_topic("bad", {}));
    ASSERT_TRUE(bus->produce("good", rs.records));
    ASSERT_TRUE(bus->produce("bad", rs.records));
  }
  std::ofstream(tmp.path() / "topics" / "bad" / "topic.json") << "{ not json";
  auto bus = open_or_die(options_for(tmp.path()));
  EXPECT_EQ(*bus->list_topics(), std::vector<std::string>{"good"});
  EXPECT_EQ(read_all(*bus, "good", 0), values_of(rs, 10));
  EXPECT_TRUE(fs::exists(tmp.path() / "topics" / "bad" / "0")) << "the unreadable topic's data is left alone";
}

// A child process produces and reports each acknowledged batch through a pipe, then is killed with SIGKILL in
// the middle of producing. Every acknowledged record must be there after reopening, offsets contiguous.
TEST(RecoveryTest, AcknowledgedRecordsSurviveKill9) {
  TempDir tmp;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  constexpr int kPerBatch = 50;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto options = options_for(tmp.path());  // default: interval fsync, which a kill -9 must not matter to
    auto bus = open_embedded_bus(options);
    if (!bus || !(*bus)->create_topic("t", partitions(3))) ::_exit(2);
    std::vector<std::string> keys(kPerBatch), values(kPerBatch);
    std::vector<OutgoingRecord> records(kPerBatch);
    for (int64_t batch = 0;; ++batch) {
      for (int j = 0; j < kPerBatch; ++j) {
        const int64_t seq = batch * kPerBatch + j;
        keys[j] = "key-" + std::to_string(seq % 97);
        values[j] = "seq-" + std::to_string(seq) + std::string(100, 'x');
        records[j].key = keys[j];
        records[j].value = values[j];
      }
      if (!(*bus)->produce("t", records)) ::_exit(3);
      if (::write(fds[1], &batch, sizeof batch) != sizeof batch) ::_exit(4);
    }
  }
  ::close(fds[1]);
  int64_t acked = -1, got;
  while (acked < 300 && ::read(fds[0], &got, sizeof got) == sizeof got) acked = got;
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child died early with exit status " << WEXITSTATUS(status);
  while (::read(fds[0], &got, sizeof got) == sizeof got) acked = got;  // acks sent just before the kill
  ::close(fds[0]);
  ASSERT_GE(acked, 300);

  auto bus = open_or_die(options_for(tmp.path()));
  std::set<int64_t> seqs;
  std::size_t total = 0;
  for (int32_t p = 0; p < 3; ++p) {
    for (const auto& v : read_all(*bus, "t", p)) {  // read_all checks contiguity
      ++total;
      seqs.insert(std::stoll(v.substr(4)));
    }
  }
  EXPECT_EQ(seqs.size(), total) << "no record twice";
  const int64_t must_have = (acked + 1) * kPerBatch;
  for (int64_t s = 0; s < must_have; ++s)
    ASSERT_TRUE(seqs.count(s)) << "acknowledged record " << s << " lost";
  RecordSet rs = RecordSet::make(5, "after", 1);
  auto more = bus->produce("t", rs.records);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->records.front().offset,
            bus->describe_topic("t")->partitions[more->records.front().partition].log_end_offset - 5);
}

}  // namespace
}  // namespace sf::bus
