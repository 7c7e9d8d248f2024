// The Store contract on the RocksDB backend; every test reopens what it wrote.
#include "store/store.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "store/rocksdb/key_codec.h"
#include "store/tests/test_util.h"

namespace sf::store {
namespace {

using testing::candle_json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    RocksDbStoreOptions options;
    options.path = dir_.path();
    options.block_cache_bytes = 8 << 20;
    options.write_buffer_bytes = 1 << 20;
    options.metrics = metrics_;
    auto result = open_rocksdb_store(options);
    ASSERT_TRUE(result) << result.status().to_string();
    store_ = std::move(result).value();
  }

  void reopen() {
    store_.reset();
    open();
  }

  UpsertResult upsert(std::string_view collection, const std::vector<std::string>& docs,
                      UpsertMode mode = UpsertMode::kUpdate) {
    auto result = store_->upsert(collection, docs, mode);
    EXPECT_TRUE(result) << result.status().to_string();
    return result ? *result : UpsertResult{};
  }

  std::optional<std::string> get(std::string_view collection, std::string_view key) {
    auto result = store_->get(collection, key);
    EXPECT_TRUE(result) << result.status().to_string();
    return result ? *result : std::nullopt;
  }

  nlohmann::json get_json(std::string_view collection, std::string_view key) {
    auto doc = get(collection, key);
    return doc ? nlohmann::json::parse(*doc) : nlohmann::json();
  }

  uint64_t count(std::string_view collection) {
    auto result = store_->count(collection);
    EXPECT_TRUE(result) << result.status().to_string();
    return result ? *result : ~uint64_t{0};
  }

  std::vector<std::string> scan_keys(std::string_view collection, const ScanOptions& options = {}) {
    std::vector<std::string> keys;
    Status s = store_->scan(collection, options, [&](std::string_view key, std::string_view doc) {
      EXPECT_EQ(nlohmann::json::parse(doc).at("_key"), key);
      keys.emplace_back(key);
      return true;
    });
    EXPECT_TRUE(s) << s.to_string();
    return keys;
  }

  TempDir dir_;
  std::shared_ptr<MetricsRegistry> metrics_ = make_metrics_registry();
  std::unique_ptr<Store> store_;
};

std::vector<std::string> candles(int64_t first, int n) {
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) docs.push_back(candle_json(first + i * 300000));
  return docs;
}

TEST_F(StoreTest, UpsertThenGet) {
  auto docs = candles(1722470400000, 3);
  UpsertResult r = upsert("klines", docs);
  EXPECT_EQ(r.inserted, 3u);
  EXPECT_EQ(r.updated + r.unchanged + r.rejected.size(), 0u);
  reopen();
  EXPECT_EQ(get("klines", "1722470400000"), docs[0]);
  EXPECT_EQ(get("klines", "1722471000000"), docs[2]);
  EXPECT_EQ(get("klines", "1722470400001"), std::nullopt);
  EXPECT_EQ(count("klines"), 3u);
}

TEST_F(StoreTest, SameBatchTwiceLeavesOneDocumentEach) {
  auto docs = candles(1722470400000, 100);
  EXPECT_EQ(upsert("klines", docs).inserted, 100u);
  UpsertResult again = upsert("klines", docs);
  EXPECT_EQ(again.inserted, 0u);
  EXPECT_EQ(again.updated, 0u);
  EXPECT_EQ(again.unchanged, 100u);
  EXPECT_EQ(count("klines"), 100u);
  reopen();
  EXPECT_EQ(upsert("klines", docs, UpsertMode::kReplace).unchanged, 100u);
  EXPECT_EQ(count("klines"), 100u);
  EXPECT_EQ(scan_keys("klines").size(), 100u);
}

