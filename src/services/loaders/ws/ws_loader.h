// The WebSocket loader (`streamforge job loader-ws`; loader-* targets with ws_ types): follows a live Binance
// market stream into the workflow's data topic until `stop`. The public header of services/loaders/ws/.
//
//   ws_trades              <symbol>@trade      -> trade records, key trade_id
//   ws_agg_trades          <symbol>@aggTrade   -> aggregate-trade records, key agg_trade_id
//   ws_candles_<interval>  <symbol>@kline_<iv> -> closed candles (`x`:true), key open_time; with the start
//                                                 command's extra `partial_candles: true` also the open
//                                                 candle's updates (the same key: the last update wins)
//   ws_depth               <symbol>@depth@100ms -> diff depth events, key u (depth_follower.h)
//   ws_orderbook           <symbol>@depth@100ms -> top-N books of a local order book kept as Binance documents
//                                                 it, key lastUpdateId (depth_follower.h, local_order_book.h)
// The stream is carried by the process's StreamHub (stream_hub.h): many loaders share a connection.
//
// Continuity. The loader remembers the last id (trades, aggregate trades: contiguous on Binance) or the last
// closed candle's open time. An event at or before it is a duplicate (reconnect or renewal overlap) and is
// skipped; an event after a hole (a drop, a stall) first has the hole repaired from REST
// (/api/v3/historicalTrades fromId, /api/v3/aggTrades fromId, /api/v3/klines startTime/endTime) through the
// REST loader's budgeted, retried requester, so the stored series has no hole. The stream's first event
// starts the series (a live workflow records from the moment it starts).
//
// Bad frames (truncated JSON, missing fields) are counted, logged and copied to "<queue_id>-dlq" with the
// reason in an `error` header; the stream goes on.
//
// Telemetry: `loading` at most every telemetry.loading_interval with records_written and a message giving the
// message rate, the last event time, the lag (exchange event time E -> published, p50/max over the period),
// reconnects and repaired gaps; the same figures ride as extra fields of the event (msgs_per_s,
// last_event_time, lag_ms_p50, lag_ms_max, reconnects, repaired_gaps, repaired_records, dead_lettered).
// The job runs until a `stop` (-> `stopped`, everything received published) or an unrecoverable error.
#pragma once

#include <chrono>
#include <memory>

#include "net/http_client.h"
#include "services/job/job.h"
#include "services/loaders/rest_requester.h"
#include "services/loaders/weight_budget.h"
#include "services/loaders/ws/stream_hub.h"

namespace sf::services {

struct WsLoaderOptions {
  // The hub carrying the stream; null = the process-wide one of settings.exchange_ws_url.
  std::shared_ptr<loaders::StreamHub> hub;
  // Gap repair over REST (settings.exchange_rest_url): the weight budget (null = the process-wide one of the
  // URL), retries and HTTP options.
  std::shared_ptr<loaders::WeightBudget> budget;
  loaders::RetryOptions retry;
  net::HttpClientOptions http = [] {
    net::HttpClientOptions o;
    o.request_timeout = std::chrono::seconds(10);
    return o;
  }();
  size_t max_batch = 4096;  // records per produce() at most
  // After a quiet period, wait this long for more frames before publishing the first: under load one
  // wake-up and one produce() carry a burst of frames instead of one each, at the cost of at most this much
  // latency (exchange event time -> published).
  std::chrono::milliseconds linger{5};
};

class WsLoaderJob final : public Job {
 public:
  WsLoaderJob() = default;
  explicit WsLoaderJob(WsLoaderOptions options) : options_(std::move(options)) {}
  Status run(JobContext& ctx) override;

 private:
  WsLoaderOptions options_;
};

std::unique_ptr<Job> make_ws_loader_job();

}  // namespace sf::services
