// The embedded Store backend on RocksDB: one column family per collection, the default column family holds
// the collection registry. Each collection's exact document count lives in its own column family under a
// reserved key, written in the same WriteBatch as the documents: a column family is flushed at a batch
// boundary, so the count stays exact across crashes both for logged writes (write-ahead log) and for deferred
// ones (no log; durable once their column family is flushed), without flushing column families together.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "store/rocksdb/document_merge.h"
#include "store/rocksdb/key_codec.h"
#include "store/store.h"

namespace sf::store {

namespace {

using rocksdb_backend::append_encoded_key;
using rocksdb_backend::decode_key;
using rocksdb_backend::encode_key;

// Column family of collection X is "c:X"; the default column family is the metadata.
constexpr std::string_view kCollectionCfPrefix = "c:";
// Metadata keys: "collection/<name>" -> 8 bytes (presence = registered; format 1 kept the document count
// there); "format_version" -> kFormatVersion.
constexpr std::string_view kRegistryPrefix = "collection/";
constexpr std::string_view kFormatVersionKey = "format_version";
constexpr std::string_view kFormatVersion = "2";
constexpr std::string_view kFormatVersionCountInRegistry = "1";  // opened and upgraded in place
// In each collection's column family: the 8-byte big-endian document count. Encoded document keys start
// with a tag byte >= 0x01 (key_codec.h), so this key sorts before every document and scans start past it.
constexpr std::string_view kCountKey{
    "\x00"
    "count",
    6};
constexpr std::string_view kFirstDocumentKey{"\x01", 1};

rocksdb::Slice to_slice(std::string_view s) {
  return {s.data(), s.size()};
}
std::string_view to_view(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

std::string registry_key(std::string_view collection) {
  std::string key(kRegistryPrefix);
  key.append(collection);
  return key;
}

std::string encode_count(uint64_t count) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((count >> (56 - 8 * i)) & 0xff);
  return out;
}

std::optional<uint64_t> decode_count(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  std::string message = fmt::format("{}: {}", what, s.ToString());
  if (s.IsNotFound()) return Status::not_found(std::move(message));
  if (s.IsCorruption()) return Status::corruption(std::move(message));
  if (s.IsInvalidArgument()) return Status::invalid_argument(std::move(message));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Status::unavailable(std::move(message));
  if (s.IsIOError()) return Status::io_error(std::move(message));
  return Status::internal(std::move(message));
}

Status unknown_collection(std::string_view name) {
  return Status::not_found(fmt::format("collection '{}' does not exist", name));
}

std::string_view json_type_name(simdjson::dom::element_type type) {
  using T = simdjson::dom::element_type;
  switch (type) {
    case T::ARRAY:
      return "array";
    case T::OBJECT:
      return "object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "number";
    case T::STRING:
      return "string";
    case T::BOOL:
      return "boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

rocksdb::CompressionType pick_compression(const std::vector<rocksdb::CompressionType>& supported,
                                          std::initializer_list<rocksdb::CompressionType> preferred) {
  for (auto type : preferred) {
    if (std::find(supported.begin(), supported.end(), type) != supported.end()) return type;
  }
  return rocksdb::kNoCompression;
}

// Tuned for write-heavy time-series collections: large memtables (fewer, bigger flushes), whole-key bloom
// filters in tables so lookups of absent keys are cheap, filters and indexes cached (pinned for L0). One
// compression (LZ4) on every level on purpose: time series arrive in key order, so flushed files do not
// overlap and compaction can move them down without rewriting, which RocksDB only does when the input and
// output levels use the same compression. A ZSTD bottommost level would rewrite (and recompress) every byte
// once more, which measured as ~20% of the CPU of a bulk load on 2 cores.
rocksdb::ColumnFamilyOptions collection_cf_options(const RocksDbStoreOptions& options,
                                                   const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  cf.max_write_buffer_number = 4;
  cf.level_compaction_dynamic_level_bytes = true;
  cf.target_file_size_base = 64ull << 20;
  cf.max_bytes_for_level_base = 256ull << 20;
  // No memtable bloom filter: setting its bits missed the cache on every insert (~9% of an upsert's CPU),
  // and it only speeds up point gets of absent keys; upserts probe keys with an iterator, which ignores it.
  // Keys of a collection mostly arrive in ascending order (open times, trade ids): the memtable remembers
  // where the last insert of each key kind (the encoded key's tag byte: numeric or text) went and starts the
  // next one there instead of searching the skip list from its head.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  auto supported = rocksdb::GetSupportedCompressions();
  cf.compression = pick_compression(supported, {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression});

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.block_size = 16 << 10;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  table.optimize_filters_for_memory = true;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  table.checksum = rocksdb::kXXH3;  // cheaper than CRC32C where RocksDB is built without SSE4.2
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

rocksdb::ColumnFamilyOptions metadata_cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 4 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

rocksdb::DBOptions db_options(const RocksDbStoreOptions& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.max_background_jobs = options.background_jobs;
  // The cap over all memtables, mutable and waiting to be flushed: past 7/8 of it the largest memtable is
  // flushed, and with allow_stall writers wait when flushes fall behind instead of memory growing. Deferred
  // writes (no write-ahead log) are not bounded by max_total_wal_size below, which kept logged writers'
  // memtables near 2 x write_buffer_bytes; ten bulk connectors writing deferred reached 1.7 GB of RSS without
  // this cap.
  db.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
      std::min<size_t>(options.total_write_buffer_bytes, 4 * options.write_buffer_bytes), nullptr,
      /*allow_stall=*/true);
  // Every batch also writes its collection's count to the metadata column family, whose memtable then holds
  // on to every log file; so do the memtables of collections no longer written. Past this total RocksDB
  // flushes them so old log files go and recovery after a crash has at most this much log to replay.
  db.max_total_wal_size = 2 * options.write_buffer_bytes;
  db.bytes_per_sync = 1 << 20;
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db.keep_log_file_num = 4;
  db.max_log_file_size = 16 << 20;
  return db;
}

// Prometheus families shared by all collections; null members when no registry was given.
struct StoreMetrics {
  prometheus::Family<prometheus::Counter>* written = nullptr;
  prometheus::Family<prometheus::Counter>* rejected = nullptr;
  prometheus::Histogram* upsert_seconds = nullptr;
};

StoreMetrics register_metrics(MetricsRegistry* registry) {
  StoreMetrics m;
  if (registry == nullptr) return m;
  m.written = &prometheus::BuildCounter()
                   .Name("streamforge_store_documents_written_total")
                   .Help("Documents inserted or changed by upserts, per collection")
                   .Register(*registry);
  m.rejected = &prometheus::BuildCounter()
                    .Name("streamforge_store_documents_rejected_total")
                    .Help("Documents rejected by upserts as invalid, per collection")
                    .Register(*registry);
  m.upsert_seconds = &prometheus::BuildHistogram()
                          .Name("streamforge_store_upsert_seconds")
                          .Help("Duration of one batch upsert")
                          .Register(*registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.0003, 0.001, 0.003, 0.01,
                                                                           0.03, 0.1, 0.3, 1, 3});
  return m;
}

// One open collection. Shared by the registry and by running calls, so a concurrent drop never frees a
// column family handle under a reader (RocksDB keeps a dropped family readable until its handle is gone).
struct Collection {
  Collection(rocksdb::DB* db, std::string name, rocksdb::ColumnFamilyHandle* cf, uint64_t count,
             const StoreMetrics& metrics)
      : db(db), name(std::move(name)), cf(cf), count(count) {
    if (metrics.written != nullptr) written = &metrics.written->Add({{"collection", this->name}});
    if (metrics.rejected != nullptr) rejected = &metrics.rejected->Add({{"collection", this->name}});
  }
  ~Collection() { db->DestroyColumnFamilyHandle(cf); }
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  rocksdb::DB* const db;
  const std::string name;
  const std::string registry_key = store::registry_key(name);
  rocksdb::ColumnFamilyHandle* const cf;
  std::mutex write_mu;          // serialises upsert/remove (read-modify-write), persist and drop
  bool dropped = false;         // guarded by write_mu
  bool unpersisted = false;     // deferred writes since the last persist; guarded by write_mu
  std::atomic<uint64_t> count;  // committed document count; written under write_mu
  prometheus::Counter* written = nullptr;
  prometheus::Counter* rejected = nullptr;
};

// Per-thread scratch buffers of the upsert path, reused across calls to avoid allocations.
struct UpsertScratch {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> padded;  // a document copied with simdjson's required padding
  size_t padded_capacity = 0;

  struct Entry {
    uint32_t index;       // in the batch
    uint32_t key_offset;  // of the encoded key in `keys`
    uint32_t key_size;
  };
  std::string keys;  // encoded keys, concatenated
  std::vector<Entry> entries;
  std::vector<uint32_t> order;  // entries sorted by (encoded key, batch index)

  // Stored documents of the batch's distinct keys: (offset, size) in `stored_bytes`, or kAbsent.
  static constexpr std::pair<size_t, size_t> kAbsent{~size_t{0}, 0};
  std::string stored_bytes;
  std::vector<std::pair<size_t, size_t>> stored_at;

  std::string_view key_of(const Entry& e) const { return {keys.data() + e.key_offset, e.key_size}; }

  const char* pad(std::string_view doc) {
    if (padded_capacity < doc.size() + simdjson::SIMDJSON_PADDING) {
      padded_capacity = std::max(doc.size() + simdjson::SIMDJSON_PADDING, size_t{4096});
      padded = std::make_unique<char[]>(padded_capacity);
    }
    std::memcpy(padded.get(), doc.data(), doc.size());
    return padded.get();
  }
};

class RocksDbStore final : public Store {
 public:
  RocksDbStore(RocksDbStoreOptions options, rocksdb::DB* db, rocksdb::ColumnFamilyOptions cf_options,
               StoreMetrics metrics)
      : options_(std::move(options)), db_(db), cf_options_(std::move(cf_options)), metrics_(metrics) {
    write_options_.sync = options_.sync_writes;
    // Puts of a batch are in key order: when writers are grouped, each batch inserts next to its last key.
    write_options_.memtable_insert_hint_per_batch = true;
    deferred_write_options_ = write_options_;
    deferred_write_options_.sync = false;
    deferred_write_options_.disableWAL = true;
  }

  ~RocksDbStore() override {
    collections_.clear();  // destroys the column family handles while the DB is open
    rocksdb::Status s = db_->Close();
    if (!s.ok()) spdlog::warn("store: closing {}: {}", options_.path, s.ToString());
  }

  // Registers the collections found at open. Called before the store is shared.
  void adopt(std::string name, rocksdb::ColumnFamilyHandle* cf, uint64_t count) {
    auto collection = std::make_shared<Collection>(db_.get(), name, cf, count, metrics_);
    collections_.emplace(std::move(name), std::move(collection));
  }

  Status create_collection(std::string_view name) override {
    SF_RETURN_IF_ERROR(validate_collection_name(name));
    auto result = find_or_create(name);
    return result.status();
  }

  Status drop_collection(std::string_view name) override {
    SF_RETURN_IF_ERROR(validate_collection_name(name));
    std::unique_lock registry_lock(mu_);
    auto it = collections_.find(name);
    if (it == collections_.end()) return unknown_collection(name);
    std::shared_ptr<Collection> collection = it->second;
    std::lock_guard write_lock(collection->write_mu);  // waits for a running upsert of this collection
    // Unregister first: a crash between the two steps leaves an unregistered family, dropped at open.
    rocksdb::WriteOptions sync_write;
    sync_write.sync = true;
    rocksdb::Status s = db_->Delete(sync_write, db_->DefaultColumnFamily(), collection->registry_key);
    if (!s.ok()) return from_rocks(s, fmt::format("dropping collection '{}'", name));
    collection->dropped = true;
    collections_.erase(it);
    s = db_->DropColumnFamily(collection->cf);
    if (!s.ok()) return from_rocks(s, fmt::format("dropping collection '{}'", name));
    return Status::ok();
  }

  Result<std::vector<CollectionInfo>> list_collections() override {
    std::shared_lock lock(mu_);
    std::vector<CollectionInfo> out;
    out.reserve(collections_.size());
    for (const auto& [name, collection] : collections_) out.push_back({name, collection->count.load()});
    return out;
  }

  using Store::upsert;
  Result<UpsertResult> upsert(std::string_view collection_name, std::span<const std::string_view> documents,
                              const UpsertOptions& options) override;

  Status persist(std::string_view collection_name) override {
    auto found = find(collection_name);
    if (!found) return found.status();
    std::shared_ptr<Collection> collection = std::move(found).value();
    std::lock_guard write_lock(collection->write_mu);
    if (collection->dropped) return unknown_collection(collection_name);
    return persist_locked(*collection);
  }

  Result<size_t> remove(std::string_view collection_name, std::span<const std::string_view> keys) override;

  Result<std::optional<std::string>> get(std::string_view collection_name, std::string_view key) override {
    auto collection = find(collection_name);
    if (!collection) return collection.status();
    SF_RETURN_IF_ERROR(validate_document_key(key));
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), (*collection)->cf, encode_key(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return from_rocks(s, fmt::format("reading '{}' from collection '{}'", key, collection_name));
    return std::optional<std::string>(value.ToString());
  }

  Status scan(std::string_view collection_name, const ScanOptions& options,
              const ScanVisitor& visit) override;

  Result<uint64_t> count(std::string_view collection_name) override {
    auto collection = find(collection_name);
    if (!collection) return collection.status();
    return (*collection)->count.load();
  }

  Status flush() override {
    std::vector<std::shared_ptr<Collection>> collections;
    {
      std::shared_lock lock(mu_);
      for (const auto& [name, collection] : collections_) collections.push_back(collection);
    }
    rocksdb::Status s = db_->FlushWAL(/*sync=*/true);
    if (!s.ok()) return from_rocks(s, "syncing the write-ahead log");
    std::vector<rocksdb::ColumnFamilyHandle*> handles{db_->DefaultColumnFamily()};
    for (const auto& collection : collections) handles.push_back(collection->cf);
    s = db_->Flush(rocksdb::FlushOptions(), handles);
    if (!s.ok()) return from_rocks(s, "flushing memtables");
    return Status::ok();
  }

 private:
  // Makes the collection's deferred writes durable: flushes its memtables to table files (RocksDB syncs
  // them and the manifest before Flush returns). Called with write_mu held, so no write slips in between.
  Status persist_locked(Collection& collection) {
    if (!collection.unpersisted) return Status::ok();
    rocksdb::FlushOptions flush;
    flush.wait = true;
    flush.allow_write_stall = true;  // the barrier must not wait for unrelated stalls to clear first
    rocksdb::Status s = db_->Flush(flush, collection.cf);
    if (!s.ok()) return from_rocks(s, fmt::format("persisting collection '{}'", collection.name));
    collection.unpersisted = false;
    return Status::ok();
  }

  Result<std::shared_ptr<Collection>> find(std::string_view name) {
    {
      std::shared_lock lock(mu_);
      auto it = collections_.find(name);
      if (it != collections_.end()) return it->second;
    }
    SF_RETURN_IF_ERROR(validate_collection_name(name));
    return unknown_collection(name);
  }

  Result<std::shared_ptr<Collection>> find_or_create(std::string_view name) {
    {
      std::shared_lock lock(mu_);
      auto it = collections_.find(name);
      if (it != collections_.end()) return it->second;
    }
    SF_RETURN_IF_ERROR(validate_collection_name(name));
    std::unique_lock lock(mu_);
    auto it = collections_.find(name);
    if (it != collections_.end()) return it->second;
    std::string cf_name(kCollectionCfPrefix);
    cf_name.append(name);
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    rocksdb::Status s = db_->CreateColumnFamily(cf_options_, cf_name, &cf);
    if (!s.ok()) return from_rocks(s, fmt::format("creating collection '{}'", name));
    // Register after the family exists: a crash in between leaves an unregistered family, dropped at open.
    rocksdb::WriteOptions sync_write;
    sync_write.sync = true;
    s = db_->Put(sync_write, db_->DefaultColumnFamily(), registry_key(name), encode_count(0));
    if (!s.ok()) {
      (void)db_->DropColumnFamily(cf);
      (void)db_->DestroyColumnFamilyHandle(cf);
      return from_rocks(s, fmt::format("registering collection '{}'", name));
    }
    auto collection = std::make_shared<Collection>(db_.get(), std::string(name), cf, 0, metrics_);
    collections_.emplace(std::string(name), collection);
    return collection;
  }

  const RocksDbStoreOptions options_;
  const std::unique_ptr<rocksdb::DB> db_;
  const rocksdb::ColumnFamilyOptions cf_options_;
  const StoreMetrics metrics_;
  rocksdb::WriteOptions write_options_;
  rocksdb::WriteOptions deferred_write_options_;  // Durability::kDeferred: no write-ahead log
  std::shared_mutex mu_;  // guards collections_; held exclusively to create or drop
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections_;
};

// The fast path: parse and validate with simdjson, find the stored documents with one iterator walk, write
// new documents as given, skip documents whose stored bytes are identical, and merge with nlohmann::json only
// when a stored document differs.
Result<UpsertResult> RocksDbStore::upsert(std::string_view collection_name,
                                          std::span<const std::string_view> documents,
                                          const UpsertOptions& options) {
  const UpsertMode mode = options.mode;
  const bool deferred = options.durability == Durability::kDeferred;
  const auto started = std::chrono::steady_clock::now();
  thread_local UpsertScratch scratch;
  UpsertResult result;

  // 1. Parse, validate, encode keys. Nothing here touches the database.
  scratch.keys.clear();
  scratch.entries.clear();
  scratch.keys.reserve(documents.size() * 10);
  auto reject = [&](size_t index, std::string_view key, std::string message) {
    result.rejected.push_back({index, std::string(key), fmt::format("document {}: {}", index, message)});
  };
  for (size_t i = 0; i < documents.size(); ++i) {
    std::string_view doc = documents[i];
    simdjson::dom::element root;
    if (auto error = scratch.parser.parse(scratch.pad(doc), doc.size(), false).get(root)) {
      reject(i, {}, fmt::format("invalid JSON: {}", simdjson::error_message(error)));
      continue;
    }
    simdjson::dom::object object;
    if (root.get(object) != simdjson::SUCCESS) {
      reject(i, {}, fmt::format("a document must be a JSON object, got {}", json_type_name(root.type())));
      continue;
    }
    simdjson::dom::element key_element;
    if (object["_key"].get(key_element) != simdjson::SUCCESS) {
      reject(i, {}, "missing `_key` attribute");
      continue;
    }
    std::string_view key;
    if (key_element.get(key) != simdjson::SUCCESS) {
      reject(i, {}, fmt::format("`_key` must be a string, got {}", json_type_name(key_element.type())));
      continue;
    }
    if (Status st = validate_document_key(key); !st) {
      reject(i, key, st.message());
      continue;
    }
    const auto offset = static_cast<uint32_t>(scratch.keys.size());
    append_encoded_key(key, &scratch.keys);
    scratch.entries.push_back(
        {static_cast<uint32_t>(i), offset, static_cast<uint32_t>(scratch.keys.size() - offset)});
  }

  auto found = find_or_create(collection_name);
  if (!found) return found.status();
  std::shared_ptr<Collection> collection = std::move(found).value();
  std::unique_lock write_lock(collection->write_mu);
  while (collection->dropped) {  // dropped after we found it: recreate
    write_lock.unlock();
    found = find_or_create(collection_name);
    if (!found) return found.status();
    collection = std::move(found).value();
    write_lock = std::unique_lock(collection->write_mu);
  }
  if (collection->rejected != nullptr)
    collection->rejected->Increment(static_cast<double>(result.rejected.size()));
  if (scratch.entries.empty()) return result;
  // A logged write must not survive a crash that loses deferred writes before it.
  if (!deferred) SF_RETURN_IF_ERROR(persist_locked(*collection));

  // 2. Order by key, keeping batch order among duplicates. Batches of time series usually arrive sorted.
  auto& entries = scratch.entries;
  auto& order = scratch.order;
  order.resize(entries.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  bool sorted_unique = true;
  for (size_t i = 1; i < entries.size() && sorted_unique; ++i) {
    sorted_unique = scratch.key_of(entries[i - 1]) < scratch.key_of(entries[i]);
  }
  if (!sorted_unique) {
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return scratch.key_of(entries[a]) < scratch.key_of(entries[b]);
    });
  }
  // Distinct keys: group g covers order[group_begin[g] .. group_begin[g + 1]).
  std::vector<rocksdb::Slice> unique_keys;
  std::vector<uint32_t> group_begin;
  unique_keys.reserve(entries.size());
  group_begin.reserve(entries.size() + 1);
  for (uint32_t i = 0; i < order.size(); ++i) {
    std::string_view key = scratch.key_of(entries[order[i]]);
    if (unique_keys.empty() || to_view(unique_keys.back()) != key) {
      unique_keys.push_back(to_slice(key));
      group_begin.push_back(i);
    }
  }
  group_begin.push_back(static_cast<uint32_t>(order.size()));
  const size_t groups = unique_keys.size();

  // 3. Which keys exist, and their stored documents. One iterator walks the batch's key range in step with
  // the sorted batch keys: appending past the end costs one seek, a replayed batch (dense keys) costs one
  // Next() per key, much less than a point lookup each; long gaps are skipped with a Seek().
  constexpr int kMaxStepsBeforeSeek = 8;
  auto& stored_bytes = scratch.stored_bytes;
  auto& stored_at = scratch.stored_at;
  stored_bytes.clear();
  stored_at.assign(groups, UpsertScratch::kAbsent);
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), collection->cf));
    it->Seek(unique_keys.front());
    size_t g = 0;
    int steps = 0;
    while (g < groups && it->Valid()) {
      const int cmp = it->key().compare(unique_keys[g]);
      if (cmp == 0) {
        stored_at[g++] = {stored_bytes.size(), it->value().size()};
        stored_bytes.append(it->value().data(), it->value().size());
        it->Next();
        steps = 0;
      } else if (cmp > 0) {
        ++g;  // not stored
      } else if (++steps <= kMaxStepsBeforeSeek) {
        it->Next();
      } else {
        it->Seek(unique_keys[g]);
        steps = 0;
      }
    }
    if (!it->status().ok()) {
      return from_rocks(it->status(), fmt::format("reading collection '{}'", collection_name));
    }
  }

  // 4. Apply each key's documents in batch order and build one WriteBatch.
  size_t payload = 0;
  for (const auto& e : entries) payload += documents[e.index].size() + e.key_size + 16;
  rocksdb::WriteBatch batch(payload + 64);
  std::deque<std::string> merged_documents;  // stable addresses for merged results
  uint64_t new_keys = 0;
  std::vector<uint32_t> merge_failures;
  for (size_t g = 0; g < groups; ++g) {
    std::optional<std::string_view> current;
    const bool existed = stored_at[g] != UpsertScratch::kAbsent;
    if (existed) current = std::string_view(stored_bytes).substr(stored_at[g].first, stored_at[g].second);
    bool changed = false;
    for (uint32_t j = group_begin[g]; j < group_begin[g + 1]; ++j) {
      const uint32_t index = entries[order[j]].index;
      std::string_view doc = documents[index];
      if (!current) {
        current = doc;
        changed = true;
        ++result.inserted;
      } else if (*current == doc) {
        ++result.unchanged;
      } else if (mode == UpsertMode::kReplace) {
        current = doc;
        changed = true;
        ++result.updated;
      } else {
        auto merged = rocksdb_backend::merge_documents(*current, doc);
        if (!merged) {
          std::array<char, 20> key_text;
          reject(index, decode_key(to_view(unique_keys[g]), key_text), merged.status().message());
          merge_failures.push_back(index);
        } else if (!merged->has_value()) {
          ++result.unchanged;
        } else {
          merged_documents.push_back(std::move(**merged));
          current = merged_documents.back();
          changed = true;
          ++result.updated;
        }
      }
    }
    if (changed) {
      rocksdb::Status s = batch.Put(collection->cf, unique_keys[g], to_slice(*current));
      if (!s.ok()) return from_rocks(s, fmt::format("writing collection '{}'", collection_name));
      if (!existed) ++new_keys;
    }
  }
  if (!merge_failures.empty() && collection->rejected != nullptr) {
    collection->rejected->Increment(static_cast<double>(merge_failures.size()));
  }

  // 5. One atomic write: the documents and the new count, in the collection's own column family.
  if (batch.Count() > 0) {
    const uint64_t new_count = collection->count.load() + new_keys;
    if (new_keys > 0) {
      rocksdb::Status s = batch.Put(collection->cf, to_slice(kCountKey), encode_count(new_count));
      if (!s.ok()) return from_rocks(s, fmt::format("writing collection '{}'", collection_name));
    }
    rocksdb::Status s = db_->Write(deferred ? deferred_write_options_ : write_options_, &batch);
    if (!s.ok()) return from_rocks(s, fmt::format("writing collection '{}'", collection_name));
    collection->count.store(new_count);
    if (deferred) collection->unpersisted = true;
  }
  if (collection->written != nullptr) {
    collection->written->Increment(static_cast<double>(result.inserted + result.updated));
  }
  if (metrics_.upsert_seconds != nullptr) {
    metrics_.upsert_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  std::sort(result.rejected.begin(), result.rejected.end(),
            [](const DocumentError& a, const DocumentError& b) { return a.index < b.index; });
  return result;
}