TEST_F(StoreTest, UpdateMergesLikeArangoDb) {
  upsert("docs", {R"({"_key":"a","x":1,"nested":{"p":1,"q":2},"keep":"yes"})"});
  UpsertResult r = upsert("docs", {R"({"_key":"a","x":2,"nested":{"q":3,"r":4},"new":true,"gone":null})"});
  EXPECT_EQ(r.updated, 1u);
  reopen();
  EXPECT_EQ(get_json("docs", "a"), nlohmann::json::parse(R"({"_key":"a","x":2,"nested":{"p":1,"q":3,"r":4},
                                                             "keep":"yes","new":true,"gone":null})"));
  // A subset that changes nothing is a no-op, even though the bytes differ.
  r = upsert("docs", {R"({"_key":"a", "x":2})"});
  EXPECT_EQ(r.unchanged, 1u);
  // A nested object replaces a scalar, and a scalar replaces a nested object.
  upsert("docs", {R"({"_key":"a","x":{"deep":1},"nested":0})"});
  EXPECT_EQ(
      get_json("docs", "a"),
      nlohmann::json::parse(R"({"_key":"a","x":{"deep":1},"nested":0,"keep":"yes","new":true,"gone":null})"));
  EXPECT_EQ(count("docs"), 1u);
}

TEST_F(StoreTest, ReplaceReplacesTheWholeDocument) {
  upsert("docs", {R"({"_key":"a","x":1,"keep":"yes"})"});
  const std::string replacement = R"({"_key":"a","x":2})";
  UpsertResult r = upsert("docs", {replacement}, UpsertMode::kReplace);
  EXPECT_EQ(r.updated, 1u);
  reopen();
  EXPECT_EQ(get("docs", "a"), replacement);
}

TEST_F(StoreTest, DuplicateKeysInOneBatchApplyInOrder) {
  UpsertResult r =
      upsert("docs", {R"({"_key":"k","v":1})", R"({"_key":"other"})", R"({"_key":"k","v":2,"a":1})",
                      R"({"_key":"k","v":2,"a":1})", R"({"_key":"k","v":3})"});
  EXPECT_EQ(r.inserted, 2u);
  EXPECT_EQ(r.updated, 2u);
  EXPECT_EQ(r.unchanged, 1u);
  r = upsert("rdocs", {R"({"_key":"k","v":1,"a":1})", R"({"_key":"k","v":3})"}, UpsertMode::kReplace);
  EXPECT_EQ(r.inserted, 1u);
  EXPECT_EQ(r.updated, 1u);
  reopen();
  EXPECT_EQ(get_json("docs", "k"), nlohmann::json::parse(R"({"_key":"k","v":3,"a":1})"));
  EXPECT_EQ(get("rdocs", "k"), R"({"_key":"k","v":3})");
  EXPECT_EQ(count("docs"), 2u);
  EXPECT_EQ(count("rdocs"), 1u);
}

TEST_F(StoreTest, NumericKeysScanInNumericOrder) {
  std::vector<std::string> docs;
  for (const char* key : {"100", "9", "1722470400000", "10", "0", "2", "99999999999"}) {
    docs.push_back(fmt::format(R"({{"_key":"{}"}})", key));
  }
  upsert("trades", docs);
  reopen();
  EXPECT_THAT(scan_keys("trades"), ElementsAre("0", "2", "9", "10", "100", "99999999999", "1722470400000"));
}

TEST_F(StoreTest, NumericKeysComeBeforeOtherKeysWhichSortBytewise) {
  std::vector<std::string> docs;
  for (const char* key :
       {"abc", "10", "Abc", "007", "9223372036854775808", "a-1", "9", "1e3", "9223372036854775807"}) {
    docs.push_back(fmt::format(R"({{"_key":"{}"}})", key));
  }
  upsert("mixed", docs);
  reopen();
  EXPECT_THAT(scan_keys("mixed"), ElementsAre("9", "10", "9223372036854775807", "007", "1e3",
                                              "9223372036854775808", "Abc", "a-1", "abc"));
  ScanOptions text_only;
  text_only.from_key = "";
  EXPECT_EQ(scan_keys("mixed", text_only).size(), 6u);
}

