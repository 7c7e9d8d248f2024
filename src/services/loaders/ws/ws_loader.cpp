// The WebSocket loader job: stream -> de-duplication and gap repair -> data topic (see ws_loader.h).
#include "services/loaders/ws/ws_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "exchange/binance_rest.h"
#include "protocol/naming.h"
#include "protocol/records.h"
#include "protocol/workflow_type.h"
#include "services/loaders/ws/depth_follower.h"
#include "services/loaders/ws/stream_events.h"

namespace sf::services {
namespace {

using loaders::StreamEvent;
using loaders::StreamEventKind;
using SteadyClock = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Frames of one stream, handed from the hub's thread to the job's.
class FrameQueue final : public loaders::StreamSink {
 public:
  void on_frame(std::string&& frame) override {
    std::lock_guard lock(mu_);
    frames_.push_back(std::move(frame));
    if (frames_.size() == 1) cv_.notify_one();
  }
  void on_disconnect(const Status&) override {
    std::lock_guard lock(mu_);
    ++disconnects_;
  }
  // Swaps the waiting frames into `out` (cleared first), waiting up to `timeout` for one. After the first
  // frame of a quiet period it lingers up to `linger` for more (unless `enough` are already there): one
  // wake-up and one produce() per burst of frames rather than per frame.
  void take(std::vector<std::string>& out, std::chrono::milliseconds timeout,
            std::chrono::milliseconds linger, size_t enough) {
    out.clear();
    std::unique_lock lock(mu_);
    if (frames_.empty()) {
      cv_.wait_for(lock, timeout, [&] { return !frames_.empty(); });
      if (!frames_.empty() && frames_.size() < enough && linger.count() > 0) {
        lock.unlock();  // the hub keeps queueing meanwhile, without waking us
        std::this_thread::sleep_for(linger);
        lock.lock();
      }
    }
    out.swap(frames_);
  }
  int64_t disconnects() const {
    std::lock_guard lock(mu_);
    return disconnects_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> frames_;
  int64_t disconnects_ = 0;
};

struct Plan {
  std::string symbol;
  protocol::WorkflowType type;
  std::string interval;  // candles
  int64_t interval_ms = 0;
  std::string stream;  // "btcusdt@trade"
  std::string topic;
  std::string dlq;
  bool partial_candles = false;
  loaders::DepthFollowerOptions depth;  // ws_depth, ws_orderbook
};

// ws_depth / ws_orderbook parameters (the start command's extra fields, `workflow start --param`):
// depth_speed_ms 100 (default) or 1000; ws_orderbook also top_levels (20), snapshot_interval_ms (1000),
// snapshot_limit (1000, the REST /api/v3/depth limit).
Status plan_depth(const protocol::ControlMessage& c, const std::string& lower, Plan& p) {
  auto speed = c.extra_field<int64_t>("depth_speed_ms");
  if (!speed) return speed.status();
  const int64_t speed_ms = speed->value_or(100);
  if (speed_ms != 100 && speed_ms != 1000) {
    return Status::invalid_argument(fmt::format("loader-ws: depth_speed_ms must be 100 or 1000, not {}", speed_ms));
  }
  p.stream = lower + (speed_ms == 100 ? "@depth@100ms" : "@depth");
  p.depth.keep_book = p.type.kind == protocol::DataKind::kOrderbook;
  auto top = c.extra_field<int64_t>("top_levels");
  if (!top) return top.status();
  auto interval = c.extra_field<int64_t>("snapshot_interval_ms");
  if (!interval) return interval.status();
  auto limit = c.extra_field<int64_t>("snapshot_limit");
  if (!limit) return limit.status();
  const int64_t top_levels = top->value_or(20), interval_ms = interval->value_or(1000),
                snapshot_limit = limit->value_or(1000);
  if (top_levels < 1 || top_levels > 5000) {
    return Status::invalid_argument(fmt::format("loader-ws: top_levels must be 1..5000, not {}", top_levels));
  }
  if (interval_ms < 1) {
    return Status::invalid_argument(
        fmt::format("loader-ws: snapshot_interval_ms must be positive, not {}", interval_ms));
  }
  if (snapshot_limit < 1 || snapshot_limit > 5000) {
    return Status::invalid_argument(
        fmt::format("loader-ws: snapshot_limit must be 1..5000, not {}", snapshot_limit));
  }
  p.depth.top_levels = static_cast<size_t>(top_levels);
  p.depth.snapshot_interval_ms = interval_ms;
  p.depth.snapshot_limit = static_cast<int>(snapshot_limit);
  return Status::ok();
}

Result<Plan> make_plan(const protocol::ControlMessage& c) {
  Plan p;
  p.symbol = c.symbol;
  if (!protocol::is_valid_symbol(p.symbol)) {
    return Status::invalid_argument(fmt::format("loader-ws: invalid symbol '{}'", c.symbol));
  }
  auto type = protocol::parse_workflow_type(c.type);
  if (!type) return type.status();
  p.type = *type;
  std::string lower;
  for (char ch : p.symbol) lower += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  if (p.type.source != protocol::Source::kWs) {
    return Status::invalid_argument(fmt::format("loader-ws loads ws_ types, not '{}'", c.type));
  }
  switch (p.type.kind) {
    case protocol::DataKind::kTrades:
      p.stream = lower + "@trade";
      break;
    case protocol::DataKind::kAggTrades:
      p.stream = lower + "@aggTrade";
      break;
    case protocol::DataKind::kCandles: {
      p.interval = std::string(protocol::interval_name(*p.type.interval));
      auto ms = protocol::interval_ms(*p.type.interval);
      if (!ms)
        return Status::invalid_argument(
            "loader-ws: ws_candles_1M is not supported (months differ in length)");
      p.interval_ms = *ms;
      p.stream = lower + "@kline_" + p.interval;
      break;
    }
    case protocol::DataKind::kDepth:
    case protocol::DataKind::kOrderbook:
      SF_RETURN_IF_ERROR(plan_depth(c, lower, p));
      break;
    default:
      return Status::invalid_argument(fmt::format(
          "loader-ws loads ws_trades, ws_agg_trades, ws_candles_<interval>, ws_depth and ws_orderbook, not '{}'",
          c.type));
  }
  p.topic = c.kafka_topic;
  p.dlq = protocol::dead_letter_topic(c.queue_id);
  auto partial = c.extra_field<bool>("partial_candles");
  if (!partial) return partial.status();
  p.partial_candles = partial->value_or(false);
  return p;
}

// Builds one produce() of records in a reused arena.
class Batch {
 public:
  template <typename Record>
  void add(const Record& r) {
    const size_t key_begin = arena_.size();
    protocol::append_key(r, arena_);
    const size_t doc_begin = arena_.size();
    protocol::append_document(r, arena_);
    marks_.push_back({key_begin, doc_begin, arena_.size()});
  }
  // A document written elsewhere (the depth follower's), with its numeric key.
  void add_document(int64_t key, std::string_view document) {
    const size_t key_begin = arena_.size();
    arena_ += std::to_string(key);
    const size_t doc_begin = arena_.size();
    arena_ += document;
    marks_.push_back({key_begin, doc_begin, arena_.size()});
  }
  size_t size() const { return marks_.size(); }
  Status flush(bus::Bus& bus, const std::string& topic) {
    if (marks_.empty()) return Status::ok();
    records_.resize(marks_.size());
    const std::string_view arena(arena_);
    for (size_t i = 0; i < marks_.size(); ++i) {
      bus::OutgoingRecord& out = records_[i];
      out = bus::OutgoingRecord{};
      out.key = arena.substr(marks_[i].key_begin, marks_[i].doc_begin - marks_[i].key_begin);
      out.value = arena.substr(marks_[i].doc_begin, marks_[i].doc_end - marks_[i].doc_begin);
    }
    auto produced = bus.produce(topic, records_);
    arena_.clear();
    marks_.clear();
    if (!produced) return produced.status();
    return Status::ok();
  }

