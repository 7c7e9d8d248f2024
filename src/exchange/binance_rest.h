// A typed client of Binance's spot REST market-data endpoints (the real exchange or exchange-sim), on
// net::HttpClient. It builds the requests and reads the answer's metadata - used weight, Retry-After,
// Binance's {code,msg} - and hands back the raw JSON body: parsing records into typed structs belongs to
// protocol/, paging and backoff to the loader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_client.h"
#include "net/url.h"

namespace sf::exchange {

struct BinanceRestOptions {
  std::string base_url = "https://api.binance.com";  // or exchange-sim's "http://127.0.0.1:PORT"
  net::HttpClientOptions http;                       // timeouts, TLS CA file, ...
};

// One answer. `status` is ok for 2xx; otherwise it says what happened, with the exchange's message:
//   transport failure (http_status == 0): the HttpClient's kUnavailable / kTimeout
//   429 or 418: kRateLimited ("... IP banned until ..." for 418); see retry_after_s
//   other 4xx:  kInvalidArgument (kNotFound for 404), e.g. "binance -1121: Invalid symbol."
//   504:        kTimeout; other 5xx: kUnavailable (both retryable for these read-only endpoints)
struct BinanceResponse {
  Status status;
  int http_status = 0;
  std::string body;                      // raw JSON as sent (also for errors)
  std::optional<int> used_weight;        // X-MBX-USED-WEIGHT-1M
  std::optional<int64_t> retry_after_s;  // Retry-After, seconds (429/418)
  std::optional<int> binance_code;       // `code` of an error body, e.g. -1121
  std::string binance_msg;               // `msg` of an error body

  bool ok() const { return status.is_ok(); }
};

struct AggTradesQuery {
  std::optional<int64_t> from_id;     // inclusive; not combinable with a time window
  std::optional<int64_t> start_time;  // ms, inclusive
  std::optional<int64_t> end_time;    // ms, inclusive
  std::optional<int> limit;           // default 500, max 1000
};

// Not thread-safe (one keep-alive connection); use one client per thread.
class BinanceRestClient {
 public:
  static Result<std::unique_ptr<BinanceRestClient>> create(BinanceRestOptions options = {});
  explicit BinanceRestClient(std::unique_ptr<net::HttpClient> http);

  BinanceResponse ping();
  BinanceResponse server_time();
  // All symbols, or one.
  BinanceResponse exchange_info(std::optional<std::string_view> symbol = std::nullopt);
  // GET /api/v3/klines: candles whose open time is in [start, end]; interval as Binance spells it ("1m").
  BinanceResponse get_klines(std::string_view symbol, std::string_view interval,
                             std::optional<int64_t> start_ms, std::optional<int64_t> end_ms,
                             std::optional<int> limit);
  BinanceResponse get_agg_trades(std::string_view symbol, const AggTradesQuery& query);
  // GET /api/v3/trades: the most recent trades.
  BinanceResponse get_trades(std::string_view symbol, std::optional<int> limit);
  // GET /api/v3/historicalTrades: trades from `from_id` (the most recent without it).
  BinanceResponse get_historical_trades(std::string_view symbol, std::optional<int64_t> from_id,
                                        std::optional<int> limit);
  // Any GET, e.g. get("/api/v3/depth", QueryBuilder().add("symbol", "BTCUSDT")).
  BinanceResponse get(std::string_view path, const net::QueryBuilder& query = {});

  net::HttpClient& http() { return *http_; }

 private:
  std::unique_ptr<net::HttpClient> http_;
};

// Reads the metadata of an HTTP answer into a BinanceResponse (exposed for tests and other clients).
BinanceResponse interpret_binance_response(net::HttpResponse response, std::string_view request_target);

}  // namespace sf::exchange