TEST_F(StoreTest, ScanBoundsReverseLimitAndEarlyStop) {
  std::vector<std::string> docs;
  for (int i = 1; i <= 100; ++i) docs.push_back(fmt::format(R"({{"_key":"{}","i":{}}})", i, i));
  upsert("series", docs);
  reopen();
  ScanOptions o;
  o.from_key = "10";
  o.to_key = "20";
  auto keys = scan_keys("series", o);
  ASSERT_EQ(keys.size(), 10u);
  EXPECT_EQ(keys.front(), "10");
  EXPECT_EQ(keys.back(), "19");
  o.reverse = true;
  EXPECT_THAT(scan_keys("series", o),
              ElementsAre("19", "18", "17", "16", "15", "14", "13", "12", "11", "10"));
  o.limit = 3;
  EXPECT_THAT(scan_keys("series", o), ElementsAre("19", "18", "17"));
  o.reverse = false;
  EXPECT_THAT(scan_keys("series", o), ElementsAre("10", "11", "12"));

  ScanOptions to_only;
  to_only.to_key = "4";
  to_only.reverse = true;
  EXPECT_THAT(scan_keys("series", to_only), ElementsAre("3", "2", "1"));
  ScanOptions from_only;
  from_only.from_key = "98";
  EXPECT_THAT(scan_keys("series", from_only), ElementsAre("98", "99", "100"));
  from_only.reverse = true;
  from_only.limit = 2;
  EXPECT_THAT(scan_keys("series", from_only), ElementsAre("100", "99"));
  ScanOptions empty;
  empty.from_key = "50";
  empty.to_key = "50";
  EXPECT_TRUE(scan_keys("series", empty).empty());
  ScanOptions past_numbers;
  past_numbers.from_key = "a";
  EXPECT_TRUE(scan_keys("series", past_numbers).empty());

  int visited = 0;
  Status s = store_->scan("series", {}, [&](std::string_view, std::string_view) { return ++visited < 5; });
  EXPECT_TRUE(s);
  EXPECT_EQ(visited, 5);
}

TEST_F(StoreTest, CountIsExactAcrossReopen) {
  for (int batch = 0; batch < 10; ++batch) {  // overlapping batches: 50 new keys each after the first
    upsert("klines", candles(1722470400000 + batch * 50 * 300000LL, 100));
  }
  EXPECT_EQ(count("klines"), 550u);
  std::vector<std::string_view> gone = {"1722470400000", "1722470700000", "1", "1722470400000"};
  auto removed = store_->remove("klines", gone);
  ASSERT_TRUE(removed) << removed.status().to_string();
  EXPECT_EQ(*removed, 2u);
  reopen();
  EXPECT_EQ(count("klines"), 548u);
  EXPECT_EQ(scan_keys("klines").size(), 548u);
  EXPECT_EQ(get("klines", "1722470400000"), std::nullopt);
  auto list = store_->list_collections();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].count, 548u);
}

TEST_F(StoreTest, ListAndDropCollections) {
  ASSERT_TRUE(store_->create_collection("b"));
  ASSERT_TRUE(store_->create_collection("b"));  // idempotent
  upsert("a", candles(1, 2));
  upsert("c", candles(1, 3));
  auto list = store_->list_collections();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "a");
  EXPECT_EQ((*list)[0].count, 2u);
  EXPECT_EQ((*list)[1].name, "b");
  EXPECT_EQ((*list)[1].count, 0u);
  EXPECT_EQ((*list)[2].count, 3u);

  ASSERT_TRUE(store_->drop_collection("c"));
  Status again = store_->drop_collection("c");
  EXPECT_EQ(again.code(), ErrorCode::kNotFound);
  reopen();
  list = store_->list_collections();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].name, "b");
  auto c_count = store_->count("c");
  EXPECT_EQ(c_count.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(c_count.status().message(), HasSubstr("'c'"));

  // A recreated collection starts empty.
  upsert("c", candles(1000, 1));
  EXPECT_EQ(count("c"), 1u);
  reopen();
  EXPECT_EQ(count("c"), 1u);
  EXPECT_EQ(scan_keys("c").size(), 1u);
}