 private:
  struct Mark {
    size_t key_begin, doc_begin, doc_end;
  };
  std::string arena_;
  std::vector<Mark> marks_;
  std::vector<bus::OutgoingRecord> records_;
};

class Run {
 public:
  Run(JobContext& ctx, Plan plan, const WsLoaderOptions& options, exchange::BinanceRestClient& rest,
      loaders::WeightBudget& budget)
      : ctx_(ctx),
        plan_(std::move(plan)),
        options_(options),
        rest_(rest),
        requester_(budget, options.retry, ctx.stop, ctx.metrics),
        parser_(kind(), plan_.symbol, plan_.interval) {
    if (plan_.type.kind == protocol::DataKind::kDepth || plan_.type.kind == protocol::DataKind::kOrderbook) {
      depth_ = std::make_unique<loaders::DepthFollower>(
          plan_.symbol, plan_.depth,
          [this](int64_t key, std::string_view document) { batch_.add_document(key, document); });
    }
  }

  Status run(loaders::StreamHub& hub) {
    auto queue = std::make_shared<FrameQueue>();
    auto subscription = hub.subscribe(plan_.stream, queue);
    if (!subscription) return subscription.status();
    spdlog::info("loader-ws {}: following {}", ctx_.telemetry.identity().producer, plan_.stream);
    period_start_ = SteadyClock::now();
    std::vector<std::string> frames;
    while (!ctx_.stop_requested()) {
      queue->take(frames, ctx_.settings.poll_interval, options_.linger, options_.max_batch);
      if (depth_) SF_RETURN_IF_ERROR(follow_depth(queue->disconnects()));
      for (const auto& frame : frames) {
        SF_RETURN_IF_ERROR(handle(frame));
        if (batch_.size() >= options_.max_batch) SF_RETURN_IF_ERROR(flush());
      }
      SF_RETURN_IF_ERROR(flush());
      reconnects_ = queue->disconnects();
      report(false);
    }
    subscription->reset();  // nothing arrives after this
    queue->take(frames, std::chrono::milliseconds(0), std::chrono::milliseconds(0), 0);
    for (const auto& frame : frames) SF_RETURN_IF_ERROR(handle(frame));
    SF_RETURN_IF_ERROR(flush());
    reconnects_ = queue->disconnects();
    report(true);
    return Status::cancelled(summary());
  }

