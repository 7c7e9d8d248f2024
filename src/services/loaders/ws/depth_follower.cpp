// Diff depth stream -> stored events or book snapshots (see depth_follower.h).
#include "services/loaders/ws/depth_follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sf::services::loaders {

DepthFollower::DepthFollower(std::string symbol, DepthFollowerOptions options, DepthDocumentSink sink)
    : symbol_(std::move(symbol)), options_(options), sink_(std::move(sink)) {}

Status DepthFollower::on_frame(std::string_view frame, int64_t& event_time) {
  SF_RETURN_IF_ERROR(parser_.parse_update(frame, update_));
  event_time = update_.event_time;
  last_event_time_ = std::max(last_event_time_, update_.event_time);
  if (!options_.keep_book) {
    if (update_.final_update_id <= last_u_) return Status::ok();  // stored already
    if (last_u_ >= 0 && update_.first_update_id > last_u_ + 1) {
      ++gaps_;
      spdlog::warn("depth {}: update ids {}..{} never arrived (a diff stream cannot be repaired)", symbol_,
                   last_u_ + 1, update_.first_update_id - 1);
    }
    document_.clear();
    append_depth_event_document(document_, symbol_, update_);
    sink_(update_.final_update_id, document_);
    last_u_ = update_.final_update_id;
    return Status::ok();
  }
  const int64_t resyncs = sync_.resyncs();
  sync_.on_update(update_);
  if (sync_.resyncs() != resyncs) {
    spdlog::info("depth {}: gap before update id {} (book at {}), resyncing from a snapshot", symbol_,
                 update_.first_update_id, sync_.book().last_update_id());
  }
  if (sync_.synced()) maybe_store_book(update_.event_time);
  return Status::ok();
}

void DepthFollower::on_disconnect() {
  if (options_.keep_book) sync_.on_disconnect();
}

bool DepthFollower::needs_snapshot() const {
  return options_.keep_book && !sync_.synced() && sync_.buffered() > 0;
}

Status DepthFollower::on_snapshot(std::string_view body) {
  SF_RETURN_IF_ERROR(parser_.parse_snapshot(body, snapshot_));
  sync_.on_snapshot(snapshot_);
  if (sync_.synced()) {
    spdlog::info("depth {}: book synced at update id {} ({} bids, {} asks)", symbol_,
                 sync_.book().last_update_id(), sync_.book().bid_count(), sync_.book().ask_count());
    maybe_store_book(last_event_time_);
  }
  return Status::ok();
}

int64_t DepthFollower::sequence_gaps() const {
  return options_.keep_book ? sync_.gaps() : gaps_;
}

void DepthFollower::maybe_store_book(int64_t event_time) {
  if (event_time < next_book_due_) return;
  // Stale events (older than the snapshot the book came from) leave the book as it was: stored already.
  if (sync_.book().last_update_id() == last_stored_id_) return;
  last_stored_id_ = sync_.book().last_update_id();
  const int64_t interval = std::max<int64_t>(1, options_.snapshot_interval_ms);
  next_book_due_ = (event_time / interval + 1) * interval;
  sync_.book().top(options_.top_levels, top_bids_, top_asks_);
  document_.clear();
  append_book_document(document_, symbol_, event_time, sync_.book().last_update_id(), top_bids_, top_asks_);
  sink_(sync_.book().last_update_id(), document_);
  ++books_stored_;
}

}  // namespace sf::services::loaders
