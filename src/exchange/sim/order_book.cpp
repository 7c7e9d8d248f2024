// Deterministic order books (see order_book.h).
#include "exchange/sim/order_book.h"

#include <algorithm>
#include <cmath>

#include "core/splitmix64.h"

namespace sf::exchange::sim {
namespace {

// Hash tags, distinct from market_data.cpp's so the book's bits are independent of the candles'.
enum BookTag : uint64_t { kTagUpdateIds = 101, kTagBid, kTagAsk, kTagPeriod };

constexpr int64_t kMinPeriodSlots = 10;   // a level changes at most every second ...
constexpr int64_t kMaxPeriodSlots = 300;  // ... and at least every 30 s

uint64_t hash3(uint64_t seed, uint64_t tag, int64_t a, int64_t b = 0) {
  uint64_t h = splitmix64_mix(seed ^ (tag * 0x100000001b3ULL));
  h = splitmix64_mix(h ^ static_cast<uint64_t>(a) * kSplitMix64Increment);
  return splitmix64_mix(h ^ static_cast<uint64_t>(b));
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// First update id of the symbol: a per-symbol offset so that symbols do not share id ranges.
int64_t base_update_id(const SymbolSpec& spec) {
  return 1'000'000 + static_cast<int64_t>(spec.seed % 1'000'000'000ULL);
}

int64_t pow10(int n) {
  int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

// Quantities are multiples of a lot around a tenth of the symbol's typical trade.
int64_t lot_steps(const SymbolSpec& spec) {
  const double typical = spec.trades_per_day > 0 ? spec.volume_per_day / spec.trades_per_day : 1.0;
  return std::max<int64_t>(1, std::llround(typical * 0.1 * static_cast<double>(pow10(spec.step_decimals))));
}

// A level's quantity at `slot`: constant within the level's epoch, empty about one time in eight.
int64_t level_qty(const SymbolSpec& spec, uint64_t side_tag, int64_t price, int64_t slot, int64_t lot) {
  const uint64_t p = hash3(spec.seed, kTagPeriod, price, static_cast<int64_t>(side_tag));
  const int64_t period = kMinPeriodSlots + static_cast<int64_t>(p % (kMaxPeriodSlots - kMinPeriodSlots));
  const int64_t phase = static_cast<int64_t>((p >> 32) % static_cast<uint64_t>(period));
  const int64_t epoch = floor_div(slot + phase, period);
  const uint64_t h = hash3(spec.seed, side_tag, price, epoch);
  if (h % 8 == 0) return 0;
  return lot * (1 + static_cast<int64_t>((h >> 8) % 200));
}

// The reference price (ticks) of `slot`: the close of the last whole second before the slot ends.
int64_t reference_price(const SymbolMarket& market, int64_t slot) {
  const SymbolSpec& spec = market.spec();
  const int64_t slot_end = spec.listing_ms() + (slot + 1) * kDepthSlotMs;
  const int64_t second = floor_div(slot_end, 1000) * 1000 - 1000;
  if (second >= spec.listing_ms()) {
    if (auto k = market.kline_at(Interval::k1s, second, slot_end)) return k->close;
  }
  return std::max<int64_t>(1, std::llround(spec.base_price * static_cast<double>(pow10(spec.tick_decimals))));
}

}  // namespace

int64_t last_depth_slot(const SymbolSpec& spec, int64_t now_ms) {
  return std::max<int64_t>(-1, floor_div(now_ms - spec.listing_ms(), kDepthSlotMs) - 1);
}

int64_t depth_update_id(const SymbolSpec& spec, int64_t slot) {
  if (slot < 0) return base_update_id(spec) - 1;
  const auto h = static_cast<int64_t>(hash3(spec.seed, kTagUpdateIds, slot) % kUpdatesPerSlot);
  return base_update_id(spec) + slot * kUpdatesPerSlot + h;
}

std::optional<int64_t> depth_slot_of(const SymbolSpec& spec, int64_t update_id) {
  if (update_id == base_update_id(spec) - 1) return -1;
  const int64_t rel = update_id - base_update_id(spec);
  if (rel < 0) return std::nullopt;
  const int64_t slot = rel / kUpdatesPerSlot;
  if (depth_update_id(spec, slot) != update_id) return std::nullopt;
  return slot;
}

void order_book_at(const SymbolMarket& market, int64_t slot, OrderBook& out) {
  const SymbolSpec& spec = market.spec();
  out.slot = std::max<int64_t>(-1, slot);
  out.last_update_id = depth_update_id(spec, out.slot);
  out.bids.clear();
  out.asks.clear();
  if (out.slot < 0) return;
  const int64_t reference = reference_price(market, out.slot);
  const int64_t lot = lot_steps(spec);
  for (int64_t i = 1; i <= kBookLevels; ++i) {
    const int64_t price = reference - i;
    if (price <= 0) break;
    if (int64_t q = level_qty(spec, kTagBid, price, out.slot, lot); q > 0) out.bids.push_back({price, q});
  }
  for (int64_t i = 1; i <= kBookLevels; ++i) {
    const int64_t price = reference + i;
    if (int64_t q = level_qty(spec, kTagAsk, price, out.slot, lot); q > 0) out.asks.push_back({price, q});
  }
}

namespace {

// Both sides sorted best first; `better(a, b)`: price a comes before price b.
template <typename Better>
void diff_side(const std::vector<BookLevel>& before, const std::vector<BookLevel>& after,
               std::vector<BookLevel>& out, Better better) {
  out.clear();
  size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size() || (i < before.size() && better(before[i].price, after[j].price))) {
      out.push_back({before[i++].price, 0});
    } else if (i == before.size() || better(after[j].price, before[i].price)) {
      out.push_back(after[j++]);
    } else {
      if (before[i].qty != after[j].qty) out.push_back(after[j]);
      ++i;
      ++j;
    }
  }
}

}  // namespace

void diff_books(const OrderBook& before, const OrderBook& after, std::vector<BookLevel>& bids,
                std::vector<BookLevel>& asks) {
  diff_side(before.bids, after.bids, bids, [](int64_t a, int64_t b) { return a > b; });
  diff_side(before.asks, after.asks, asks, [](int64_t a, int64_t b) { return a < b; });
}

void append_levels_json(std::string& out, const SymbolMarket& market, const std::vector<BookLevel>& levels,
                        int limit) {
  const SymbolSpec& spec = market.spec();
  const size_t n = limit < 0 ? levels.size() : std::min(levels.size(), static_cast<size_t>(limit));
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    out += "[\"";
    append_decimal(out, levels[i].price, spec.tick_decimals);
    out += "\",\"";
    append_decimal(out, levels[i].qty, spec.step_decimals);
    out += "\"]";
  }
  out += ']';
}

}  // namespace sf::exchange::sim
