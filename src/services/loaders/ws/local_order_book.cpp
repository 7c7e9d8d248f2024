// Local order book and Binance's synchronisation procedure (see local_order_book.h).
#include "services/loaders/ws/local_order_book.h"

#include <algorithm>
#include <functional>

namespace sf::services::loaders {
namespace {

// `side` sorted by `before` (the best level last); sets or removes one level in place.
template <typename Before>
void set_level(std::vector<PriceLevel>& side, const PriceLevel& level, Before before) {
  auto it = std::lower_bound(side.begin(), side.end(), level.price,
                             [&](const PriceLevel& l, int64_t price) { return before(l.price, price); });
  const bool found = it != side.end() && it->price == level.price;
  if (level.qty == 0) {
    if (found) side.erase(it);
  } else if (found) {
    it->qty = level.qty;
  } else {
    side.insert(it, level);
  }
}

template <typename Before>
void load_side(std::vector<PriceLevel>& side, const std::vector<PriceLevel>& levels, Before before) {
  side.clear();
  for (const auto& l : levels) {
    if (l.qty > 0) side.push_back(l);
  }
  std::sort(side.begin(), side.end(),
            [&](const PriceLevel& a, const PriceLevel& b) { return before(a.price, b.price); });
}

void take_top(const std::vector<PriceLevel>& side, size_t n, std::vector<PriceLevel>& out) {
  out.clear();
  for (auto it = side.rbegin(); it != side.rend() && out.size() < n; ++it) out.push_back(*it);
}

}  // namespace

void LocalOrderBook::reset(const DepthSnapshot& snapshot) {
  load_side(bids_, snapshot.bids, std::less<int64_t>{});
  load_side(asks_, snapshot.asks, std::greater<int64_t>{});
  last_update_id_ = snapshot.last_update_id;
}

LocalOrderBook::Result LocalOrderBook::apply(const DepthUpdate& update) {
  if (update.final_update_id <= last_update_id_) return Result::kStale;
  if (update.first_update_id > last_update_id_ + 1) return Result::kGap;
  for (const auto& l : update.bids) set_level(bids_, l, std::less<int64_t>{});
  for (const auto& l : update.asks) set_level(asks_, l, std::greater<int64_t>{});
  last_update_id_ = update.final_update_id;
  return Result::kApplied;
}

void LocalOrderBook::top(size_t n, std::vector<PriceLevel>& bids, std::vector<PriceLevel>& asks) const {
  take_top(bids_, n, bids);
  take_top(asks_, n, asks);
}

void OrderBookSync::buffer(const DepthUpdate& update) {
  if (buffer_.size() >= max_buffered_) buffer_.pop_front();
  buffer_.push_back(update);
}

void OrderBookSync::restart(bool resync) {
  if (resync && state_ == State::kSynced) ++resyncs_;
  state_ = State::kBuffering;
  buffer_.clear();
}

OrderBookSync::Action OrderBookSync::on_update(const DepthUpdate& update) {
  if (state_ == State::kBuffering) {
    buffer(update);
    return Action::kNeedSnapshot;
  }
  switch (book_.apply(update)) {
    case LocalOrderBook::Result::kApplied:
      return Action::kNone;
    case LocalOrderBook::Result::kStale:
      ++stale_;
      return Action::kNone;
    case LocalOrderBook::Result::kGap:
      break;
  }
  ++gaps_;
  restart(/*resync=*/true);
  buffer(update);  // the first event of the new buffer
  return Action::kNeedSnapshot;
}

OrderBookSync::Action OrderBookSync::on_snapshot(const DepthSnapshot& snapshot) {
  ++snapshots_;
  if (state_ == State::kSynced) return Action::kNone;  // not asked for
  if (buffer_.empty()) {
    ++rejected_snapshots_;  // nothing to check it against: wait for events, then fetch again
    return Action::kNeedSnapshot;
  }
  if (snapshot.last_update_id < buffer_.front().first_update_id - 1) {
    ++rejected_snapshots_;  // older than the buffer: the events in between are unknown
    return Action::kNeedSnapshot;
  }
  while (!buffer_.empty() && buffer_.front().final_update_id <= snapshot.last_update_id) buffer_.pop_front();
  if (!buffer_.empty() && buffer_.front().first_update_id > snapshot.last_update_id + 1) {
    // The buffer itself has a hole right after the snapshot: start over.
    ++rejected_snapshots_;
    buffer_.clear();
    return Action::kNeedSnapshot;
  }
  book_.reset(snapshot);
  state_ = State::kSynced;
  while (!buffer_.empty()) {
    const LocalOrderBook::Result r = book_.apply(buffer_.front());
    if (r == LocalOrderBook::Result::kGap) {
      ++gaps_;
      DepthUpdate first = std::move(buffer_.front());
      restart(/*resync=*/true);
      buffer_.push_back(std::move(first));
      return Action::kNeedSnapshot;
    }
    if (r == LocalOrderBook::Result::kStale) ++stale_;
    buffer_.pop_front();
  }
  return Action::kNone;
}

void OrderBookSync::on_disconnect() {
  restart(/*resync=*/true);
}

}  // namespace sf::services::loaders
