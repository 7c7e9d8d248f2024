// Time- and key-bounded reads of stored collections, in pages.
#include "services/manager/collection_query.h"

#include <fmt/format.h>

#include <array>
#include <functional>

#include "protocol/json_fields.h"

namespace sf::services {
namespace {

using protocol::Json;

constexpr std::array<const char*, 4> kTimeFields = {"open_time", "trade_time", "timestamp", "event_time"};

// How a query runs: a key range, plus a time filter on a document field when the keys are not the time.
struct ScanPlan {
  store::ScanOptions scan;
  std::string time_field;  // empty: no filter
  TimestampMs from_ms = INT64_MIN;
  TimestampMs to_ms = INT64_MAX;
  bool empty = false;  // nothing can match
  std::optional<std::string> skip_key;

  bool matches(std::string_view document) const {
    if (time_field.empty()) return true;
    Json doc = Json::parse(document, nullptr, false);
    if (!doc.is_object()) return false;
    auto it = doc.find(time_field);
    if (it == doc.end() || !it->is_number_integer()) return false;
    const int64_t t = it->get<int64_t>();
    return t >= from_ms && t < to_ms;
  }
};

Result<ScanPlan> plan_scan(store::Store& store, std::string_view collection, const DocumentQuery& q) {
  ScanPlan plan;
  const bool times = q.from_ms || q.to_ms;
  if (times && (q.from_key || q.to_key)) {
    return Status::invalid_argument("give either times (from, to) or keys (from_key, to_key), not both");
  }
  plan.scan.from_key = q.from_key;
  plan.scan.to_key = q.to_key;
  if (times) {
    plan.from_ms = q.from_ms.value_or(INT64_MIN);
    plan.to_ms = q.to_ms.value_or(INT64_MAX);
    if (plan.from_ms >= plan.to_ms) plan.empty = true;
    // The first document says how the collection is keyed.
    std::optional<std::string> first;
    SF_RETURN_IF_ERROR(
        store.scan(collection, store::ScanOptions{.limit = 1}, [&](std::string_view, std::string_view doc) {
          first = std::string(doc);
          return false;
        }));
    if (!first) {
      plan.empty = true;
      return plan;
    }
    Json doc = Json::parse(*first, nullptr, false);
    std::string field;
    for (const char* name : kTimeFields) {
      if (doc.is_object() && doc.contains(name) && doc[name].is_number_integer()) {
        field = name;
        break;
      }
    }
    if (field.empty()) {
      return Status::invalid_argument(fmt::format(
          "collection '{}' has no time field (open_time, trade_time, timestamp, event_time): query it with "
          "from_key/to_key",
          collection));
    }
    const bool keyed_by_time = doc.contains("_key") && doc["_key"].is_string() &&
                               doc["_key"].get<std::string>() == std::to_string(doc[field].get<int64_t>());
    if (keyed_by_time) {
      // Numeric keys scan in numeric order, so the time bounds are key bounds.
      if (q.from_ms) plan.scan.from_key = std::to_string(std::max<TimestampMs>(*q.from_ms, 0));
      if (q.to_ms) {
        if (*q.to_ms <= 0) plan.empty = true;
        plan.scan.to_key = std::to_string(std::max<TimestampMs>(*q.to_ms, 0));
      }
    } else {
      plan.time_field = field;
    }
  }
  if (q.after) {
    plan.scan.from_key = q.after;
    plan.skip_key = q.after;
  }
  return plan;
}

}  // namespace

Result<DocumentPage> query_documents(store::Store& store, std::string_view collection,
                                     const DocumentQuery& query, size_t max_page) {
  auto plan = plan_scan(store, collection, query);
  if (!plan) return plan.status();
  DocumentPage page;
  if (plan->empty) {
    // Still NotFound for an unknown collection.
    auto n = store.count(collection);
    if (!n) return n.status();
    return page;
  }
  max_page = std::max<size_t>(max_page, 1);
  const bool cut_by_page = query.limit == 0 || query.limit > max_page;
  const size_t want = cut_by_page ? max_page : query.limit;
  std::string last_key;
  bool more = false;
  SF_RETURN_IF_ERROR(store.scan(collection, plan->scan, [&](std::string_view key, std::string_view doc) {
    if (plan->skip_key && key == *plan->skip_key) return true;
    if (!plan->matches(doc)) return true;
    if (page.documents.size() == want) {
      more = true;
      return false;
    }
    page.documents.emplace_back(doc);
    last_key.assign(key);
    return true;
  }));
  if (more && cut_by_page) page.next_after = last_key;
  return page;
}

Result<uint64_t> count_documents(store::Store& store, std::string_view collection,
                                 const DocumentQuery& query) {
  if (!query.from_ms && !query.to_ms && !query.from_key && !query.to_key) return store.count(collection);
  DocumentQuery bounds = query;
  bounds.after.reset();
  auto plan = plan_scan(store, collection, bounds);
  if (!plan) return plan.status();
  if (plan->empty) {
    auto total = store.count(collection);  // still NotFound for an unknown collection
    if (!total) return total.status();
    return uint64_t{0};
  }
  uint64_t n = 0;
  SF_RETURN_IF_ERROR(store.scan(collection, plan->scan, [&](std::string_view, std::string_view doc) {
    if (plan->matches(doc)) ++n;
    return true;
  }));
  return n;
}

}  // namespace sf::services
