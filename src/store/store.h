// The document store facade: collections of JSON documents keyed by `_key`, idempotent batch upsert, range
// scans in key order. The only header of src/store/ that other components include.
//
// Semantics follow ArangoDB's so that a cluster backend (ArangoDB over HTTP) can implement the same
// interface:
// - A document is a JSON object with a string attribute `_key`: 1..254 bytes of [a-zA-Z0-9_-:.@()+,=;$!*'%].
// - Collection names: letters, digits, '_' and '-', starting with a letter, at most 256 bytes.
// - upsert(kUpdate) is AQL `UPSERT {_key} INSERT doc UPDATE doc` with mergeObjects:true and keepNull:true:
//   top-level attributes of the new document overwrite the stored ones, nested objects merge recursively,
//   attributes absent from the new document are kept, `null` is stored as null.
//   upsert(kReplace) is `UPSERT ... REPLACE doc`: the stored document becomes the new one.
// - Key order (scan): numeric keys (decimal digits without leading zero, or "0", value <= INT64_MAX) sort by
//   numeric value and come before every other key; the other keys sort bytewise. Time-series keys (open time
//   in ms, trade ids) therefore scan in time order whatever their digit count.
//
// Documents given back (get, scan) hold at least the attributes written, `_key` included, as JSON text.
// Documents written with no merge involved are stored and returned byte for byte as given; a merged document
// is re-serialised compactly (numbers keep their value, not necessarily their spelling: 1.10 -> 1.1).
// A backend may add system attributes (ArangoDB adds `_id` and `_rev`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"

namespace sf::store {

enum class UpsertMode {
  kUpdate,   // merge into the existing document (ArangoDB UPSERT .. UPDATE, mergeObjects:true)
  kReplace,  // the new document replaces the existing one (ArangoDB UPSERT .. REPLACE)
};

// When the writes of an upsert() survive a crash of the process.
enum class Durability {
  // Durable when upsert() returns (the backend's write-ahead log). The default.
  kLogged,
  // Not necessarily durable when upsert() returns: only once a later persist(collection) returned OK. For
  // writers that can replay their input after a crash (a connector re-reading a durable bus log from its
  // last committed offset): the backend skips its write-ahead log, which is most of the cost of a write.
  // A crash may lose deferred writes not yet persisted, but only as a suffix: the collection comes back as
  // it was after some call at or after the last persist (every upsert still atomic, the count exact), never
  // with a later write present and an earlier one missing. A kLogged write or remove() on a collection with
  // unpersisted deferred writes persists them first, so it cannot outlive them in a crash.
  kDeferred,
};

struct UpsertOptions {
  UpsertMode mode = UpsertMode::kUpdate;
  Durability durability = Durability::kLogged;
};

// One document of a batch that was not written, and why.
struct DocumentError {
  size_t index = 0;     // position in the batch given to upsert()
  std::string key;      // its `_key` when one could be read, else empty
  std::string message;  // what is wrong, e.g. "document 3: `_key` must be a string, got number"
};

// Per-document outcome of one upsert() call; inserted + updated + unchanged + rejected.size() == batch size.
struct UpsertResult {
  size_t inserted = 0;   // the key did not exist
  size_t updated = 0;    // the key existed and the stored document changed
  size_t unchanged = 0;  // the key existed and the stored document already was the result (a replay)
  std::vector<DocumentError> rejected;  // invalid documents; every other document of the batch was written
};

struct ScanOptions {
  std::optional<std::string>
      from_key;                       // inclusive lower bound (any text; compared in key order); none = first
  std::optional<std::string> to_key;  // exclusive upper bound; none = past the last key
  size_t limit = 0;                   // at most this many documents; 0 = no limit
  bool reverse = false;               // descending key order (still within [from_key, to_key))
};

struct CollectionInfo {
  std::string name;
  uint64_t count = 0;  // exact number of documents
};

// Called once per document in key order; return false to stop the scan early. The views are valid only
// during the call.
using ScanVisitor = std::function<bool(std::string_view key, std::string_view document)>;

// A store of named collections of JSON documents.
//
// Thread-safety: every method may be called concurrently from any thread. Upserts and removes of one
// collection are serialised (read-modify-write); different collections proceed in parallel. Readers (get,
// scan, count) never block writers: a scan sees one consistent snapshot of its collection.
// Durability: a call that returned OK survives a crash of the process (kill -9); see each backend's options
// for power loss. Each upsert()/remove() is atomic: after a crash either all of its writes are there or none.
// The one exception is asked for explicitly: upserts with Durability::kDeferred are durable only once a
// later persist() of their collection returned OK (see Durability).
// Lifetime: destroy the Store only once no call is running; a visitor must not destroy the Store.
class Store {
 public:
  virtual ~Store() = default;