Result<size_t> RocksDbStore::remove(std::string_view collection_name,
                                    std::span<const std::string_view> keys) {
  auto found = find(collection_name);
  if (!found) return found.status();
  std::vector<std::string> encoded;
  encoded.reserve(keys.size());
  for (std::string_view key : keys) {
    SF_RETURN_IF_ERROR(validate_document_key(key));
    encoded.push_back(encode_key(key));
  }
  std::sort(encoded.begin(), encoded.end());
  encoded.erase(std::unique(encoded.begin(), encoded.end()), encoded.end());
  std::vector<rocksdb::Slice> slices(encoded.begin(), encoded.end());

  std::shared_ptr<Collection> collection = std::move(found).value();
  std::lock_guard write_lock(collection->write_mu);
  if (collection->dropped) return unknown_collection(collection_name);
  SF_RETURN_IF_ERROR(persist_locked(*collection));  // a logged write never outlives deferred ones
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  db_->MultiGet(rocksdb::ReadOptions(), collection->cf, slices.size(), slices.data(), values.data(),
                statuses.data(), /*sorted_input=*/true);
  rocksdb::WriteBatch batch;
  size_t removed = 0;
  for (size_t i = 0; i < slices.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok())
      return from_rocks(statuses[i], fmt::format("reading collection '{}'", collection_name));
    rocksdb::Status s = batch.Delete(collection->cf, slices[i]);
    if (!s.ok()) return from_rocks(s, fmt::format("removing from collection '{}'", collection_name));
    ++removed;
  }
  if (removed == 0) return removed;
  const uint64_t new_count = collection->count.load() - removed;
  rocksdb::Status s = batch.Put(collection->cf, to_slice(kCountKey), encode_count(new_count));
  if (s.ok()) s = db_->Write(write_options_, &batch);
  if (!s.ok()) return from_rocks(s, fmt::format("removing from collection '{}'", collection_name));
  collection->count.store(new_count);
  return removed;
}

