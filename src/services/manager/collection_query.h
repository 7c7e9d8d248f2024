// Reading stored collections for the API (`GET /collections/{name}/documents|count`, `streamforge query`):
// bounds given as times map onto keys where the keys are the time (candles: `_key` = open_time ms), and
// onto a filter of the documents' time field otherwise (trades: trade_time); long answers come in pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time_range.h"
#include "store/store.h"

namespace sf::services {

struct DocumentQuery {
  std::optional<TimestampMs> from_ms;   // inclusive lower time bound
  std::optional<TimestampMs> to_ms;     // exclusive upper time bound
  std::optional<std::string> from_key;  // inclusive lower key bound (key order); not with times
  std::optional<std::string> to_key;    // exclusive upper key bound; not with times
  std::optional<std::string> after;     // resume strictly after this key (the previous page's last)
  size_t limit = 0;                     // at most this many documents in all; 0 = no limit
};

struct DocumentPage {
  std::vector<std::string> documents;     // as stored, in key order
  std::optional<std::string> next_after;  // set when max_page cut the answer and more documents follow
};

// The documents matching `query`, at most max_page (>= 1) of them. NotFound for an unknown collection,
// InvalidArgument for times combined with keys, or times on a collection whose documents have no time field
// (open_time, trade_time, timestamp, event_time).
Result<DocumentPage> query_documents(store::Store& store, std::string_view collection,
                                     const DocumentQuery& query, size_t max_page);

// How many documents match `query` (its limit and after are ignored). Same errors.
Result<uint64_t> count_documents(store::Store& store, std::string_view collection,
                                 const DocumentQuery& query);

}  // namespace sf::services