  std::string summary() const {
    return fmt::format(
        "stopped after {} records ({} messages, {} reconnects, {} gaps repaired with {} records, {} "
        "dead-lettered)",
        total_, messages_, reconnects_, gaps_, repaired_, dead_lettered_);
  }

 private:
  StreamEventKind kind() const {
    switch (plan_.type.kind) {
      case protocol::DataKind::kTrades:
        return StreamEventKind::kTrade;
      case protocol::DataKind::kAggTrades:
        return StreamEventKind::kAggTrade;
      default:
        return StreamEventKind::kKline;
    }
  }

  // ws_depth / ws_orderbook: a lost connection resyncs the book; a book waiting for its snapshot gets one
  // (at most every 250 ms: a snapshot older than the buffered events is fetched again).
  Status follow_depth(int64_t disconnects) {
    if (disconnects != depth_disconnects_) {
      depth_disconnects_ = disconnects;
      depth_->on_disconnect();
    }
    if (!depth_->needs_snapshot() || SteadyClock::now() < next_snapshot_) return Status::ok();
    next_snapshot_ = SteadyClock::now() + std::chrono::milliseconds(250);
    const int limit = depth_->options().snapshot_limit;
    const int weight = limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    return requester_.call(
        fmt::format("depth {} limit {}", plan_.symbol, limit), weight,
        [&] {
          return rest_.get("/api/v3/depth", net::QueryBuilder().add("symbol", plan_.symbol).add("limit", limit));
        },
        [&](const exchange::BinanceResponse& res) { return depth_->on_snapshot(res.body); });
  }