Status RocksDbStore::scan(std::string_view collection_name, const ScanOptions& options,
                          const ScanVisitor& visit) {
  auto found = find(collection_name);
  if (!found) return found.status();
  std::shared_ptr<Collection> collection = std::move(found).value();

  std::string lower(kFirstDocumentKey), upper;  // the count key sorts before every document
  rocksdb::Slice lower_slice(to_slice(lower)), upper_slice;
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  if (options.from_key) {
    lower = encode_key(*options.from_key);
    lower_slice = lower;
  }
  if (options.to_key) {
    upper = encode_key(*options.to_key);
    upper_slice = upper;
    ro.iterate_upper_bound = &upper_slice;
  }
  if (options.from_key && options.to_key && lower >= upper) return Status::ok();

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, collection->cf));
  if (!options.reverse) {
    if (options.from_key) {
      it->Seek(lower_slice);
    } else {
      it->SeekToFirst();
    }
  } else if (options.to_key) {
    it->SeekForPrev(upper_slice);
    if (it->Valid() && it->key().compare(upper_slice) >= 0) it->Prev();
  } else {
    it->SeekToLast();
  }
  std::array<char, 20> scratch;
  size_t visited = 0;
  for (; it->Valid(); options.reverse ? it->Prev() : it->Next()) {
    std::string_view key = decode_key(to_view(it->key()), scratch);
    if (!visit(key, to_view(it->value()))) break;
    if (options.limit != 0 && ++visited >= options.limit) break;
  }
  if (!it->status().ok()) {
    return from_rocks(it->status(), fmt::format("scanning collection '{}'", collection_name));
  }
  return Status::ok();
}

