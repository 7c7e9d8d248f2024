// Binance's order-book messages for the depth loaders, and the documents they become. Internal to
// services/loaders/ws/.
//   diff depth event (<symbol>@depth, @depth@100ms), raw or in a combined envelope:
//     {"e":"depthUpdate","E":..,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}
//   REST snapshot (/api/v3/depth): {"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":..}
//
// Prices and quantities are kept as fixed-point integers of 10^-8 units: Binance's spot values have at most
// 8 decimals and it writes them with exactly 8, so the text written back (append_fixed8) is the text the
// exchange sent, while the book compares and stores 16-byte levels instead of strings. A value with more
// than 8 decimals, a sign, or beyond 9.2e10 is rejected as malformed.
//
// Stored documents (numeric `_key`, so a collection scans in update-id order):
//   ws_depth event:  {"_key":"<u>","symbol":..,"event_time":E,"first_update_id":U,"final_update_id":u,
//                     "bids":[["p","q"],..],"asks":[..]}          (q "0.00000000" = the level was removed)
//   ws_orderbook:    {"_key":"<last_update_id>","symbol":..,"event_time":E,"last_update_id":..,
//                     "bids":[["p","q"],..],"asks":[..]}         (the top N levels of each side, best first)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sf::services::loaders {

struct PriceLevel {
  int64_t price = 0;  // 10^-8 units
  int64_t qty = 0;    // 10^-8 units; 0 in an event = remove the level
  bool operator==(const PriceLevel&) const = default;
};

struct DepthUpdate {
  int64_t event_time = 0;       // E
  int64_t first_update_id = 0;  // U
  int64_t final_update_id = 0;  // u
  std::vector<PriceLevel> bids, asks;
};

struct DepthSnapshot {
  int64_t last_update_id = 0;
  std::vector<PriceLevel> bids, asks;  // best first, as Binance sends them
};

// "123.45" -> 12345000000. False for anything that is not a plain non-negative decimal with at most 8
// decimals that fits.
bool parse_fixed8(std::string_view text, int64_t& out);
// 12345000000 -> "123.45000000".
void append_fixed8(std::string& out, int64_t units);

// Not thread-safe: one per loader. Reuses its buffers (and the outputs' vectors) across calls.
class DepthParser {
 public:
  DepthParser();
  ~DepthParser();
  // One stream frame. InvalidArgument naming the field for anything malformed or another event type.
  Status parse_update(std::string_view frame, DepthUpdate& out);
  // A /api/v3/depth body. InvalidArgument naming the field; a Binance error object with its code and msg.
  Status parse_snapshot(std::string_view body, DepthSnapshot& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The documents above, appended to `out`; `levels` < 0: every level, else at most that many per side.
void append_depth_event_document(std::string& out, std::string_view symbol, const DepthUpdate& u);
void append_book_document(std::string& out, std::string_view symbol, int64_t event_time,
                          int64_t last_update_id, const std::vector<PriceLevel>& bids,
                          const std::vector<PriceLevel>& asks);

}  // namespace sf::services::loaders
