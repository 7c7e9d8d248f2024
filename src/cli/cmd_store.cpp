// `streamforge store collections|count|get`: inspect the embedded RocksDB store of a data directory.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "store/store.h"

namespace sf::cli {
namespace {

struct StoreCommandOptions {
  std::string data_dir = "./streamforge-data";
  std::string collection;
  std::string key;
};

std::unique_ptr<store::Store> open_store(const std::string& data_dir) {
  store::RocksDbStoreOptions options;
  options.path = (std::filesystem::path(data_dir) / "store").string();
  return value_or_throw(store::open_rocksdb_store(options));
}

}  // namespace

CommandRunner setup_store(CLI::App& app, const CommonOptions& /*common*/) {
  auto options = std::make_shared<StoreCommandOptions>();
  app.require_subcommand(1);
  app.fallthrough();  // `bus topics --data-dir X`: the sub-subcommand passes the flag up
  bind_option(app, "--data-dir", options->data_dir, "data directory of the embedded store");

  auto* collections = app.add_subcommand("collections", "List collections with their document counts");
  auto* count = app.add_subcommand("count", "Print the exact number of documents of a collection");
  count->add_option("collection", options->collection, "collection name")->required();
  auto* get = app.add_subcommand("get", "Print one document by its _key");
  get->add_option("collection", options->collection, "collection name")->required();
  get->add_option("key", options->key, "document _key")->required();

  return [options, collections, count, get]() -> int {
    auto db = open_store(options->data_dir);
    if (collections->parsed()) {
      auto list = value_or_throw(db->list_collections());
      fmt::print("{:<48} {:>14}\n", "COLLECTION", "DOCUMENTS");
      for (const auto& c : list) fmt::print("{:<48} {:>14}\n", c.name, c.count);
      return 0;
    }
    if (count->parsed()) {
      fmt::print("{}\n", value_or_throw(db->count(options->collection)));
      return 0;
    }
    if (get->parsed()) {
      auto doc = value_or_throw(db->get(options->collection, options->key));
      if (!doc) {
        fmt::print(stderr, "no document with _key '{}' in '{}'\n", options->key, options->collection);
        return 1;
      }
      fmt::print("{}\n", *doc);
      return 0;
    }
    return 2;
  };
}

}  // namespace sf::cli
