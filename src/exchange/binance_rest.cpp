// Binance REST client: request building and answer metadata.
#include "exchange/binance_rest.h"

#include <nlohmann/json.hpp>

#include <charconv>

namespace sf::exchange {
namespace {

template <typename T>
std::optional<T> parse_number(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  T value{};
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size()) return std::nullopt;
  return value;
}

}  // namespace

BinanceResponse interpret_binance_response(net::HttpResponse response, std::string_view request_target) {
  BinanceResponse out;
  out.http_status = response.status;
  out.used_weight = parse_number<int>(response.header("X-MBX-USED-WEIGHT-1M"));
  out.retry_after_s = parse_number<int64_t>(response.header("Retry-After"));
  out.body = std::move(response.body);
  if (out.http_status >= 200 && out.http_status < 300) return out;

  auto json = nlohmann::json::parse(out.body, nullptr, false);
  if (json.is_object() && json.contains("code") && json["code"].is_number_integer()) {
    out.binance_code = json["code"].get<int>();
    if (json.contains("msg") && json["msg"].is_string()) out.binance_msg = json["msg"].get<std::string>();
  }
  std::string message = out.binance_code
                            ? "binance " + std::to_string(*out.binance_code) + ": " + out.binance_msg
                            : "binance answered HTTP " + std::to_string(out.http_status);
  message += " (HTTP " + std::to_string(out.http_status) + ", GET " + std::string(request_target) + ")";
  ErrorCode code;
  if (out.http_status == 429 || out.http_status == 418) {
    code = ErrorCode::kRateLimited;
  } else if (out.http_status == 404) {
    code = ErrorCode::kNotFound;
  } else if (out.http_status == 504) {
    code = ErrorCode::kTimeout;
  } else if (out.http_status >= 500) {
    code = ErrorCode::kUnavailable;
  } else {
    code = ErrorCode::kInvalidArgument;
  }
  out.status = Status(code, std::move(message));
  return out;
}

Result<std::unique_ptr<BinanceRestClient>> BinanceRestClient::create(BinanceRestOptions options) {
  auto http = net::HttpClient::create(options.base_url, options.http);
  if (!http) return http.status();
  return std::make_unique<BinanceRestClient>(std::move(http).value());
}

BinanceRestClient::BinanceRestClient(std::unique_ptr<net::HttpClient> http) : http_(std::move(http)) {}

BinanceResponse BinanceRestClient::get(std::string_view path, const net::QueryBuilder& query) {
  std::string target(path);
  if (!query.empty()) target += "?" + query.str();
  auto res = http_->get(target);
  if (!res) {
    BinanceResponse out;
    out.status = res.status();
    return out;
  }
  return interpret_binance_response(std::move(res).value(), target);
}

BinanceResponse BinanceRestClient::ping() {
  return get("/api/v3/ping");
}

BinanceResponse BinanceRestClient::server_time() {
  return get("/api/v3/time");
}

BinanceResponse BinanceRestClient::exchange_info(std::optional<std::string_view> symbol) {
  net::QueryBuilder q;
  if (symbol) q.add("symbol", *symbol);
  return get("/api/v3/exchangeInfo", q);
}

BinanceResponse BinanceRestClient::get_klines(std::string_view symbol, std::string_view interval,
                                              std::optional<int64_t> start_ms, std::optional<int64_t> end_ms,
                                              std::optional<int> limit) {
  net::QueryBuilder q;
  q.add("symbol", symbol)
      .add("interval", interval)
      .add_optional("startTime", start_ms)
      .add_optional("endTime", end_ms);
  q.add_optional("limit", limit);
  return get("/api/v3/klines", q);
}

BinanceResponse BinanceRestClient::get_agg_trades(std::string_view symbol, const AggTradesQuery& query) {
  net::QueryBuilder q;
  q.add("symbol", symbol).add_optional("fromId", query.from_id).add_optional("startTime", query.start_time);
  q.add_optional("endTime", query.end_time).add_optional("limit", query.limit);
  return get("/api/v3/aggTrades", q);
}

BinanceResponse BinanceRestClient::get_trades(std::string_view symbol, std::optional<int> limit) {
  net::QueryBuilder q;
  q.add("symbol", symbol).add_optional("limit", limit);
  return get("/api/v3/trades", q);
}

BinanceResponse BinanceRestClient::get_historical_trades(std::string_view symbol,
                                                         std::optional<int64_t> from_id,
                                                         std::optional<int> limit) {
  net::QueryBuilder q;
  q.add("symbol", symbol).add_optional("limit", limit).add_optional("fromId", from_id);
  return get("/api/v3/historicalTrades", q);
}

}  // namespace sf::exchange