// A crash between creating a collection's column family and registering it leaves an unregistered family;
// opening the store drops it.
TEST_F(StoreTest, UnregisteredColumnFamilyIsDroppedAtOpen) {
  upsert("kept", candles(1, 5));
  store_.reset();
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_.path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), descriptors, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* orphan = nullptr;
    ASSERT_TRUE(raw->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "c:orphan", &orphan).ok());
    handles.push_back(orphan);
    for (auto* handle : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
    delete raw;
  }
  open();
  auto list = store_->list_collections();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "kept");
  EXPECT_EQ((*list)[0].count, 5u);
  reopen();
  std::vector<std::string> names;
  store_.reset();
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_.path(), &names).ok());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("default", "c:kept"));
}

// Format 1 kept each collection's count in the registry; opening such a store moves the counts into the
// collections' column families (format 2) and keeps them exact.
TEST_F(StoreTest, FormatOneStoreIsUpgradedWithItsCounts) {
  upsert("klines", candles(1722470400000, 30));
  upsert("empty", {});
  store_.reset();
  auto raw_open = [&](std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_.path(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.path(), descriptors, &handles, &raw).ok());
    return std::unique_ptr<rocksdb::DB>(raw);
  };
  const std::string count_key(
      "\x00"
      "count",
      6);
  {  // rewrite it as format 1 wrote it
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    auto raw = raw_open(handles);
    std::string count_30(8, '\0');
    count_30[7] = 30;
    for (auto* handle : handles) {
      if (handle->GetName() == "c:klines") {
        ASSERT_TRUE(raw->Delete({}, handle, count_key).ok());
      }
    }
    ASSERT_TRUE(raw->Put({}, "collection/klines", count_30).ok());
    ASSERT_TRUE(raw->Put({}, "format_version", "1").ok());
    for (auto* handle : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
  }
  open();
  EXPECT_EQ(count("klines"), 30u);
  EXPECT_EQ(count("empty"), 0u);
  upsert("klines", candles(1722470400000 + 30 * 300000LL, 5));
  reopen();
  EXPECT_EQ(count("klines"), 35u);
  EXPECT_EQ(scan_keys("klines").size(), 35u);
  store_.reset();
  {
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    auto raw = raw_open(handles);
    std::string version;
    ASSERT_TRUE(raw->Get({}, "format_version", &version).ok());
    EXPECT_EQ(version, "2");
    for (auto* handle : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
  }
  open();
}

// Deferred upserts read back at once like logged ones; persist() makes them durable (and across a reopen).
TEST_F(StoreTest, DeferredUpsertsAndPersist) {
  const auto docs = candles(1722470400000, 40);
  std::vector<std::string_view> views(docs.begin(), docs.end());
  auto written = store_->upsert("klines", views, UpsertOptions{.durability = Durability::kDeferred});
  ASSERT_TRUE(written) << written.status().to_string();
  EXPECT_EQ(written->inserted, 40u);
  EXPECT_EQ(count("klines"), 40u);
  EXPECT_EQ(get("klines", "1722470400000"), docs[0]);
  ASSERT_TRUE(store_->persist("klines"));
  ASSERT_TRUE(store_->persist("klines"));  // nothing left to persist
  // A logged write after deferred ones, and a removal, keep the count exact.
  upsert("klines", candles(1722470400000 + 40 * 300000LL, 2));
  std::vector<std::string_view> gone = {"1722470400000"};
  ASSERT_TRUE(store_->remove("klines", gone));
  reopen();
  EXPECT_EQ(count("klines"), 41u);
  EXPECT_EQ(scan_keys("klines").size(), 41u);
  EXPECT_EQ(store_->persist("nope").code(), ErrorCode::kNotFound);
}

TEST_F(StoreTest, BadDocumentsAreRejectedAndTheRestIsStored) {
  const std::vector<std::string> docs = {
      candle_json(1000),
      R"({"_key":"1","open":)",                                  // 1: invalid JSON
      R"([1,2,3])",                                              // 2: an array
      R"({"open_time":1})",                                      // 3: no _key
      R"({"_key":123})",                                         // 4: numeric _key
      R"({"_key":"a/b"})",                                       // 5: illegal character
      fmt::format(R"({{"_key":"{}"}})", std::string(255, 'x')),  // 6: too long
      R"({"_key":""})",                                          // 7: empty
      candle_json(2000),
      R"("just a string")",      // 9: a string
      "{\"_key\":\"bad\xff\"}",  // 10: invalid UTF-8
  };
  UpsertResult r = upsert("klines", docs);
  EXPECT_EQ(r.inserted, 2u);
  ASSERT_EQ(r.rejected.size(), 9u);
  std::map<size_t, DocumentError> by_index;
  for (const auto& e : r.rejected) by_index[e.index] = e;
  EXPECT_THAT(by_index[1].message, HasSubstr("invalid JSON"));
  EXPECT_THAT(by_index[2].message, HasSubstr("must be a JSON object, got array"));
  EXPECT_THAT(by_index[3].message, HasSubstr("missing `_key`"));
  EXPECT_THAT(by_index[4].message, HasSubstr("`_key` must be a string, got number"));
  EXPECT_THAT(by_index[5].message, HasSubstr("'/' at position 1"));
  EXPECT_EQ(by_index[5].key, "a/b");
  EXPECT_THAT(by_index[6].message, HasSubstr("too long"));
  EXPECT_THAT(by_index[7].message, HasSubstr("empty `_key`"));
  EXPECT_THAT(by_index[9].message, HasSubstr("got string"));
  EXPECT_THAT(by_index[10].message, HasSubstr("invalid JSON"));
  for (const auto& e : r.rejected) EXPECT_THAT(e.message, HasSubstr(fmt::format("document {}:", e.index)));
  reopen();
  EXPECT_EQ(count("klines"), 2u);
  EXPECT_EQ(get("klines", "1000"), docs[0]);
  EXPECT_EQ(get("klines", "2000"), docs[8]);
}

TEST_F(StoreTest, InvalidCollectionNamesAreRefused) {
  for (std::string name : {std::string(), std::string("1abc"), std::string("_system"), std::string("a b"),
                           std::string("a/b"), std::string("é"), std::string(257, 'a')}) {
    Status s = store_->create_collection(name);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_THAT(s.message(), HasSubstr("starting with a letter")) << name;
    EXPECT_EQ(store_->upsert(name, candles(1, 1)).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->count(name).status().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(store_->create_collection(std::string(256, 'a')));
  EXPECT_TRUE(store_->create_collection("btcusdt_api_candles_5m_2024_08_01"));
  EXPECT_TRUE(store_->create_collection("Edges-2"));
  reopen();
  EXPECT_EQ(store_->list_collections()->size(), 3u);
}

TEST_F(StoreTest, UnknownCollectionIsNotFound) {
  auto g = store_->get("missing", "1");
  EXPECT_EQ(g.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(g.status().message(), HasSubstr("collection 'missing' does not exist"));
  EXPECT_EQ(store_->scan("missing", {}, [](auto, auto) { return true; }).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->count("missing").status().code(), ErrorCode::kNotFound);
  std::vector<std::string_view> keys = {"1"};
  EXPECT_EQ(store_->remove("missing", keys).status().code(), ErrorCode::kNotFound);
  upsert("present", candles(1, 1));
  EXPECT_EQ(store_->get("present", "a/b").status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(StoreTest, SecondOpenOfTheSamePathFailsClearly) {
  RocksDbStoreOptions options;
  options.path = dir_.path();
  auto second = open_rocksdb_store(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(dir_.path()));
  EXPECT_THAT(second.status().message(), HasSubstr("already in use"));
}

TEST_F(StoreTest, FlushThenReopen) {
  upsert("klines", candles(1722470400000, 500));
  ASSERT_TRUE(store_->flush());
  upsert("klines", candles(1722470400000 + 500 * 300000LL, 10));
  reopen();
  EXPECT_EQ(count("klines"), 510u);
  EXPECT_EQ(scan_keys("klines").size(), 510u);
}

TEST_F(StoreTest, MetricsCountWrittenAndRejected) {
  upsert("klines", {candle_json(1), candle_json(2), "not json"});
  upsert("klines", {candle_json(1)});
  std::string text = render_metrics(*metrics_);
  EXPECT_THAT(text, HasSubstr(R"(streamforge_store_documents_written_total{collection="klines"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(streamforge_store_documents_rejected_total{collection="klines"} 1)"));
  EXPECT_THAT(text, HasSubstr("streamforge_store_upsert_seconds_count 2"));
}

// Random upserts (fresh, overlapping, duplicated, out of order) and removes against a model.
TEST_F(StoreTest, MatchesAModelUnderRandomOperations) {
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> model;  // encoded key -> document
  for (int round = 0; round < 60; ++round) {
    std::vector<std::string> docs;
    const int n = 1 + static_cast<int>(rng() % 200);
    const int64_t base = static_cast<int64_t>(rng() % 5000);
    const int64_t spread = round % 3 == 0 ? 5400 : 400;  // sparse batches skip over long runs of stored keys
    for (int i = 0; i < n; ++i) {
      std::string key =
          rng() % 10 == 0 ? fmt::format("t{}", rng() % 300) : std::to_string((base + rng() % spread) % 5400);
      docs.push_back(fmt::format(R"({{"_key":"{}","v":{}}})", key, rng() % 3));
    }
    if (round % 2 == 0) std::sort(docs.begin(), docs.end());
    UpsertResult r = upsert("model", docs, UpsertMode::kReplace);
    ASSERT_TRUE(r.rejected.empty());
    size_t inserted = 0;
    for (const auto& doc : docs) {
      std::string key = nlohmann::json::parse(doc).at("_key");
      inserted += model.insert_or_assign(rocksdb_backend::encode_key(key), doc).second ? 1 : 0;
    }
    EXPECT_EQ(r.inserted, inserted);
    if (round % 5 == 4) {
      std::vector<std::string> keys;
      for (int i = 0; i < 50; ++i) keys.push_back(std::to_string(rng() % 5400));
      std::vector<std::string_view> views(keys.begin(), keys.end());
      auto removed = store_->remove("model", views);
      ASSERT_TRUE(removed);
      size_t expected = 0;
      for (const auto& key : keys) expected += model.erase(rocksdb_backend::encode_key(key));
      EXPECT_EQ(*removed, expected);
    }
    if (round % 20 == 19) reopen();
  }
  EXPECT_EQ(count("model"), model.size());
  std::vector<std::string> expected;
  for (const auto& [encoded, doc] : model) expected.push_back(doc);
  std::vector<std::string> actual;
  ASSERT_TRUE(store_->scan("model", {}, [&](std::string_view, std::string_view doc) {
    actual.emplace_back(doc);
    return true;
  }));
  EXPECT_EQ(actual, expected);
}

TEST_F(StoreTest, ConcurrentUpsertsKeepTheCountExact) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int batch = 0; batch < 20; ++batch) {
        // Threads 0-2 overlap on one collection; thread 3 writes its own.
        auto docs = candles((t % 3) * 1000 * 300000LL + batch * 50 * 300000LL, 100);
        auto r = store_->upsert(t == 3 ? "own" : "shared", docs, UpsertMode::kUpdate);
        EXPECT_TRUE(r) << r.status().to_string();
        if (batch % 5 == 0) (void)store_->list_collections();
        int n = 0;
        (void)store_->scan("shared", {}, [&](auto, auto) { return ++n < 10; });  // may not exist yet
      }
    });
  }
  for (auto& thread : threads) thread.join();
  reopen();
  EXPECT_EQ(count("shared"), scan_keys("shared").size());
  EXPECT_EQ(count("shared"), 3050u);  // thread t writes candles t*1000 .. t*1000+1049
  EXPECT_EQ(count("own"), 1050u);
}

}  // namespace
}  // namespace sf::store
