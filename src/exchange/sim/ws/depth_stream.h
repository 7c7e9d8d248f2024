// One diff depth stream of the simulator (<symbol>@depth every 1000 ms, <symbol>@depth@100ms): the book
// last pushed and the next slot, and the depthUpdate payloads of the slots that have ended since.
// Internal to exchange/sim/ws/.
//   {"e":"depthUpdate","E":..,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}
// U = the previous event's u + 1 (nothing is skipped unless a fault says so); a quantity "0" removes the
// level. Every book is order_book_at() of its slot, so applying the events to the REST snapshot gives the
// simulator's book at each event's u.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "exchange/sim/order_book.h"

namespace sf::exchange::sim::ws {

class DepthStream {
 public:
  // Starts at the present: the first event is the first update after `now_ms`.
  DepthStream(const SymbolMarket& market, int speed_ms, int64_t now_ms);

  // Appends one payload per `speed_ms` of exchange time ended since the last call (at most a bounded number
  // per call; after a long pause the rest comes merged into one event). `skip()` is asked once per event:
  // true loses the event, so the next one starts after a hole in the update ids (the sequence-gap fault).
  void produce(int64_t now_ms, std::vector<std::string>& out, const std::function<bool()>& skip);

 private:
  void push(int64_t last_slot, int64_t now_ms, std::vector<std::string>& out, bool skipped);

  const SymbolMarket& market_;
  int64_t slots_per_event_;
  int64_t next_slot_;
  OrderBook pushed_;  // the book at next_slot_ - 1
  OrderBook next_;
  std::vector<BookLevel> bids_, asks_;  // the diff being written
};

}  // namespace sf::exchange::sim::ws
