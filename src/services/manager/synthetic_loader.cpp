// Synthetic candles for workflows that run without an exchange, and candle-grid arithmetic.
#include "services/manager/synthetic_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "core/splitmix64.h"
#include "protocol/records.h"

namespace sf::services {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMondayOffsetMs = 4 * kDayMs;  // 1970-01-01 was a Thursday; weekly klines open on Mondays

int64_t ceil_to(int64_t t, int64_t step, int64_t offset) {
  const int64_t shifted = t - offset;
  int64_t q = shifted / step;                   // truncates toward zero: the ceiling for negative values
  if (shifted > 0 && shifted % step != 0) ++q;  // and the floor for positive ones
  return q * step + offset;
}

std::string cents(int64_t value) {
  return fmt::format("{}.{:02}", value / 100, value % 100);
}

protocol::Kline make_candle(const std::string& symbol, protocol::Interval interval, TimestampMs open_time) {
  protocol::Kline k;
  k.open_time = open_time;
  k.close_time = protocol::next_open_time(interval, open_time) - 1;
  k.symbol = symbol;
  k.interval = std::string(protocol::interval_name(interval));
  const uint64_t r = splitmix64(static_cast<uint64_t>(open_time));
  const int64_t open = 5'000'000 + static_cast<int64_t>(r % 2'000'000);  // 50000.00 .. 69999.99
  const int64_t close = open + static_cast<int64_t>((r >> 21) % 20'001) - 10'000;
  const int64_t high = std::max(open, close) + static_cast<int64_t>((r >> 36) % 5'000);
  const int64_t low = std::min(open, close) - static_cast<int64_t>((r >> 50) % 5'000);
  const int64_t volume = 1'000 + static_cast<int64_t>((r >> 13) % 1'000'000);
  k.open = protocol::Decimal::parse(cents(open)).value();
  k.close = protocol::Decimal::parse(cents(close)).value();
  k.high = protocol::Decimal::parse(cents(high)).value();
  k.low = protocol::Decimal::parse(cents(low)).value();
  k.volume = protocol::Decimal::parse(cents(volume)).value();
  k.quote_asset_volume = protocol::Decimal::parse(cents(volume * (open / 100))).value();
  k.number_of_trades = 100 + static_cast<int64_t>((r >> 7) % 5'000);
  k.taker_buy_base_asset_volume = protocol::Decimal::parse(cents(volume / 2)).value();
  k.taker_buy_quote_asset_volume = protocol::Decimal::parse(cents(volume / 2 * (open / 100))).value();
  return k;
}

}  // namespace

TimestampMs first_open_time(protocol::Interval interval, TimestampMs t) {
  if (interval == protocol::Interval::k1M) {
    // t itself when it is the first of a month at midnight, else the first of the next month.
    using namespace std::chrono;
    const auto day = floor<days>(sys_time<milliseconds>(milliseconds(t)));
    const year_month_day ymd{day};
    const sys_days first{ymd.year() / ymd.month() / std::chrono::day{1}};
    const TimestampMs month_start = duration_cast<milliseconds>(first.time_since_epoch()).count();
    return month_start == t ? t : protocol::next_open_time(interval, month_start);
  }
  const int64_t step = *protocol::interval_ms(interval);
  const int64_t offset = interval == protocol::Interval::k1w ? kMondayOffsetMs : 0;
  return ceil_to(t, step, offset);
}

std::optional<int64_t> candle_count(protocol::Interval interval, const TimeRange& range) {
  if (!range.end_ms) return std::nullopt;
  const TimestampMs first = first_open_time(interval, range.start_ms);
  if (first >= *range.end_ms) return 0;
  if (auto step = protocol::interval_ms(interval)) return (*range.end_ms - first + *step - 1) / *step;
  int64_t n = 0;
  for (TimestampMs t = first; t < *range.end_ms; t = protocol::next_open_time(interval, t)) ++n;
  return n;
}

std::optional<int64_t> expected_records(std::string_view type, std::string_view time_range) {
  auto parsed = protocol::parse_workflow_type(type);
  if (!parsed || parsed->kind != protocol::DataKind::kCandles || !parsed->interval) return std::nullopt;
  if (parsed->source == protocol::Source::kWs) return std::nullopt;  // live: no fixed end of data
  auto range = parse_time_range(time_range);
  if (!range) return std::nullopt;
  return candle_count(*parsed->interval, *range);
}

Status SyntheticCandleLoaderJob::run(JobContext& ctx) {
  const auto& start = ctx.command();
  auto type = protocol::parse_workflow_type(start.type);
  if (!type) return type.status();
  if (type->kind != protocol::DataKind::kCandles || !type->interval) {
    return Status::invalid_argument(
        fmt::format("the synthetic loader makes candles only, not '{}' (test hook)", start.type));
  }
  auto range = parse_time_range(start.time_range);
  if (!range) return range.status();
  if (!range->end_ms) return Status::invalid_argument("the synthetic loader needs a closed time range");
  const protocol::Interval interval = *type->interval;

  SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(start.kafka_topic, bus::TopicConfig{}));
  // Resume after what an earlier run published: candles are produced in time order, so the count already in
  // the topic says where to go on.
  auto info = ctx.bus.describe_topic(start.kafka_topic);
  if (!info) return info.status();
  int64_t done = 0;
  for (const auto& p : info->partitions) done += p.log_end_offset;
  const int64_t total = candle_count(interval, *range).value_or(0);

  TimestampMs next = first_open_time(interval, range->start_ms);
  for (int64_t i = 0; i < done && next < *range->end_ms; ++i) next = protocol::next_open_time(interval, next);

  std::vector<std::string> keys, docs;
  std::vector<bus::OutgoingRecord> records;
  while (next < *range->end_ms) {
    if (ctx.stop_requested()) return Status::cancelled(fmt::format("stopped after {} candles", done));
    keys.clear();
    docs.clear();
    for (int64_t n = 0; n < options_.batch && next < *range->end_ms; ++n) {
      protocol::Kline k = make_candle(start.symbol, interval, next);
      keys.push_back(protocol::record_key(k));
      docs.emplace_back();
      protocol::append_document(k, docs.back());
      next = protocol::next_open_time(interval, next);
    }
    records.assign(docs.size(), bus::OutgoingRecord{});
    for (size_t i = 0; i < docs.size(); ++i) {
      records[i].key = keys[i];
      records[i].value = docs[i];
    }
    auto produced = ctx.bus.produce(start.kafka_topic, records);
    if (!produced) return produced.status();
    done += static_cast<int64_t>(docs.size());
    (void)ctx.telemetry.progress(done, fmt::format("Published {} of {} synthetic candles", done, total));
    if (options_.batch_delay.count() > 0) std::this_thread::sleep_for(options_.batch_delay);
  }
  ctx.telemetry.set_records_written(done);
  ctx.result_message = fmt::format("Published {} synthetic candles", done);
  return Status::ok();
}

void register_synthetic_loaders(JobRegistry& registry, SyntheticLoaderOptions options) {
  auto factory = [options] { return std::make_unique<SyntheticCandleLoaderJob>(options); };
  registry.add(protocol::Worker::kRestLoader, factory);
  registry.add(protocol::Worker::kBulkLoader, factory);
}

}  // namespace sf::services