  Status handle_depth(const std::string& frame) {
    int64_t event_time = 0;
    Status s = depth_->on_frame(frame, event_time);
    if (!s) return dead_letter(frame, s.message());
    last_event_time_ = std::max(last_event_time_, event_time);
    pending_event_times_.push_back(event_time);
    if (depth_->needs_snapshot()) return follow_depth(depth_disconnects_);
    return Status::ok();
  }

  Status handle(const std::string& frame) {
    ++messages_;
    ++period_messages_;
    if (depth_) return handle_depth(frame);
    Status parsed = parser_.parse(frame, event_);
    if (!parsed) return dead_letter(frame, parsed.message());
    last_event_time_ = std::max(last_event_time_, event_.event_time);
    pending_event_times_.push_back(event_.event_time);
    switch (plan_.type.kind) {
      case protocol::DataKind::kTrades: {
        const int64_t id = event_.trade.trade_id;
        if (last_id_ && id <= *last_id_) return Status::ok();  // already published
        if (last_id_ && id > *last_id_ + 1) SF_RETURN_IF_ERROR(repair_trades(*last_id_ + 1, id - 1));
        batch_.add(event_.trade);
        last_id_ = id;
        return Status::ok();
      }
      case protocol::DataKind::kAggTrades: {
        const int64_t id = event_.agg_trade.agg_trade_id;
        if (last_id_ && id <= *last_id_) return Status::ok();
        if (last_id_ && id > *last_id_ + 1) SF_RETURN_IF_ERROR(repair_agg_trades(*last_id_ + 1, id - 1));
        batch_.add(event_.agg_trade);
        last_id_ = id;
        return Status::ok();
      }
      default: {
        const int64_t open = event_.kline.open_time;
        if (!event_.kline_closed) {
          if (plan_.partial_candles && (!last_id_ || open > *last_id_)) batch_.add(event_.kline);
          return Status::ok();
        }
        if (last_id_ && open <= *last_id_) return Status::ok();
        if (last_id_ && open > *last_id_ + plan_.interval_ms) {
          SF_RETURN_IF_ERROR(repair_klines(*last_id_ + plan_.interval_ms, open - 1));
        }
        batch_.add(event_.kline);
        last_id_ = open;
        return Status::ok();
      }
    }
  }

  Status dead_letter(const std::string& frame, const std::string& reason) {
    ++dead_lettered_;
    spdlog::warn("loader-ws {}: bad frame on {} dead-lettered to {}: {}", ctx_.telemetry.identity().producer,
                 plan_.stream, plan_.dlq, reason);
    const std::string source = "loader-ws " + plan_.stream;  // the headers below only view it
    const bus::Header headers[] = {bus::Header{"error", reason}, bus::Header{"source", source}};
    bus::OutgoingRecord r;
    r.value = frame;
    r.headers = headers;
    SF_RETURN_IF_ERROR(ctx_.bus.ensure_topic(plan_.dlq, bus::TopicConfig{}));
    auto produced = ctx_.bus.produce(plan_.dlq, std::span<const bus::OutgoingRecord>(&r, 1));
    if (!produced) return produced.status();
    return Status::ok();
  }

  // --- gap repair over REST; records go into the batch before the event that revealed the gap

  void repaired(int64_t n) {
    repaired_ += n;
    spdlog::info("loader-ws {}: repaired a gap of {} records on {} from REST",
                 ctx_.telemetry.identity().producer, n, plan_.stream);
  }

