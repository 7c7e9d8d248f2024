// The depth side of the WebSocket loader: one diff depth stream (<symbol>@depth@100ms by default) into
// stored documents (depth_events.h). Internal to services/loaders/ws/.
//   ws_depth      every event as it came, key u. Duplicates (u <= the last stored u: reconnect or renewal
//                 overlap) are skipped; a hole (U > last u + 1) cannot be repaired (Binance keeps no history
//                 of diffs) and is counted as a sequence gap.
//   ws_orderbook  a local order book (local_order_book.h), and every `snapshot_interval_ms` of exchange
//                 time (E) its top `top_levels` levels per side, key lastUpdateId. A gap or a lost
//                 connection resyncs the book from a new REST snapshot (counted as a resync).
// Not thread-safe: the loader's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "services/loaders/ws/depth_events.h"
#include "services/loaders/ws/local_order_book.h"

namespace sf::services::loaders {

struct DepthFollowerOptions {
  bool keep_book = false;               // ws_orderbook; false: ws_depth
  size_t top_levels = 20;               // levels per side in a stored book
  int64_t snapshot_interval_ms = 1000;  // exchange time between stored books
  int snapshot_limit = 1000;            // REST /api/v3/depth limit when (re)syncing
};

// Receives each document to store with its numeric key; the views are valid during the call only.
using DepthDocumentSink = std::function<void(int64_t key, std::string_view document)>;

class DepthFollower {
 public:
  DepthFollower(std::string symbol, DepthFollowerOptions options, DepthDocumentSink sink);

  // One stream frame. InvalidArgument (nothing changed) for a malformed one: the caller dead-letters it.
  // `event_time` gets the event's E.
  Status on_frame(std::string_view frame, int64_t& event_time);
  // The connection carrying the stream went away.
  void on_disconnect();
  // True when the book waits for a REST snapshot (it has buffered events to check one against).
  bool needs_snapshot() const;
  // A /api/v3/depth body: parse errors are returned (the requester retries), a parsed snapshot is used.
  Status on_snapshot(std::string_view body);

  const DepthFollowerOptions& options() const { return options_; }
  int64_t sequence_gaps() const;  // ws_depth: holes in U/u; ws_orderbook: gaps that forced a resync
  int64_t resyncs() const { return sync_.resyncs(); }
  int64_t books_stored() const { return books_stored_; }

 private:
  void maybe_store_book(int64_t event_time);

  const std::string symbol_;
  const DepthFollowerOptions options_;
  DepthDocumentSink sink_;
  DepthParser parser_;
  DepthUpdate update_;
  DepthSnapshot snapshot_;
  OrderBookSync sync_;
  std::string document_;
  std::vector<PriceLevel> top_bids_, top_asks_;
  int64_t last_u_ = -1;  // ws_depth: the last stored event's u
  int64_t gaps_ = 0;
  int64_t last_event_time_ = 0;
  int64_t next_book_due_ = 0;  // exchange time of the next stored book
  int64_t last_stored_id_ = -1;
  int64_t books_stored_ = 0;
};

}  // namespace sf::services::loaders