  // Creates the collection if it does not exist (idempotent). InvalidArgument for an invalid name.
  virtual Status create_collection(std::string_view name) = 0;

  // Removes the collection and all its documents. NotFound if it does not exist.
  virtual Status drop_collection(std::string_view name) = 0;

  // Every collection with its exact document count, sorted by name.
  virtual Result<std::vector<CollectionInfo>> list_collections() = 0;

  // Inserts or updates each document by its `_key`, in batch order (a key repeated in the batch applies
  // each occurrence in turn). Creates the collection if missing. Invalid documents are reported in
  // `rejected` and skipped; the call still succeeds. A non-OK Status means nothing of the batch was
  // written (invalid collection name, I/O error). The documents are only read during the call.
  virtual Result<UpsertResult> upsert(std::string_view collection,
                                      std::span<const std::string_view> documents,
                                      const UpsertOptions& options) = 0;

  Result<UpsertResult> upsert(std::string_view collection, std::span<const std::string_view> documents,
                              UpsertMode mode) {
    return upsert(collection, documents, UpsertOptions{.mode = mode});
  }

  // Convenience for callers that hold std::strings.
  Result<UpsertResult> upsert(std::string_view collection, const std::vector<std::string>& documents,
                              UpsertMode mode = UpsertMode::kUpdate);

  // Removes the documents with these keys; returns how many existed. Atomic like upsert().
  // NotFound for an unknown collection, InvalidArgument for an invalid key.
  virtual Result<size_t> remove(std::string_view collection, std::span<const std::string_view> keys) = 0;

  // The document with this key, or nullopt. NotFound for an unknown collection, InvalidArgument for an
  // invalid key.
  virtual Result<std::optional<std::string>> get(std::string_view collection, std::string_view key) = 0;

  // Visits the documents of `collection` within the bounds in key order. NotFound for an unknown collection.
  // The visitor may call other methods of this store (not drop_collection on the scanned collection).
  virtual Status scan(std::string_view collection, const ScanOptions& options, const ScanVisitor& visit) = 0;

  // Exact number of documents. NotFound for an unknown collection.
  virtual Result<uint64_t> count(std::string_view collection) = 0;

  // The durability barrier of Durability::kDeferred: returns once every upsert of `collection` that
  // returned before this call survives a crash of the process (kill -9). Cheap when there is nothing to
  // persist; otherwise it writes the collection's buffered writes to table files, so call it every few
  // seconds or hundreds of thousands of documents, not per batch. NotFound for an unknown collection.
  virtual Status persist(std::string_view collection) = 0;

  // Makes every acknowledged write (deferred ones included) durable against power loss too and persists
  // in-memory buffers, so the next open has little log to replay.
  virtual Status flush() = 0;
};

// OK if `name` is a valid collection name; else InvalidArgument stating the rule.
Status validate_collection_name(std::string_view name);
// OK if `key` is a valid document `_key`; else InvalidArgument stating the rule.
Status validate_document_key(std::string_view key);

struct RocksDbStoreOptions {
  std::string path;                                     // data directory; created if missing. Required.
  bool sync_writes = false;                             // false: the write-ahead log (always on) is written
                                                        // to the OS before a call returns: survives kill -9.
                                                        // true: also fsynced: survives power loss (slower).
  size_t block_cache_bytes = size_t{256} << 20;         // shared LRU cache of table blocks; default 256 MiB
  size_t write_buffer_bytes = size_t{64} << 20;         // memtable size per collection; default 64 MiB
  size_t total_write_buffer_bytes = size_t{512} << 20;  // cap over all collections' memtables; 512 MiB
  int background_jobs = 2;                              // flush + compaction threads; default 2
  std::shared_ptr<MetricsRegistry> metrics;             // optional; null = no metrics. Registers
                                             // streamforge_store_documents_{written,rejected}_total
                                             // {collection}, streamforge_store_upsert_seconds.
};

// Opens (creating if needed) a RocksDB-backed store at options.path. Only one process may hold a path:
// a second open fails with Unavailable naming the path.
Result<std::unique_ptr<Store>> open_rocksdb_store(const RocksDbStoreOptions& options);

}  // namespace sf::store
