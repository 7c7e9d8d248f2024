#include "services/connector/topic_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protocol/records.h"

namespace sf::services {
namespace {

namespace fs = std::filesystem;

// Forwards to a real store and checks the sink's durability protocol at every upsert: the group's committed
// offsets never cover more records than were upserted before the last persist() (deferred upserts are only
// durable after it).
class DurabilityCheckingStore final : public store::Store {
 public:
  DurabilityCheckingStore(store::Store& inner, bus::Bus& bus) : inner_(inner), bus_(bus) {}

  Status create_collection(std::string_view name) override { return inner_.create_collection(name); }
  Status drop_collection(std::string_view name) override { return inner_.drop_collection(name); }
  Result<std::vector<store::CollectionInfo>> list_collections() override { return inner_.list_collections(); }
  using store::Store::upsert;
  Result<store::UpsertResult> upsert(std::string_view collection, std::span<const std::string_view> documents,
                                     const store::UpsertOptions& options) override {
    durabilities.push_back(options.durability);
    const int64_t committed = committed_records();
    const int64_t durable = options.durability == store::Durability::kDeferred ? persisted_ : upserted_;
    EXPECT_LE(committed, durable) << "offsets committed past what the store made durable";
    upserted_ += static_cast<int64_t>(documents.size());
    return inner_.upsert(collection, documents, options);
  }
  Result<size_t> remove(std::string_view collection, std::span<const std::string_view> keys) override {
    return inner_.remove(collection, keys);
  }
  Result<std::optional<std::string>> get(std::string_view collection, std::string_view key) override {
    return inner_.get(collection, key);
  }
  Status scan(std::string_view collection, const store::ScanOptions& options,
              const store::ScanVisitor& visit) override {
    return inner_.scan(collection, options, visit);
  }
  Result<uint64_t> count(std::string_view collection) override { return inner_.count(collection); }
  Status persist(std::string_view collection) override {
    ++persists;
    Status s = inner_.persist(collection);
    if (s) persisted_ = upserted_;
    return s;
  }
  Status flush() override { return inner_.flush(); }

  int64_t committed_records() {
    int64_t n = 0;
    for (int32_t p = 0; p < 3; ++p) {
      auto committed = bus_.committed_offset("sink", "data", p);
      if (committed && committed->has_value()) n += **committed;
    }
    return n;
  }

  std::vector<store::Durability> durabilities;
  int persists = 0;

 private:
  store::Store& inner_;
  bus::Bus& bus_;
  int64_t upserted_ = 0;   // records handed to upsert()
  int64_t persisted_ = 0;  // of which upserted before the last successful persist()
};

class TopicSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sf-sink-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir_);
  }
  void open() {
    bus::EmbeddedBusOptions bus_options;
    bus_options.dir = dir_ / "bus";
    bus_ = value_or_throw(bus::open_embedded_bus(bus_options));
    store::RocksDbStoreOptions store_options;
    store_options.path = (dir_ / "store").string();
    store_ = value_or_throw(store::open_rocksdb_store(store_options));
  }
  void close() {
    bus_.reset();
    store_.reset();
  }

  // Produces candles [first, first + n) as documents; every `bad_every`-th one is corrupted.
  std::map<int32_t, int64_t> produce(int first, int n, int bad_every = 0) {
    std::vector<std::string> keys, values;
    for (int i = first; i < first + n; ++i) {
      protocol::Kline k;
      k.open_time = 1722470400000 + int64_t{i} * 60000;
      k.close_time = k.open_time + 59999;
      k.symbol = "BTCUSDT";
      k.interval = "1m";
      k.open = protocol::Decimal::parse(std::to_string(60000 + i) + ".10").value();
      std::string doc;
      protocol::append_document(k, doc);
      if (bad_every && i % bad_every == 0) doc = "{\"_key\": 12, \"broken\": ";
      keys.push_back(protocol::record_key(k));
      values.push_back(std::move(doc));
    }
    std::vector<bus::OutgoingRecord> records(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      records[i].key = keys[i];
      records[i].value = values[i];
    }
    EXPECT_TRUE(bus_->ensure_topic("data", bus::TopicConfig{.partitions = 3}));
    auto produced = bus_->produce("data", records);
    EXPECT_TRUE(produced) << produced.status().to_string();
    return end_offsets();
  }

  std::map<int32_t, int64_t> end_offsets() {
    std::map<int32_t, int64_t> ends;
    auto info = value_or_throw(bus_->describe_topic("data"));
    for (const auto& p : info.partitions) ends[p.partition] = p.log_end_offset;
    return ends;
  }

  TopicSinkOptions options() { return {.topic = "data", .group = "sink", .collection = "candles"}; }

  fs::path dir_;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(TopicSinkTest, DrainsEveryRecordAndDeadLettersBadOnes) {
  auto ends = produce(0, 5000, /*bad_every=*/500);
  TopicSink sink(*bus_, *store_, options());
  sink.drain_to(ends);
  ASSERT_TRUE(sink.run());
  EXPECT_EQ(sink.stats().consumed, 5000u);
  EXPECT_EQ(sink.stats().rejected, 10u);
  EXPECT_EQ(sink.stats().inserted, 4990u);
  EXPECT_EQ(value_or_throw(store_->count("candles")), 4990u);

  // The dead-letter topic holds the bad records with the reason.
  auto dlq = value_or_throw(bus_->describe_topic("data-dlq"));
  ASSERT_EQ(dlq.partitions.size(), 1u);
  EXPECT_EQ(dlq.partitions[0].log_end_offset, 10);
  bus::FetchBatch batch;
  ASSERT_TRUE(bus_->fetch("data-dlq", 0, 0, {}, batch));
  ASSERT_EQ(batch.size(), 10u);
  bool has_error = false;
  for (const auto& h : batch[0].headers) {
    if (h.key == "error") has_error = !h.value.empty();
  }
  EXPECT_TRUE(has_error);
  EXPECT_EQ(batch[0].value.substr(0, 8), "{\"_key\":");

  // The group committed everything: a new sink of the same group finds nothing to do.
  TopicSink again(*bus_, *store_, options());
  again.drain_to(ends);
  ASSERT_TRUE(again.run());
  EXPECT_EQ(again.stats().consumed, 0u);
}

