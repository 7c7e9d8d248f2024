// Crash safety: a child process upserts batches and reports each acknowledged batch on a pipe; it is killed
// with SIGKILL at a random moment. After reopening, every acknowledged batch must be fully present, the store
// must hold exactly what some prefix of the batches wrote, and the document count must equal the number of
// distinct keys. Acknowledged means durable: for logged upserts when upsert() returned, for deferred ones
// (Durability::kDeferred) once a later persist() returned.
//
// The child is this test binary re-executed (fork + exec) with SF_STORE_CRASH_CHILD_* set, which a global
// test environment turns into the writer loop: a plain fork of a process whose RocksDB thread pools already
// run would leave the child without background threads.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store.h"
#include "store/tests/test_util.h"

extern char** environ;

namespace sf::store {
namespace {

constexpr const char* kChildDirEnv = "SF_STORE_CRASH_CHILD_DIR";
constexpr const char* kChildCollectionEnv = "SF_STORE_CRASH_CHILD_COLLECTION";
constexpr const char* kChildFdEnv = "SF_STORE_CRASH_CHILD_FD";
constexpr const char* kChildDeferredEnv = "SF_STORE_CRASH_CHILD_DEFERRED";
// Deferred children persist every kPersistEvery batches and write every kLoggedEvery-th batch logged (which
// must first persist the deferred ones before it).
constexpr int64_t kPersistEvery = 5;
constexpr int64_t kLoggedEvery = 7;
// Batch b writes documents b*kStride .. b*kStride+kKeysPerBatch-1: half new keys, half updates.
constexpr int64_t kKeysPerBatch = 200;
constexpr int64_t kStride = 100;

int64_t open_time(int64_t i) {
  return 1722470400000 + i * 60000;
}

std::string batch_document(int64_t i, int64_t batch) {
  return fmt::format(
      R"({{"_key":"{0}","open_time":{0},"batch":{1},"open":"64500.00000000","high":"64600.50000000",)"
      R"("low":"64480.20000000","close":"64523.10000000","volume":"123.45678000","close_time":{2},)"
      R"("quote_asset_volume":"7965432.12345678","number_of_trades":4321,"symbol":"BTCUSDT","interval":"1m"}})",
      open_time(i), batch, open_time(i) + 59999);
}

[[noreturn]] void run_child(const char* dir, const char* collection, int fd, bool deferred) {
  RocksDbStoreOptions options;
  options.path = dir;
  options.write_buffer_bytes = 512 << 10;  // small memtables: flushes happen while we are killed
  options.block_cache_bytes = 8 << 20;
  auto store = open_rocksdb_store(options);
  if (!store) {
    std::fprintf(stderr, "crash child: %s\n", store.status().to_string().c_str());
    _exit(2);
  }
  for (int64_t batch = 0;; ++batch) {
    std::vector<std::string> docs;
    for (int64_t k = 0; k < kKeysPerBatch; ++k) docs.push_back(batch_document(batch * kStride + k, batch));
    std::vector<std::string_view> views(docs.begin(), docs.end());
    const bool logged = !deferred || batch % kLoggedEvery == kLoggedEvery - 1;
    // Alternate the modes: merges (kUpdate) are the slow path, especially in sanitizer builds.
    const UpsertOptions upsert_options{.mode = batch % 2 == 0 ? UpsertMode::kUpdate : UpsertMode::kReplace,
                                       .durability = logged ? Durability::kLogged : Durability::kDeferred};
    auto result = (*store)->upsert(collection, views, upsert_options);
    if (!result || !result->rejected.empty()) {
      std::fprintf(stderr, "crash child: upsert failed: %s\n", result.status().to_string().c_str());
      _exit(3);
    }
    if (!logged && batch % kPersistEvery == kPersistEvery - 1) {
      if (Status persisted = (*store)->persist(collection); !persisted) {
        std::fprintf(stderr, "crash child: persist failed: %s\n", persisted.to_string().c_str());
        _exit(3);
      }
    } else if (!logged) {
      continue;  // not acknowledged yet
    }
    if (write(fd, &batch, sizeof batch) != sizeof batch) _exit(4);
  }
}

// In the re-executed child, runs before any test (after static initialisation, unlike a static initialiser)
// and never returns.
class CrashChildEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* dir = std::getenv(kChildDirEnv);
    if (dir != nullptr) {
      const char* deferred = std::getenv(kChildDeferredEnv);
      run_child(dir, std::getenv(kChildCollectionEnv), std::atoi(std::getenv(kChildFdEnv)),
                deferred != nullptr && std::string_view(deferred) == "1");
    }
  }
};
[[maybe_unused]] ::testing::Environment* const kCrashChildEnvironment =
    ::testing::AddGlobalTestEnvironment(new CrashChildEnvironment);

// Reads acknowledged batch numbers from the pipe until `deadline`, or until EOF if `until_eof`.
class AckReader {
 public:
  explicit AckReader(int fd) : fd_(fd) {}