  Status repair_trades(int64_t from, int64_t to) {
    ++gaps_;
    int64_t n = 0;
    while (from <= to) {
      const int limit = static_cast<int>(std::min<int64_t>(1000, to - from + 1));
      SF_RETURN_IF_ERROR(requester_.call(
          fmt::format("historicalTrades {} from id {}", plan_.symbol, from), loaders::kHistoricalTradesWeight,
          [&] { return rest_.get_historical_trades(plan_.symbol, from, limit); },
          [&](const exchange::BinanceResponse& res) {
            return rest_parser_.parse_trades(res.body, plan_.symbol, trades_);
          }));
      if (trades_.empty()) break;
      for (const auto& t : trades_) {
        if (t.trade_id < from || t.trade_id > to) continue;
        batch_.add(t);
        ++n;
      }
      if (trades_.back().trade_id < from) break;
      from = trades_.back().trade_id + 1;
    }
    repaired(n);
    return Status::ok();
  }

  Status repair_agg_trades(int64_t from, int64_t to) {
    ++gaps_;
    int64_t n = 0;
    while (from <= to) {
      exchange::AggTradesQuery q;
      q.from_id = from;
      q.limit = static_cast<int>(std::min<int64_t>(1000, to - from + 1));
      SF_RETURN_IF_ERROR(requester_.call(
          fmt::format("aggTrades {} from id {}", plan_.symbol, from), loaders::kAggTradesWeight,
          [&] { return rest_.get_agg_trades(plan_.symbol, q); },
          [&](const exchange::BinanceResponse& res) {
            return rest_parser_.parse_agg_trades(res.body, plan_.symbol, aggs_);
          }));
      if (aggs_.empty()) break;
      for (const auto& a : aggs_) {
        if (a.agg_trade_id < from || a.agg_trade_id > to) continue;
        batch_.add(a);
        ++n;
      }
      if (aggs_.back().agg_trade_id < from) break;
      from = aggs_.back().agg_trade_id + 1;
    }
    repaired(n);
    return Status::ok();
  }

  // Candles opening in [from, to].
  Status repair_klines(int64_t from, int64_t to) {
    ++gaps_;
    int64_t n = 0;
    while (from <= to) {
      SF_RETURN_IF_ERROR(requester_.call(
          fmt::format("klines {} {} from {}", plan_.symbol, plan_.interval, format_utc_iso(from)),
          loaders::kKlinesWeight,
          [&] { return rest_.get_klines(plan_.symbol, plan_.interval, from, to, 1000); },
          [&](const exchange::BinanceResponse& res) {
            return rest_parser_.parse_klines(res.body, plan_.symbol, plan_.interval, klines_);
          }));
      if (klines_.empty()) break;
      for (const auto& k : klines_) {
        if (k.open_time < from || k.open_time > to) continue;
        batch_.add(k);
        ++n;
      }
      if (klines_.back().open_time < from) break;
      from = klines_.back().open_time + plan_.interval_ms;
    }
    repaired(n);
    return Status::ok();
  }

  Status flush() {
    const size_t n = batch_.size();
    if (n > 0) {
      SF_RETURN_IF_ERROR(batch_.flush(ctx_.bus, plan_.topic));
      total_ += static_cast<int64_t>(n);
      requester_.count_records(static_cast<int64_t>(n));
    }
    // Lag: exchange event time -> published, for every event of this flush.
    const int64_t now = wall_ms();
    for (int64_t e : pending_event_times_) period_lags_.push_back(now - e);
    pending_event_times_.clear();
    ctx_.telemetry.set_records_written(total_);
    return Status::ok();
  }

