// A local order book kept from a diff depth stream exactly as Binance documents it ("How to manage a local
// order book correctly", spot):
//   1. buffer the stream's events; 2. fetch a REST snapshot; 3. a snapshot older than the first buffered
//   event (lastUpdateId < U - 1) is fetched again; 4. buffered events with u <= lastUpdateId are dropped; the
//   first one left must span lastUpdateId + 1 (U <= lastUpdateId + 1 <= u); 5. the book becomes the
//   snapshot, then every event is applied in order: u < the book's id (stale, e.g. a renewal overlap) is
//   ignored, U > the book's id + 1 is a gap, which discards the book and starts over from 1 (the gap's event
//   opens the new buffer); a quantity of 0 removes the level (removing an absent level is normal).
// A lost connection also starts over (on_disconnect).
//
// Hot path: each side is one flat vector sorted so that the best level is at the back, so the frequent
// changes near the top of the book move few elements, and applying an event allocates nothing once the
// vectors have grown. Internal to services/loaders/ws/; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "services/loaders/ws/depth_events.h"

namespace sf::services::loaders {

class LocalOrderBook {
 public:
  enum class Result { kApplied, kStale, kGap };

  void reset(const DepthSnapshot& snapshot);
  // One event, with the sequence checks of step 5.
  Result apply(const DepthUpdate& update);
  int64_t last_update_id() const { return last_update_id_; }
  size_t bid_count() const { return bids_.size(); }
  size_t ask_count() const { return asks_.size(); }
  // The best `n` levels of each side, best first, into the outputs (cleared first).
  void top(size_t n, std::vector<PriceLevel>& bids, std::vector<PriceLevel>& asks) const;

 private:
  // Bids ascending, asks descending: the best level of each side is the last element.
  std::vector<PriceLevel> bids_, asks_;
  int64_t last_update_id_ = 0;
};

class OrderBookSync {
 public:
  enum class State { kBuffering, kSynced };
  // What the caller does next.
  enum class Action {
    kNone,          // the event was applied, dropped as stale, or buffered while a snapshot is awaited
    kNeedSnapshot,  // fetch a REST snapshot and hand it to on_snapshot()
  };

  // `max_buffered`: events kept while waiting for a snapshot (the oldest go first beyond it).
  explicit OrderBookSync(size_t max_buffered = 10'000) : max_buffered_(max_buffered) {}

  Action on_update(const DepthUpdate& update);
  // Steps 3-5 with the snapshot. kNeedSnapshot when it was too old or the buffer did not connect to it.
  Action on_snapshot(const DepthSnapshot& snapshot);
  // The connection carrying the stream went away: events were lost.
  void on_disconnect();

  State state() const { return state_; }
  bool synced() const { return state_ == State::kSynced; }
  size_t buffered() const { return buffer_.size(); }
  const LocalOrderBook& book() const { return book_; }
  // Times a synced book was discarded (a gap or a lost connection) and rebuilt from a new snapshot.
  int64_t resyncs() const { return resyncs_; }
  int64_t gaps() const { return gaps_; }                              // sequence gaps seen while synced
  int64_t stale() const { return stale_; }                            // events ignored as older than the book
  int64_t snapshots() const { return snapshots_; }                    // snapshots received
  int64_t rejected_snapshots() const { return rejected_snapshots_; }  // too old or not connecting

 private:
  void restart(bool resync);
  void buffer(const DepthUpdate& update);

  LocalOrderBook book_;
  State state_ = State::kBuffering;
  std::deque<DepthUpdate> buffer_;
  size_t max_buffered_;
  int64_t resyncs_ = 0, gaps_ = 0, stale_ = 0, snapshots_ = 0, rejected_snapshots_ = 0;
};

}  // namespace sf::services::loaders
