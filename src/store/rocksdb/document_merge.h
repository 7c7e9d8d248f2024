// Internal: ArangoDB's UPDATE semantics on JSON text (mergeObjects:true, keepNull:true), used on the
// RocksDB backend's slow path when a stored document differs from the new one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sf::store::rocksdb_backend {

// Merges `update` into `stored` (both JSON objects): top-level attributes of `update` overwrite those of
// `stored`, nested objects merge recursively, other attributes of `stored` are kept, attribute order is
// stored's then new ones. Returns the merged document as compact JSON, or nullopt if the merge changes
// nothing. InvalidArgument if `update` is not a JSON object; Corruption if `stored` is not one.
Result<std::optional<std::string>> merge_documents(std::string_view stored, std::string_view update);

}  // namespace sf::store::rocksdb_backend
