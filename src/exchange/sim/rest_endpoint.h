// What one REST endpoint of the simulator is: a path, a request weight and a handler from validated
// query parameters to a reply. Endpoints are listed in endpoints.h; exchange_sim.cpp adds rate limits,
// faults and headers around them. Wire types (errors, parameter validation) live here, apart from handlers.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/sim/api_errors.h"
#include "exchange/sim/intervals.h"
#include "exchange/sim/market_data.h"
#include "exchange/sim/symbols.h"
#include "net/url.h"

namespace sf::exchange::sim {

struct RestReply {
  int status = 200;
  std::string body;  // JSON

  static RestReply ok(std::string json) { return {200, std::move(json)}; }
  static RestReply error(const ApiError& e) { return {e.http_status, e.body()}; }
};

// Query parameters with Binance's validation rules and messages. Tracks which parameters a handler read
// so that unknown ones can be refused with -1104, as Binance does.
class RestParams {
 public:
  explicit RestParams(const net::QueryParams& query) : query_(query), read_(query.size(), false) {}

  // -1101 when a parameter name repeats.
  std::optional<ApiError> check_duplicates() const;
  // -1104 when the handler did not read every parameter sent.
  std::optional<ApiError> check_all_read() const;

  // The value of `name` (marks it read).
  std::optional<std::string_view> take(std::string_view name);
  // The value without marking it read (for weights that depend on a parameter).
  std::optional<std::string_view> peek(std::string_view name) const;

  // Mandatory `symbol`: -1102 missing/empty, -1100 illegal characters, -1121 unknown.
  std::optional<ApiError> symbol(const SymbolTable& table, const SymbolSpec*& out);
  // Mandatory `interval`: -1102 missing/empty, -1120 unknown.
  std::optional<ApiError> interval(Interval& out);
  // An optional non-negative integer (ids, times): -1105 empty, -1100 not ^[0-9]{1,20}$ or too large.
  std::optional<ApiError> optional_long(std::string_view name, std::optional<int64_t>& out);
  // `limit` (default when absent): -1100 not a number, -1130 below 1; above `max_limit` it is capped.
  std::optional<ApiError> limit(int default_limit, int max_limit, int& out);

 private:
  const net::QueryParams& query_;
  std::vector<bool> read_;
};

// What a handler may use. `now_ms` is the simulator's clock for this request.
struct SimContext {
  const SymbolTable& symbols;
  const SimMarket& market;
  int64_t now_ms = 0;
  int weight_limit = 6000;
  int64_t agg_trades_max_window_ms = 0;  // 0: no limit on endTime - startTime (Binance since 2022-12)
};

// One endpoint, in the style of one-file-per-operation handlers.
template <typename E>
concept RestEndpoint = requires(const SimContext& ctx, RestParams& params, const RestParams& cparams) {
  { E::kPath } -> std::convertible_to<std::string_view>;
  { E::weight(cparams) } -> std::same_as<int>;
  { E::handle(ctx, params) } -> std::same_as<RestReply>;
};

}  // namespace sf::exchange::sim
