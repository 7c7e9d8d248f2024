// Diff depth streams of the simulator (see depth_stream.h).
#include "exchange/sim/ws/depth_stream.h"

#include <algorithm>
#include <charconv>

namespace sf::exchange::sim::ws {
namespace {

constexpr int kMaxEventsPerProduce = 100;

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

}  // namespace

DepthStream::DepthStream(const SymbolMarket& market, int speed_ms, int64_t now_ms)
    : market_(market), slots_per_event_(std::max<int64_t>(1, speed_ms / kDepthSlotMs)) {
  const int64_t last = last_depth_slot(market.spec(), now_ms);
  order_book_at(market_, last, pushed_);
  next_slot_ = last + 1;
}

void DepthStream::produce(int64_t now_ms, std::vector<std::string>& out, const std::function<bool()>& skip) {
  const int64_t last = last_depth_slot(market_.spec(), now_ms);
  // Events end on slot groups aligned to the stream's speed (a 1000 ms stream: at whole seconds).
  const int64_t last_end = (last + 1) / slots_per_event_ * slots_per_event_ - 1;
  int events = 0;
  while (next_slot_ <= last_end) {
    int64_t end = (next_slot_ / slots_per_event_ + 1) * slots_per_event_ - 1;
    if (++events >= kMaxEventsPerProduce) end = last_end;
    push(end, now_ms, out, skip && skip());
  }
}

void DepthStream::push(int64_t last_slot, int64_t now_ms, std::vector<std::string>& out, bool skipped) {
  order_book_at(market_, last_slot, next_);
  if (!skipped) {
    diff_books(pushed_, next_, bids_, asks_);
    std::string& p = out.emplace_back();
    p.reserve(96 + (bids_.size() + asks_.size()) * 40);
    p += "{\"e\":\"depthUpdate\",\"E\":";
    append_int(p, now_ms);
    p += ",\"s\":\"";
    p += market_.spec().name;
    p += "\",\"U\":";
    append_int(p, pushed_.last_update_id + 1);
    p += ",\"u\":";
    append_int(p, next_.last_update_id);
    p += ",\"b\":";
    append_levels_json(p, market_, bids_);
    p += ",\"a\":";
    append_levels_json(p, market_, asks_);
    p += '}';
  }
  std::swap(pushed_, next_);
  next_slot_ = last_slot + 1;
}

}  // namespace sf::exchange::sim::ws