  void report(bool force) {
    const auto now = SteadyClock::now();
    const auto elapsed = now - period_start_;
    if (!force && elapsed < std::chrono::seconds(1)) return;
    const double seconds = std::max(1e-3, std::chrono::duration<double>(elapsed).count());
    const double rate = static_cast<double>(period_messages_) / seconds;
    int64_t p50 = 0, max = 0;
    if (!period_lags_.empty()) {
      auto mid = period_lags_.begin() + static_cast<ptrdiff_t>(period_lags_.size() / 2);
      std::nth_element(period_lags_.begin(), mid, period_lags_.end());
      p50 = *mid;
      max = *std::max_element(period_lags_.begin(), period_lags_.end());
    }
    const std::string message = fmt::format(
        "{} records; {:.0f} msg/s; last event {}; lag p50 {} ms, max {} ms; {} reconnects; {} gaps repaired "
        "({} "
        "records); {} dead-lettered",
        total_, rate, last_event_time_ > 0 ? format_utc_iso(last_event_time_) : std::string("-"), p50, max,
        reconnects_, gaps_, repaired_, dead_lettered_);
    {
      protocol::EventMessage event =
          ctx_.telemetry.make_event(protocol::WorkflowStatus::kLoading, message, total_, false);
      event.extra["msgs_per_s"] = rate;
      event.extra["last_event_time"] = last_event_time_;
      event.extra["lag_ms_p50"] = p50;
      event.extra["lag_ms_max"] = max;
      event.extra["reconnects"] = reconnects_;
      event.extra["repaired_gaps"] = gaps_;
      event.extra["repaired_records"] = repaired_;
      event.extra["dead_lettered"] = dead_lettered_;
      if (depth_) {
        event.extra["sequence_gaps"] = depth_->sequence_gaps();
        event.extra["book_resyncs"] = depth_->resyncs();
        event.extra["books_stored"] = depth_->books_stored();
      }
      const std::string value = protocol::serialize(event);
      bus::OutgoingRecord r;
      r.key = event.queue_id;
      r.value = value;
      (void)ctx_.bus.produce(kEventsTopic, std::span<const bus::OutgoingRecord>(&r, 1));
    }
    period_start_ = now;
    period_messages_ = 0;
    period_lags_.clear();
  }

  JobContext& ctx_;
  const Plan plan_;
  const WsLoaderOptions& options_;
  exchange::BinanceRestClient& rest_;
  loaders::RestRequester requester_;
  loaders::StreamEventParser parser_;
  protocol::RecordParser rest_parser_;
  StreamEvent event_;
  Batch batch_;
  std::unique_ptr<loaders::DepthFollower> depth_;  // ws_depth, ws_orderbook
  int64_t depth_disconnects_ = 0;
  SteadyClock::time_point next_snapshot_{};
  std::vector<protocol::Trade> trades_;
  std::vector<protocol::AggTrade> aggs_;
  std::vector<protocol::Kline> klines_;
  std::optional<int64_t> last_id_;  // last id published, or the last closed candle's open time
  int64_t total_ = 0, messages_ = 0, gaps_ = 0, repaired_ = 0, dead_lettered_ = 0, reconnects_ = 0;
  int64_t last_event_time_ = 0;
  std::vector<int64_t> pending_event_times_;
  std::vector<int64_t> period_lags_;
  int64_t period_messages_ = 0;
  SteadyClock::time_point period_start_;
};

}  // namespace

Status WsLoaderJob::run(JobContext& ctx) {
  auto plan = make_plan(ctx.command());
  if (!plan) return plan.status();
  SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(plan->topic, bus::TopicConfig{}));

  std::shared_ptr<loaders::StreamHub> hub =
      options_.hub ? options_.hub : loaders::StreamHub::shared(ctx.settings.exchange_ws_url);
  std::shared_ptr<loaders::WeightBudget> budget =
      options_.budget ? options_.budget : loaders::shared_weight_budget(ctx.settings.exchange_rest_url);
  exchange::BinanceRestOptions rest_options;
  rest_options.base_url = ctx.settings.exchange_rest_url;
  rest_options.http = options_.http;
  auto rest = exchange::BinanceRestClient::create(rest_options);
  if (!rest) return rest.status();

  Run run(ctx, std::move(plan).value(), options_, **rest, *budget);
  Status status = run.run(*hub);
  if (status.code() == ErrorCode::kCancelled)
    spdlog::info("loader-ws {}: {}", ctx.telemetry.identity().producer, status.message());
  return status;
}

std::unique_ptr<Job> make_ws_loader_job() {
  return std::make_unique<WsLoaderJob>();
}

}  // namespace sf::services
