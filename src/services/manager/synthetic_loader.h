// A stand-in for the REST loader that needs no exchange: it publishes deterministic synthetic candles for
// the workflow's symbol, interval and time range to the data topic, like a loader would. A test hook
// (`streamforge serve --synthetic-loader`) for end-to-end tests, demos and API benchmarks on a machine
// without network; also the candle-grid arithmetic the API uses to estimate a workflow's expected records.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "core/time_range.h"
#include "protocol/workflow_type.h"
#include "services/job/job.h"

namespace sf::services {

// The first candle open time at or after `t`: Binance aligns klines to the epoch (weeks to Mondays,
// months to the first of the month, UTC).
TimestampMs first_open_time(protocol::Interval interval, TimestampMs t);

// How many candles open within [range.start_ms, range.end_ms); nullopt for an open-ended range.
std::optional<int64_t> candle_count(protocol::Interval interval, const TimeRange& range);

// The records a workflow of `type` over `time_range` should end with, when that is knowable (candles over a
// closed range); nullopt otherwise (trades, live, analytics, unparsable input).
std::optional<int64_t> expected_records(std::string_view type, std::string_view time_range);

struct SyntheticLoaderOptions {
  int64_t batch = 500;                       // candles per produce call
  std::chrono::milliseconds batch_delay{0};  // pause after each batch (to watch progress); default none
};

// Publishes the candles of [start, end) of the start command's type (api_/bulk_ candles only) to its
// kafka_topic, resuming after the records already there; reports progress; honours stop.
class SyntheticCandleLoaderJob final : public Job {
 public:
  explicit SyntheticCandleLoaderJob(SyntheticLoaderOptions options = {}) : options_(options) {}
  Status run(JobContext& ctx) override;

 private:
  SyntheticLoaderOptions options_;
};

// Registers the synthetic loader for the REST and bulk loader workers (replacing whatever was there).
void register_synthetic_loaders(JobRegistry& registry, SyntheticLoaderOptions options = {});

}  // namespace sf::services
