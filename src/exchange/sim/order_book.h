// The simulator's order books: a deterministic book per symbol, a pure function of (symbol, update id), so
// that the REST snapshot (/api/v3/depth), the diff depth streams (<symbol>@depth, @depth@100ms) and a test
// asking "what was the book at update id X" all agree without any state kept between requests.
//
// Time is cut into depth slots of kDepthSlotMs from the symbol's listing. Slot s carries a run of update
// ids ending at depth_update_id(s) = base + s*K + h(s), 0 <= h(s) < K (K = kUpdatesPerSlot, h a hash): the
// final ids strictly increase and every slot has 1..2K-1 updates, like Binance's irregular id runs. A slot
// is visible once it has ended; REST answers the book at the last visible slot.
//
// The book at slot s: the price window follows the market (the close of the last whole second before the
// slot ends, from the same SymbolMarket as the candles and trades): bids on every tick of
// [P - kBookLevels, P - 1], asks on [P + 1, P + kBookLevels]. A level's quantity is a hash of (side, price,
// epoch), where the epoch advances every 1..30 s with a per-level period and phase, and about one level in
// eight is empty: between two slots only a few dozen levels change, plus the levels the moving price window
// adds or removes. The diff of two books (diff_books) is what a depthUpdate event carries.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exchange/sim/market_data.h"

namespace sf::exchange::sim {

inline constexpr int64_t kDepthSlotMs = 100;
inline constexpr int64_t kUpdatesPerSlot = 8;
inline constexpr int kBookLevels = 1000;  // price levels per side of the window (some of them empty)

struct BookLevel {
  int64_t price = 0;  // ticks
  int64_t qty = 0;    // steps; 0 in a diff = remove the level
  bool operator==(const BookLevel&) const = default;
};

struct OrderBook {
  int64_t last_update_id = 0;
  int64_t slot = -1;
  std::vector<BookLevel> bids;  // best (highest) first, no empty level
  std::vector<BookLevel> asks;  // best (lowest) first, no empty level
};

// The last slot that has ended at `now_ms`; -1 before the first one ended.
int64_t last_depth_slot(const SymbolSpec& spec, int64_t now_ms);
// The final update id of `slot` (slot -1: the id before the first update).
int64_t depth_update_id(const SymbolSpec& spec, int64_t slot);
// The slot whose final update id is `update_id`, if there is one.
std::optional<int64_t> depth_slot_of(const SymbolSpec& spec, int64_t update_id);

// The book at the end of `slot` (>= -1; -1 is the empty book) into `out`, reusing its vectors.
void order_book_at(const SymbolMarket& market, int64_t slot, OrderBook& out);

// The levels that differ from `before` to `after`, in price order of each side (best first); removed levels
// with qty 0. Clears the outputs first.
void diff_books(const OrderBook& before, const OrderBook& after, std::vector<BookLevel>& bids,
                std::vector<BookLevel>& asks);

// [["price","qty"],..] of up to `limit` levels (limit < 0: all), decimals as the REST endpoints write them.
void append_levels_json(std::string& out, const SymbolMarket& market, const std::vector<BookLevel>& levels,
                        int limit = -1);

}  // namespace sf::exchange::sim