bool is_lock_error(const rocksdb::Status& s) {
  std::string text = s.ToString();
  return s.IsIOError() && (text.find("LOCK") != std::string::npos || text.find("lock") != std::string::npos);
}

}  // namespace

Result<std::unique_ptr<Store>> open_rocksdb_store(const RocksDbStoreOptions& options) {
  if (options.path.empty()) return Status::invalid_argument("store path is empty");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec)
    return Status::io_error(fmt::format("creating store directory '{}': {}", options.path, ec.message()));

  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::DBOptions db_opts = db_options(options);
  rocksdb::ColumnFamilyOptions collection_opts = collection_cf_options(options, cache);

  std::vector<std::string> cf_names;
  if (std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ec)) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_opts, options.path, &cf_names);
    if (!s.ok()) return from_rocks(s, fmt::format("opening store '{}'", options.path));
  } else {
    cf_names.push_back(rocksdb::kDefaultColumnFamilyName);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : cf_names) {
    descriptors.emplace_back(
        name, name == rocksdb::kDefaultColumnFamilyName ? metadata_cf_options(cache) : collection_opts);
  }
  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(db_opts, options.path, descriptors, &handles, &raw_db);
  if (!s.ok()) {
    if (is_lock_error(s)) {
      return Status::unavailable(
          fmt::format("store '{}' is already in use by another process (or open twice in this one): {}",
                      options.path, s.ToString()));
    }
    return from_rocks(s, fmt::format("opening store '{}'", options.path));
  }

  auto store = std::make_unique<RocksDbStore>(options, raw_db, collection_opts,
                                              register_metrics(options.metrics.get()));
  // Handles not handed to the store are destroyed before the store closes the database.
  struct HandleGuard {
    rocksdb::DB* db;
    std::vector<rocksdb::ColumnFamilyHandle*>& handles;
    ~HandleGuard() {
      for (auto* handle : handles) {
        if (handle != nullptr) db->DestroyColumnFamilyHandle(handle);
      }
    }
  } guard{raw_db, handles};
  rocksdb::ColumnFamilyHandle* meta = raw_db->DefaultColumnFamily();

  // Format version: written once, checked on every open.
  std::string version;
  s = raw_db->Get(rocksdb::ReadOptions(), meta, kFormatVersionKey, &version);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions sync_write;
    sync_write.sync = true;
    s = raw_db->Put(sync_write, meta, kFormatVersionKey, kFormatVersion);
    version = std::string(kFormatVersion);
  }
  if (!s.ok()) return from_rocks(s, fmt::format("opening store '{}'", options.path));
  const bool count_in_registry = version == kFormatVersionCountInRegistry;
  if (version != kFormatVersion && !count_in_registry) {
    return Status::failed_precondition(fmt::format(
        "store '{}' has format version '{}', this build reads '{}'", options.path, version, kFormatVersion));
  }
  // Upgrading a format-1 store: each collection's count moves from the registry into its column family,
  // in one synced batch with the new version, so a crash leaves either format whole.
  rocksdb::WriteBatch upgrade;

  // The registry is the truth: families without an entry come from an interrupted create/drop.
  std::map<std::string, uint64_t, std::less<>> registry;
  {
    std::unique_ptr<rocksdb::Iterator> it(raw_db->NewIterator(rocksdb::ReadOptions(), meta));
    for (it->Seek(kRegistryPrefix); it->Valid() && it->key().starts_with(kRegistryPrefix); it->Next()) {
      std::string name = it->key().ToString().substr(kRegistryPrefix.size());
      auto count = decode_count(to_view(it->value()));
      if (!count) {
        return Status::corruption(
            fmt::format("store '{}': bad document count for collection '{}'", options.path, name));
      }
      registry.emplace(std::move(name), *count);
    }
    if (!it->status().ok()) return from_rocks(it->status(), fmt::format("opening store '{}'", options.path));
  }
  for (auto*& handle : handles) {
    const std::string cf_name = handle->GetName();
    if (cf_name == rocksdb::kDefaultColumnFamilyName) continue;
    auto entry = cf_name.starts_with(kCollectionCfPrefix)
                     ? registry.find(std::string_view(cf_name).substr(kCollectionCfPrefix.size()))
                     : registry.end();
    if (entry == registry.end()) {
      spdlog::warn("store {}: dropping unregistered column family '{}' (interrupted create or drop)",
                   options.path, cf_name);
      rocksdb::Status drop = raw_db->DropColumnFamily(handle);
      if (!drop.ok()) return from_rocks(drop, fmt::format("opening store '{}'", options.path));
      continue;
    }
    uint64_t count = entry->second;
    if (count_in_registry) {
      s = upgrade.Put(handle, to_slice(kCountKey), encode_count(count));
    } else {
      std::string stored;
      s = raw_db->Get(rocksdb::ReadOptions(), handle, to_slice(kCountKey), &stored);
      if (s.IsNotFound()) {
        count = 0;  // created, never written
        s = rocksdb::Status::OK();
      } else if (s.ok()) {
        auto decoded = decode_count(stored);
        if (!decoded) {
          return Status::corruption(
              fmt::format("store '{}': bad document count for collection '{}'", options.path, entry->first));
        }
        count = *decoded;
      }
    }
    if (!s.ok()) return from_rocks(s, fmt::format("opening store '{}'", options.path));
    store->adopt(entry->first, std::exchange(handle, nullptr), count);
    registry.erase(entry);
  }
  for (const auto& [name, count] : registry) {  // registered without a family: cannot hold documents
    spdlog::warn("store {}: collection '{}' registered without data; removing it", options.path, name);
    s = raw_db->Delete(rocksdb::WriteOptions(), meta, registry_key(name));
    if (!s.ok()) return from_rocks(s, fmt::format("opening store '{}'", options.path));
  }
  if (count_in_registry) {
    s = upgrade.Put(meta, kFormatVersionKey, kFormatVersion);
    rocksdb::WriteOptions sync_write;
    sync_write.sync = true;
    if (s.ok()) s = raw_db->Write(sync_write, &upgrade);
    if (!s.ok())
      return from_rocks(s, fmt::format("upgrading store '{}' to format {}", options.path, kFormatVersion));
    spdlog::info("store {}: upgraded to format version {}", options.path, kFormatVersion);
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sf::store