  // Returns false at EOF.
  bool read_until(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      if (!read_some()) return false;
    }
  }
  void read_to_eof() {
    while (read_some()) {
    }
  }
  int64_t last() const { return last_; }

 private:
  bool read_some() {
    char buf[4096];
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    while (pending_.size() >= sizeof(int64_t)) {
      std::memcpy(&last_, pending_.data(), sizeof(int64_t));
      pending_.erase(0, sizeof(int64_t));
    }
    return true;
  }
  int fd_;
  std::string pending_;
  int64_t last_ = -1;
};

void verify_collection(Store& store, const std::string& collection, int64_t acked) {
  SCOPED_TRACE(fmt::format("collection {} acknowledged batch {}", collection, acked));
  auto count = store.count(collection);
  ASSERT_TRUE(count) << count.status().to_string();
  std::vector<std::pair<int64_t, int64_t>> docs;  // (open_time, batch) in scan order
  ASSERT_TRUE(store.scan(collection, {}, [&](std::string_view key, std::string_view doc) {
    auto json = nlohmann::json::parse(doc);
    EXPECT_EQ(json.at("_key").get<std::string>(), key);
    docs.emplace_back(json.at("open_time").get<int64_t>(), json.at("batch").get<int64_t>());
    return true;
  }));
  EXPECT_EQ(*count, docs.size());
  // Batches after the last acknowledged one (the one in flight; deferred ones not persisted yet) may or may
  // not be there, but only as a prefix of the batch sequence and never in part: the store holds exactly what
  // batches 0..applied wrote, with applied >= acked.
  ASSERT_GE(docs.size(), static_cast<size_t>(kKeysPerBatch));
  ASSERT_EQ((docs.size() - kKeysPerBatch) % kStride, 0u) << docs.size() << " documents: a batch in part";
  const int64_t applied = static_cast<int64_t>(docs.size() - kKeysPerBatch) / kStride;
  ASSERT_GE(applied, acked) << "acknowledged batches lost";
  for (size_t i = 0; i < docs.size(); ++i) {
    ASSERT_EQ(docs[i].first, open_time(static_cast<int64_t>(i)));
    // Key i is written by batches i/kStride - 1 and i/kStride; the later one within the prefix wins.
    const int64_t last_writer = std::min<int64_t>(applied, static_cast<int64_t>(i) / kStride);
    ASSERT_EQ(docs[i].second, last_writer) << "document " << i << " (batches 0.." << applied << " applied)";
  }
}

void crash_rounds(bool deferred) {
  testing::TempDir dir;
  const unsigned seed = std::random_device()();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937 rng(seed);
  std::vector<std::pair<std::string, int64_t>> rounds;  // collection, last acknowledged batch

  for (int round = 0; round < 3; ++round) {
    const std::string collection = fmt::format("round{}", round);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    // Everything the child needs is prepared before fork(): between fork and exec only exec is called.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back(fmt::format("{}={}", kChildDirEnv, dir.path()));
    env.push_back(fmt::format("{}={}", kChildCollectionEnv, collection));
    env.push_back(fmt::format("{}={}", kChildFdEnv, fds[1]));
    env.push_back(fmt::format("{}={}", kChildDeferredEnv, deferred ? "1" : "0"));
    std::vector<char*> envp;
    for (auto& entry : env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    char exe[] = "/proc/self/exe";
    char* argv[] = {exe, nullptr};

    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      const int devnull =
          open("/dev/null", O_WRONLY);  // keep the child's test-runner banner out of our output
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      execve(exe, argv, envp.data());
      _exit(127);
    }
    close(fds[1]);
    AckReader acks(fds[0]);
    const auto start = std::chrono::steady_clock::now();
    while (acks.last() < 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
      if (!acks.read_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(50))) break;
    }
    if (round == 0 && acks.last() >= 0) {  // while the child holds the store, nobody else can open it
      RocksDbStoreOptions options;
      options.path = dir.path();
      auto second = open_rocksdb_store(options);
      EXPECT_FALSE(second);
      EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable) << second.status().to_string();
    }
    const auto run_for = std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 600)(rng));
    acks.read_until(std::chrono::steady_clock::now() + run_for);
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    acks.read_to_eof();
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child died on its own, status " << status;
    ASSERT_GE(acks.last(), 0) << "the child acknowledged nothing";
    rounds.emplace_back(collection, acks.last());

    RocksDbStoreOptions options;
    options.path = dir.path();
    auto store = open_rocksdb_store(options);
    ASSERT_TRUE(store) << store.status().to_string();
    for (const auto& [name, acked] : rounds) verify_collection(**store, name, acked);
  }
}

TEST(StoreCrashTest, AcknowledgedBatchesSurviveKill9) {
  crash_rounds(/*deferred=*/false);
}

// Deferred upserts (no write-ahead log) with a persist every few batches and some logged batches among them:
// every persisted or logged batch survives, and what else survives is a whole prefix with an exact count.
TEST(StoreCrashTest, PersistedDeferredBatchesSurviveKill9AsAPrefix) {
  crash_rounds(/*deferred=*/true);
}

}  // namespace
}  // namespace sf::store
