// The REST loader job: paging, trimming, publishing and resuming (see rest_loader.h).
#include "services/loaders/rest_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "exchange/binance_rest.h"
#include "protocol/json_fields.h"
#include "protocol/records.h"
#include "protocol/workflow_type.h"
#include "services/loaders/page_publisher.h"

namespace sf::services {
namespace {

using loaders::find_resume_point;
using loaders::kAggTradesWeight;
using loaders::kExchangeInfoWeight;
using loaders::kHistoricalTradesWeight;
using loaders::kKlinesWeight;
using loaders::PagePublisher;
using loaders::RestRequester;
using loaders::ResumePoint;
using loaders::WeightBudget;

constexpr int64_t kHourMs = 3'600'000;
constexpr int kDefaultWeightLimit = 6000;
constexpr int64_t kDefaultWindowMs = 60'000;

// ---------------------------------------------------------------------------------------------------------
// The command

struct Plan {
  std::string symbol;
  protocol::WorkflowType type;
  std::string interval;  // candles only, as Binance spells it
  int64_t start = 0;     // inclusive, ms
  int64_t end = 0;       // exclusive, ms
  std::string topic;
  int page_limit = 1000;
  std::optional<int> weight_limit;
  loaders::RetryOptions retry;
};

Result<Plan> make_plan(const protocol::ControlMessage& c, const RestLoaderOptions& options) {
  Plan p;
  p.symbol = c.symbol;
  if (!protocol::is_valid_symbol(p.symbol)) {
    return Status::invalid_argument(fmt::format("loader-api: invalid symbol '{}'", c.symbol));
  }
  auto type = protocol::parse_workflow_type(c.type);
  if (!type) return type.status();
  p.type = *type;
  if (p.type.source != protocol::Source::kApi ||
      (p.type.kind != protocol::DataKind::kCandles && p.type.kind != protocol::DataKind::kTrades &&
       p.type.kind != protocol::DataKind::kAggTrades)) {
    return Status::invalid_argument(fmt::format(
        "loader-api loads api_candles_<interval>, api_trades and api_agg_trades, not '{}'", c.type));
  }
  if (p.type.interval) p.interval = std::string(protocol::interval_name(*p.type.interval));
  auto range = parse_time_range(c.time_range);
  if (!range) return range.status();
  if (!range->end_ms) {
    return Status::invalid_argument(
        fmt::format("loader-api needs a time range with an end, got '{}'", c.time_range));
  }
  p.start = range->start_ms;
  p.end = *range->end_ms;
  p.topic = c.kafka_topic;

  p.page_limit = options.page_limit;
  p.weight_limit = options.weight_limit;
  p.retry = options.retry;
  auto page_limit = c.extra_field<int64_t>("page_limit");
  auto weight_limit = c.extra_field<int64_t>("weight_limit");
  auto max_retries = c.extra_field<int64_t>("max_retries");
  auto max_backoff = c.extra_field<int64_t>("max_backoff_ms");
  for (const auto* r : {&page_limit, &weight_limit, &max_retries, &max_backoff}) {
    if (!*r) return r->status();
  }
  if (page_limit->has_value()) p.page_limit = static_cast<int>(std::clamp<int64_t>(**page_limit, 1, 1000));
  if (weight_limit->has_value()) {
    if (**weight_limit < 1) return Status::invalid_argument("loader-api: weight_limit must be positive");
    p.weight_limit = static_cast<int>(std::min<int64_t>(**weight_limit, std::numeric_limits<int>::max()));
  }
  if (max_retries->has_value())
    p.retry.max_attempts = static_cast<int>(std::clamp<int64_t>(**max_retries, 1, 1000));
  if (max_backoff->has_value()) {
    p.retry.max_backoff = std::chrono::milliseconds(std::max<int64_t>(1, **max_backoff));
  }
  p.page_limit = std::clamp(p.page_limit, 1, 1000);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// One run

class Run {
 public:
  Run(JobContext& ctx, Plan plan, exchange::BinanceRestClient& client, WeightBudget& budget,
      int32_t partitions)
      : ctx_(ctx),
        plan_(std::move(plan)),
        client_(client),
        budget_(budget),
        requester_(budget, plan_.retry, ctx.stop, ctx.metrics),
        publisher_(ctx.bus, plan_.topic, partitions) {}

  Status set_up_budget() {
    if (plan_.weight_limit) {
      budget_.set_limit(*plan_.weight_limit, budget_.window_ms());
      return Status::ok();
    }
    if (budget_.limit_known()) return Status::ok();
    // exchangeInfo for the one symbol: the exchange's REQUEST_WEIGHT limit (and a bad symbol fails here).
    int limit = kDefaultWeightLimit;
    int64_t window = kDefaultWindowMs;
    SF_RETURN_IF_ERROR(requester_.call(
        fmt::format("exchangeInfo for {}", plan_.symbol), kExchangeInfoWeight,
        [&] { return client_.exchange_info(plan_.symbol); },
        [&](const exchange::BinanceResponse& res) -> Status {
          auto json = protocol::Json::parse(res.body, nullptr, false);
          if (json.is_discarded() || !json.is_object()) return Status::corruption("not a JSON object");
          auto limits = json.find("rateLimits");
          if (limits == json.end() || !limits->is_array()) return Status::ok();
          for (const auto& l : *limits) {
            if (!l.is_object() || l.value("rateLimitType", "") != "REQUEST_WEIGHT") continue;
            const int64_t n = l.value("intervalNum", int64_t{1});
            const std::string unit = l.value("interval", "MINUTE");
            const int64_t unit_ms = unit == "SECOND" ? 1000
                                    : unit == "HOUR" ? kHourMs
                                    : unit == "DAY"  ? 24 * kHourMs
                                                     : 60'000;
            limit = static_cast<int>(l.value("limit", int64_t{kDefaultWeightLimit}));
            window = std::max<int64_t>(1, n) * unit_ms;
            break;
          }
          return Status::ok();
        }));
    budget_.set_limit(limit, window);
    spdlog::info("loader-api: exchange weight limit {} per {} ms", limit, window);
    return Status::ok();
  }

  Status load(const ResumePoint& resume) {
    // Continuing: what is on the topic counts. Starting over (no usable resume point): everything is
    // published again, so only this run's records count.
    total_ = resume.last_key ? resume.records : 0;
    ctx_.telemetry.set_records_written(total_);
    if (resume.last_key) {
      spdlog::info("loader-api {}: {} records already on {}, continuing after {}",
                   ctx_.telemetry.identity().producer, resume.records, plan_.topic, *resume.last_key);
    }
    switch (plan_.type.kind) {
      case protocol::DataKind::kCandles:
        return load_candles(resume.last_key);
      case protocol::DataKind::kAggTrades:
        return load_agg_trades(resume.last_key);
      default:
        return load_trades(resume.last_key);
    }
  }

  int64_t total() const { return total_; }
  int64_t published_now() const { return published_now_; }
  const loaders::RequestStats& stats() const { return requester_.stats(); }

  std::string counts() const {
    const auto& s = requester_.stats();
    return fmt::format("{} requests, weight {}, {} retries, 429s: {}, 418s: {}", s.requests, s.weight,
                       s.retries, s.rate_limited, s.banned);
  }

 private:
  Status stopped() const { return Status::cancelled(fmt::format("stopped after {} records", total_)); }
  // The exchange answered a page that does not move forward: stop rather than loop.
  Status no_progress(std::string_view endpoint, int64_t from) const {
    return Status::corruption(fmt::format("{} from {} for {}: the exchange's page does not advance past it",
                                          endpoint, from, plan_.symbol));
  }

  template <typename Record, typename Keep>
  Status publish(const std::vector<Record>& page, Keep&& keep) {
    for (const Record& r : page) {
      if (keep(r)) publisher_.add(r);
    }
    auto n = publisher_.publish();
    if (!n) return n.status();
    total_ += *n;
    published_now_ += *n;
    requester_.count_records(*n);
    (void)ctx_.telemetry.progress(total_, fmt::format("Published {} records ({})", total_, counts()));
    return Status::ok();
  }

  Status load_candles(std::optional<int64_t> last_open) {
    const protocol::Interval iv = *plan_.type.interval;
    int64_t cursor = last_open ? protocol::next_open_time(iv, *last_open) : plan_.start;
    int64_t last = last_open.value_or(std::numeric_limits<int64_t>::min());
    while (cursor < plan_.end) {
      if (ctx_.stop_requested()) return stopped();
      SF_RETURN_IF_ERROR(requester_.call(
          fmt::format("klines {} {} from {}", plan_.symbol, plan_.interval, format_utc_iso(cursor)),
          kKlinesWeight,
          [&] {
            return client_.get_klines(plan_.symbol, plan_.interval, cursor, plan_.end - 1, plan_.page_limit);
          },
          [&](const exchange::BinanceResponse& res) {
            return parser_.parse_klines(res.body, plan_.symbol, plan_.interval, klines_);
          }));
      // A candle still open on the exchange (a range reaching into the present) is not published: it would
      // still change. Only the last page can hold one; the loop then ends (the page is short).
      const int64_t now = budget_.clock().now();
      SF_RETURN_IF_ERROR(publish(klines_, [&](const protocol::Kline& k) {
        return k.open_time > last && k.open_time >= plan_.start && k.open_time < plan_.end &&
               k.close_time < now;
      }));
      if (klines_.empty()) break;
      const int64_t next = protocol::next_open_time(iv, klines_.back().open_time);
      if (next <= cursor) return no_progress("klines", cursor);
      last = klines_.back().open_time;
      cursor = next;
      if (static_cast<int>(klines_.size()) < plan_.page_limit) break;  // nothing more up to the end
    }
    return Status::ok();
  }

  Status agg_page(const exchange::AggTradesQuery& q, std::string what,
                  std::optional<int>* binance_code = nullptr) {
    return requester_.call(
        what, kAggTradesWeight,
        [&] {
          auto res = client_.get_agg_trades(plan_.symbol, q);
          if (binance_code != nullptr) *binance_code = res.binance_code;
          return res;
        },
        [&](const exchange::BinanceResponse& res) {
          return parser_.parse_agg_trades(res.body, plan_.symbol, aggs_);
        });
  }

  // aggs_ = the first aggregate trades at or after `start` (up to `limit`), or empty when there are none
  // before the end of the range.
  Status first_agg_trades(int64_t start, int limit) {
    if (!windowed_) {
      exchange::AggTradesQuery q;
      q.start_time = start;
      q.limit = limit;
      std::optional<int> code;
      Status s = agg_page(q, fmt::format("aggTrades {} from {}", plan_.symbol, format_utc_iso(start)), &code);
      if (s || s.code() != ErrorCode::kInvalidArgument || (code != -1127 && code != -1128)) return s;
      // The exchange wants both ends, at most an hour apart (Binance's rule before 2023).
      spdlog::info("loader-api: the exchange limits aggTrades windows to an hour; searching hour by hour");
      windowed_ = true;
    }
    for (int64_t from = start; from < plan_.end; from += kHourMs) {
      if (ctx_.stop_requested()) return stopped();
      exchange::AggTradesQuery q;
      q.start_time = from;
      q.end_time = std::min(from + kHourMs, plan_.end) - 1;
      q.limit = limit;
      SF_RETURN_IF_ERROR(
          agg_page(q, fmt::format("aggTrades {} from {}", plan_.symbol, format_utc_iso(from))));
      if (!aggs_.empty()) return Status::ok();
    }
    aggs_.clear();
    return Status::ok();
  }

  Status load_agg_trades(std::optional<int64_t> last_id) {
    int64_t last = last_id.value_or(-1);
    if (!last_id) {
      SF_RETURN_IF_ERROR(first_agg_trades(plan_.start, plan_.page_limit));
    }
    for (bool first = !last_id;; first = false) {
      if (ctx_.stop_requested()) return stopped();
      if (!first) {
        exchange::AggTradesQuery q;
        q.from_id = last + 1;
        q.limit = plan_.page_limit;
        SF_RETURN_IF_ERROR(agg_page(q, fmt::format("aggTrades {} from id {}", plan_.symbol, last + 1)));
      }
      SF_RETURN_IF_ERROR(publish(aggs_, [&](const protocol::AggTrade& a) {
        return a.agg_trade_id > last && a.trade_time >= plan_.start && a.trade_time < plan_.end;
      }));
      if (aggs_.empty()) break;
      if (aggs_.back().agg_trade_id <= last) return no_progress("aggTrades", last + 1);
      last = aggs_.back().agg_trade_id;
      if (aggs_.back().trade_time >= plan_.end) break;
      // A short page is the newest trade, except the first page of an hour window (that hour is done).
      if (static_cast<int>(aggs_.size()) < plan_.page_limit && !(first && windowed_)) break;
    }
    return Status::ok();
  }

  Status load_trades(std::optional<int64_t> last_id) {
    int64_t from_id = 0;
    if (last_id) {
      from_id = *last_id + 1;
    } else {
      SF_RETURN_IF_ERROR(first_agg_trades(plan_.start, 1));
      if (aggs_.empty() || aggs_.front().trade_time >= plan_.end) return Status::ok();
      from_id = aggs_.front().first_trade_id;
    }
    int64_t last = from_id - 1;
    for (;;) {
      if (ctx_.stop_requested()) return stopped();
      SF_RETURN_IF_ERROR(requester_.call(
          fmt::format("historicalTrades {} from id {}", plan_.symbol, last + 1), kHistoricalTradesWeight,
          [&] { return client_.get_historical_trades(plan_.symbol, last + 1, plan_.page_limit); },
          [&](const exchange::BinanceResponse& res) {
            return parser_.parse_trades(res.body, plan_.symbol, trades_);
          }));
      SF_RETURN_IF_ERROR(publish(trades_, [&](const protocol::Trade& t) {
        return t.trade_id > last && t.trade_time >= plan_.start && t.trade_time < plan_.end;
      }));
      if (trades_.empty()) break;
      if (trades_.back().trade_id <= last) return no_progress("historicalTrades", last + 1);
      last = trades_.back().trade_id;
      if (trades_.back().trade_time >= plan_.end) break;
      if (static_cast<int>(trades_.size()) < plan_.page_limit) break;  // the newest trade
    }
    return Status::ok();
  }

  JobContext& ctx_;
  const Plan plan_;
  exchange::BinanceRestClient& client_;
  WeightBudget& budget_;
  RestRequester requester_;
  PagePublisher publisher_;
  protocol::RecordParser parser_;
  std::vector<protocol::Kline> klines_;
  std::vector<protocol::AggTrade> aggs_;
  std::vector<protocol::Trade> trades_;
  bool windowed_ = false;
  int64_t total_ = 0;
  int64_t published_now_ = 0;
};

}  // namespace

Status RestLoaderJob::run(JobContext& ctx) {
  auto plan = make_plan(ctx.command(), options_);
  if (!plan) return plan.status();
  const std::string& url = ctx.settings.exchange_rest_url;
  std::shared_ptr<WeightBudget> budget =
      options_.budget ? options_.budget : loaders::shared_weight_budget(url);

  SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(plan->topic, bus::TopicConfig{}));
  auto resume = find_resume_point(ctx.bus, plan->topic);
  if (!resume) return resume.status();

