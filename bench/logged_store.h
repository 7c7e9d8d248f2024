// Benchmarks only: a Store that writes every upsert through the write-ahead log (Durability::kLogged)
// whatever the caller asked for, and whose persist() has nothing left to do. It reproduces the store path as
// it was before connectors wrote deferred, so one benchmark binary can compare both on the same (shared)
// machine, runs alternated.
#pragma once

#include <memory>
#include <utility>

#include "store/store.h"

namespace sf::bench {

class LoggedOnlyStore final : public store::Store {
 public:
  explicit LoggedOnlyStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}

  Status create_collection(std::string_view name) override { return inner_->create_collection(name); }
  Status drop_collection(std::string_view name) override { return inner_->drop_collection(name); }
  Result<std::vector<store::CollectionInfo>> list_collections() override {
    return inner_->list_collections();
  }
  using store::Store::upsert;
  Result<store::UpsertResult> upsert(std::string_view collection, std::span<const std::string_view> documents,
                                     const store::UpsertOptions& options) override {
    return inner_->upsert(collection, documents, store::UpsertOptions{.mode = options.mode});
  }
  Result<size_t> remove(std::string_view collection, std::span<const std::string_view> keys) override {
    return inner_->remove(collection, keys);
  }
  Result<std::optional<std::string>> get(std::string_view collection, std::string_view key) override {
    return inner_->get(collection, key);
  }
  Status scan(std::string_view collection, const store::ScanOptions& options,
              const store::ScanVisitor& visit) override {
    return inner_->scan(collection, options, visit);
  }
  Result<uint64_t> count(std::string_view collection) override { return inner_->count(collection); }
  Status persist(std::string_view) override { return Status::ok(); }  // every write was logged
  Status flush() override { return inner_->flush(); }

 private:
  std::unique_ptr<store::Store> inner_;
};

// The store a benchmark runs on: as opened, or wrapped to log every write (`--store-logged`).
inline std::unique_ptr<store::Store> maybe_logged_only(std::unique_ptr<store::Store> store, bool logged) {
  if (!logged) return store;
  return std::make_unique<LoggedOnlyStore>(std::move(store));
}

}  // namespace sf::bench