TEST_F(TopicSinkTest, ResumesAfterStopWithNothingMissingOrDoubled) {
  produce(0, 20000);
  {
    TopicSink first(*bus_, *store_, options());
    std::thread runner([&] { EXPECT_TRUE(first.run()); });
    while (first.stats().batches < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    first.stop();
    runner.join();
    EXPECT_LT(first.stats().consumed, 20000u + 1);
  }
  // Restart the process's view of the world: reopen bus and store.
  close();
  open();
  auto ends = produce(20000, 1000);
  TopicSink second(*bus_, *store_, options());
  second.drain_to(ends);
  ASSERT_TRUE(second.run());
  EXPECT_EQ(value_or_throw(store_->count("candles")), 21000u);
  // Every key once, in time order.
  int64_t expected = 1722470400000;
  uint64_t seen = 0;
  ASSERT_TRUE(store_->scan("candles", {}, [&](std::string_view key, std::string_view) {
    EXPECT_EQ(key, std::to_string(expected));
    expected += 60000;
    ++seen;
    return true;
  }));
  EXPECT_EQ(seen, 21000u);
}

TEST_F(TopicSinkTest, DeferredUpsertsAreCommittedOnlyOncePersisted) {
  DurabilityCheckingStore checking(*store_, *bus_);
  auto ends = produce(0, 6000);
  TopicSinkOptions o = options();
  o.commit_records = 1500;  // several persist + commit rounds within the run
  o.commit_interval = std::chrono::hours(1);
  TopicSink sink(*bus_, checking, o);
  std::thread producer([&] {
    for (int i = 1; i < 4; ++i) {
      produce(i * 6000, 6000);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    sink.drain_to(end_offsets());
  });
  Status run = sink.run();
  producer.join();
  ASSERT_TRUE(run) << run.to_string();
  EXPECT_EQ(value_or_throw(store_->count("candles")), 24000u);
  EXPECT_EQ(checking.committed_records(), 24000);
  for (auto d : checking.durabilities) EXPECT_EQ(d, store::Durability::kDeferred);
  EXPECT_GE(checking.persists, 1);
  EXPECT_EQ(static_cast<uint64_t>(checking.persists), sink.stats().commits.load());
  (void)ends;
}

TEST_F(TopicSinkTest, LoggedUpsertsAreCommittedEveryBatchWithoutPersist) {
  DurabilityCheckingStore checking(*store_, *bus_);
  auto ends = produce(0, 5000);
  TopicSinkOptions o = options();
  o.durability = store::Durability::kLogged;
  TopicSink sink(*bus_, checking, o);
  sink.drain_to(ends);
  ASSERT_TRUE(sink.run());
  EXPECT_EQ(value_or_throw(store_->count("candles")), 5000u);
  EXPECT_EQ(checking.committed_records(), 5000);
  for (auto d : checking.durabilities) EXPECT_EQ(d, store::Durability::kLogged);
  EXPECT_EQ(checking.persists, 0);
  EXPECT_EQ(sink.stats().commits.load(), sink.stats().batches.load());
}

TEST_F(TopicSinkTest, StopMakesWhatWasUpsertedDurableAndCommitted) {
  DurabilityCheckingStore checking(*store_, *bus_);
  produce(0, 20000);
  TopicSinkOptions o = options();
  o.commit_interval = std::chrono::hours(1);  // nothing but stop() triggers the commit
  TopicSink sink(*bus_, checking, o);
  std::thread runner([&] { EXPECT_TRUE(sink.run()); });
  while (sink.stats().batches < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  sink.stop();
  runner.join();
  EXPECT_EQ(checking.persists, 1);
  EXPECT_EQ(checking.committed_records(), static_cast<int64_t>(sink.stats().consumed.load()));
}

TEST_F(TopicSinkTest, ReplayOfTheSameDataChangesNothing) {
  auto ends = produce(0, 3000);
  TopicSink sink(*bus_, *store_, options());
  sink.drain_to(ends);
  ASSERT_TRUE(sink.run());
  ends = produce(0, 3000);  // the loader ran twice
  TopicSink replay(*bus_, *store_, options());
  replay.drain_to(ends);
  ASSERT_TRUE(replay.run());
  EXPECT_EQ(replay.stats().consumed, 3000u);
  EXPECT_EQ(replay.stats().unchanged, 3000u);
  EXPECT_EQ(value_or_throw(store_->count("candles")), 3000u);
}

}  // namespace
}  // namespace sf::services
