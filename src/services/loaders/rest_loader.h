// The REST loader (`streamforge job loader-api`, and `loader-producer` for api_ types): backfills a
// workflow's time range from the exchange's REST market-data endpoints into its data topic. The public
// header of src/services/loaders/ for the REST side (the WebSocket and bulk loaders come in sibling files).
//
// What it does with its `start` command (symbol, type, time_range [START, END), kafka_topic):
//   api_candles_<iv>  GET /api/v3/klines?startTime=cursor&endTime=END-1&limit=1000 (endTime is inclusive on
//                     the open time), cursor = the last open time's next_open_time (calendar months for 1M),
//                     until the cursor reaches END or a page comes back short.
//   api_agg_trades    GET /api/v3/aggTrades?startTime=START&limit=1000 once, then ?fromId=last+1 until a
//                     trade at or after END (or the newest trade) is reached. Should the exchange insist on
//                     a window of at most an hour (Binance's pre-2023 rule, -1127/-1128), the first trade is
//                     searched hour by hour instead.
//   api_trades        GET /api/v3/historicalTrades?fromId=..&limit=1000 until a trade at or after END.
//                     The first id comes from one aggTrades lookup at START: the first aggregate trade at
//                     or after START names its first trade id (`f`); every trade before that id is older
//                     than START (an aggregate trade groups trades of one instant), so that id is exactly
//                     the first trade in the range.
// A candle still open on the exchange (close time in the future) is left out.
// Every record published has its time in [START, END), exactly once, in order, keyed by its natural key
// (open time, trade id, aggregate trade id); the value is the stored document (protocol/records.h). One
// produce() per page, built in one reused arena.
//
// A range the exchange has no data for (before the symbol's listing, say) completes with 0 records and a
// message saying so (it is not an error: the request was valid, the answer is empty). A bad symbol or a
// parameter the exchange refuses ends the workflow `error` with the exchange's message ("Invalid symbol.").
//
// Relaunched on a topic that already holds records (the manager restarted), it continues after the last
// complete page there: the last record of each page in each partition carries the header `sf-page-last`
// (the page's last key), and the smallest of those over the partitions' last records is a page every
// partition holds whole - the exact end when no produce() was cut short, nothing published twice. A page
// cut short in some partitions is published again (the store's upserts absorb the overlap). Records without
// the header (written by someone else): after the smallest last key. An empty partition: from START again.
//
// Pacing, retries and counts: weight_budget.h and rest_requester.h. Telemetry: `loading` with the record
// count and the request/429/retry counts; the final message repeats them.
//
// Start-command extras (optional): weight_limit (request weight per minute; default: exchangeInfo's
// REQUEST_WEIGHT, asked once per budget, 6000 if it names none; it sets the budget every loader of the
// process shares for that exchange, so the last one given wins), page_limit (rows per request, 1..1000),
// max_retries (attempts per request), max_backoff_ms.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "net/http_client.h"
#include "services/job/job.h"
#include "services/loaders/rest_requester.h"
#include "services/loaders/weight_budget.h"

namespace sf::services {

struct RestLoaderOptions {
  std::optional<int> weight_limit;  // weight per window; none = ask exchangeInfo (once per budget)
  int page_limit = 1000;            // rows per request (Binance's maximum)
  loaders::RetryOptions retry;      // see rest_requester.h
  // Timeouts, TLS verification and CA file. A request may take up to request_timeout (10 s here) before a
  // stop is noticed; every other wait (pacing, backoff, Retry-After) ends at once on stop.
  net::HttpClientOptions http = [] {
    net::HttpClientOptions o;
    o.request_timeout = std::chrono::seconds(10);
    return o;
  }();
  // The weight budget to draw from; null = the process-wide one of the exchange URL (every loader of the
  // process shares the IP's budget). Tests and benchmarks pass their own (e.g. on an accelerated clock).
  std::shared_ptr<loaders::WeightBudget> budget;
};

class RestLoaderJob final : public Job {
 public:
  RestLoaderJob() = default;
  explicit RestLoaderJob(RestLoaderOptions options) : options_(std::move(options)) {}
  Status run(JobContext& ctx) override;

 private:
  RestLoaderOptions options_;
};

std::unique_ptr<Job> make_rest_loader_job();

}  // namespace sf::services
