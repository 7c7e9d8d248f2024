// Internal: JSON document merge for kUpdate upserts (see document_merge.h).
#include "store/rocksdb/document_merge.h"

#include <nlohmann/json.hpp>

namespace sf::store::rocksdb_backend {

namespace {

using Json = nlohmann::ordered_json;  // keeps attribute order, like the stored text

// Returns true if `target` changed.
bool merge_into(Json& target, const Json& patch) {
  bool changed = false;
  for (const auto& [name, value] : patch.items()) {
    auto it = target.find(name);
    if (it == target.end()) {
      target[name] = value;
      changed = true;
    } else if (it->is_object() && value.is_object()) {
      changed |= merge_into(*it, value);
    } else if (*it != value) {
      *it = value;
      changed = true;
    }
  }
  return changed;
}

}  // namespace

Result<std::optional<std::string>> merge_documents(std::string_view stored, std::string_view update) {
  Json base = Json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (!base.is_object()) return Status::corruption("stored document is not a JSON object");
  Json patch = Json::parse(update, nullptr, /*allow_exceptions=*/false);
  if (!patch.is_object()) return Status::invalid_argument("document is not a JSON object");
  if (!merge_into(base, patch)) return std::optional<std::string>();
  return std::optional<std::string>(base.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace sf::store::rocksdb_backend
