// A child process appends to the bus and upserts to the store and is SIGKILLed at a random moment;
// after reopening, every acknowledged record is present, nothing is torn, offsets are contiguous and no
// document is doubled. Several rounds, each resuming after the previous crash.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "store/store.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

constexpr int kPartitions = 3;
constexpr int kBatch = 64;

struct Opened {
  std::unique_ptr<bus::Bus> bus;
  std::unique_ptr<store::Store> store;
};

Opened open_all(const fs::path& dir, bus::FsyncPolicy policy) {
  bus::EmbeddedBusOptions b;
  b.dir = dir / "bus";
  b.fsync_policy = policy;
  b.fsync_interval_ms = 5;
  b.segment_bytes = 64 << 10;  // many segment rolls, so crashes also hit rolls
  store::RocksDbStoreOptions s;
  s.path = (dir / "store").string();
  return {value_or_throw(bus::open_embedded_bus(b)), value_or_throw(store::open_rocksdb_store(s))};
}

std::string document(int64_t seq) {
  return "{\"_key\":\"" + std::to_string(seq) + "\",\"seq\":" + std::to_string(seq) + ",\"payload\":\"" +
         std::string(static_cast<size_t>(40 + seq % 60), 'x') + "\"}";
}

// The child: appends batches forever, reporting each acknowledged batch's last sequence number on `ack_fd`
// only once both the bus and the store acknowledged it.
[[noreturn]] void child_main(const fs::path& dir, bus::FsyncPolicy policy, int64_t first_seq, int ack_fd) {
  try {
    auto opened = open_all(dir, policy);
    if (!opened.bus->ensure_topic("crash", bus::TopicConfig{.partitions = kPartitions})) _exit(3);
    std::vector<std::string> keys, docs;
    std::vector<bus::OutgoingRecord> records(kBatch);
    for (int64_t seq = first_seq;; seq += kBatch) {
      keys.clear();
      docs.clear();
      for (int i = 0; i < kBatch; ++i) {
        keys.push_back(std::to_string(seq + i));
        docs.push_back(document(seq + i));
      }
      for (int i = 0; i < kBatch; ++i) {
        records[i].key = keys[i];
        records[i].value = docs[i];
      }
      if (!opened.bus->produce("crash", records)) _exit(4);
      if (!opened.store->upsert("crash", docs)) _exit(5);
      int64_t acked = seq + kBatch - 1;
      if (::write(ack_fd, &acked, sizeof acked) != sizeof acked) _exit(6);
    }
  } catch (...) {
    _exit(7);
  }
}

struct Verified {
  int64_t max_seq = -1;
  size_t bus_records = 0;
};

// `acked` holds the last sequence number of every acknowledged batch (a batch is kBatch numbers).
Verified verify(const fs::path& dir, bus::FsyncPolicy policy, const std::vector<int64_t>& acked) {
  auto opened = open_all(dir, policy);
  Verified out;
  std::set<int64_t> seen;
  auto info = opened.bus->describe_topic("crash");
  if (!info) return out;  // killed before the topic existed
  for (const auto& p : info->partitions) {
    int64_t next = p.log_start_offset;
    bus::FetchBatch batch;
    while (next < p.log_end_offset) {
      Status st = opened.bus->fetch("crash", p.partition, next, bus::FetchOptions{}, batch);
      EXPECT_TRUE(st) << st.to_string();
      if (!st || batch.empty()) break;
      for (const auto& r : batch) {
        EXPECT_EQ(r.offset, next) << "offsets must be contiguous in partition " << p.partition;
        next = r.offset + 1;
        int64_t seq = std::stoll(std::string(r.key));
        EXPECT_EQ(r.value, document(seq)) << "torn or altered record at offset " << r.offset;
        EXPECT_TRUE(seen.insert(seq).second) << "duplicate record " << seq;
        EXPECT_EQ(bus::default_partition(r.key, kPartitions), p.partition);
      }
    }
    EXPECT_EQ(next, p.log_end_offset);
  }
  out.bus_records = seen.size();
  size_t missing = 0;
  for (int64_t end : acked) {
    for (int64_t seq = end - kBatch + 1; seq <= end; ++seq) missing += seen.count(seq) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0u) << "acknowledged records missing from the bus";
  // Store: every acknowledged document present, keys unique, count exact.
  std::set<int64_t> keys;
  Status scanned = opened.store->scan("crash", {}, [&](std::string_view key, std::string_view doc) {
    int64_t seq = std::stoll(std::string(key));
    EXPECT_TRUE(keys.insert(seq).second) << "duplicate document " << seq;
    EXPECT_EQ(doc, document(seq));
    return true;
  });
  if (!acked.empty()) {
    EXPECT_TRUE(scanned) << scanned.to_string();
    EXPECT_EQ(value_or_throw(opened.store->count("crash")), keys.size());
  }
  missing = 0;
  for (int64_t end : acked) {
    for (int64_t seq = end - kBatch + 1; seq <= end; ++seq) missing += keys.count(seq) ? 0 : 1;
  }
  EXPECT_EQ(missing, 0u) << "acknowledged documents missing from the store";
  out.max_seq = seen.empty() ? -1 : *seen.rbegin();
  // Every document in the store was first appended to the bus.
  for (int64_t k : keys) EXPECT_TRUE(seen.count(k)) << k;
  return out;
}

void run_rounds(bus::FsyncPolicy policy, int rounds) {
  fs::path dir = fs::temp_directory_path() / ("sf-crash-" + std::to_string(::getpid()) + "-" +
                                              std::string(bus::fsync_policy_name(policy)));
  fs::remove_all(dir);
  std::mt19937 rng(std::random_device{}());
  int64_t next_seq = 0;
  std::vector<int64_t> acked;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_main(dir, policy, next_seq, fds[1]);
    }
    ::close(fds[1]);
    // Let it run for a random while, reading acknowledgements, then kill it without warning.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 900)(rng));
    size_t acked_before = acked.size();
    std::thread reader([&] {
      int64_t end;
      while (::read(fds[0], &end, sizeof end) == sizeof end) acked.push_back(end);
    });
    std::this_thread::sleep_until(deadline);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    reader.join();
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with code " << WEXITSTATUS(status);
    Verified v = verify(dir, policy, acked);
    if (::testing::Test::HasFailure()) break;
    if (!acked.empty()) {
      EXPECT_GE(v.max_seq, acked.back());
    }
    // The next round continues after everything that reached the bus, acknowledged or not, so no
    // sequence number is ever appended twice.
    next_seq = v.max_seq + 1;
    std::printf("round %d: %zu batches acknowledged in this round, %zu records on the bus\n", round,
                acked.size() - acked_before, v.bus_records);
  }
  EXPECT_FALSE(acked.empty()) << "no batch was ever acknowledged: the test proved nothing";
  fs::remove_all(dir);
}

TEST(CrashRecovery, KillDuringAppendsAndUpsertsIntervalFsync) {
  run_rounds(bus::FsyncPolicy::kInterval, 4);
}

TEST(CrashRecovery, KillDuringAppendsAndUpsertsEveryBatchFsync) {
  run_rounds(bus::FsyncPolicy::kEveryBatch, 3);
}

}  // namespace
}  // namespace sf