  exchange::BinanceRestOptions client_options;
  client_options.base_url = url;
  client_options.http = options_.http;
  auto client = exchange::BinanceRestClient::create(client_options);
  if (!client) return client.status();

  const std::string range = ctx.command().time_range;
  Run run(ctx, std::move(plan).value(), **client, *budget, resume->partitions);
  Status status = run.set_up_budget();
  if (status) status = run.load(*resume);
  ctx.telemetry.set_records_written(run.total());
  if (!status) {
    if (status.code() == ErrorCode::kCancelled) {
      return Status::cancelled(fmt::format("stopped after {} records ({})", run.total(), run.counts()));
    }
    return Status(status.code(),
                  fmt::format("{} ({} records published; {})", status.message(), run.total(), run.counts()));
  }
  if (run.total() == 0) {
    ctx.result_message = fmt::format(
        "Published 0 records: the exchange has no {} data for {} in {} (before the symbol's listing, or not "
        "yet "
        "traded) ({})",
        ctx.command().type, ctx.command().symbol, range, run.counts());
  } else {
    ctx.result_message = fmt::format("Published {} records ({})", run.total(), run.counts());
  }
  spdlog::info("loader-api {}: {} ({} this run)", ctx.telemetry.identity().producer, ctx.result_message,
               run.published_now());
  return Status::ok();
}

std::unique_ptr<Job> make_rest_loader_job() {
  return std::make_unique<RestLoaderJob>();
}

}  // namespace sf::services
