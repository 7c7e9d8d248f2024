// Every REST endpoint of the simulator, one struct each (handlers in endpoints/<name>.cpp), registered in
// one list. Weights are Binance's current ones (developers.binance.com, spot REST market data).
// To add an endpoint: declare it here, write endpoints/<name>.cpp, append it to `AllEndpoints`.
#pragma once

#include <string_view>

#include "exchange/sim/rest_endpoint.h"

namespace sf::exchange::sim {

// GET /api/v3/ping -> {}
struct Ping {
  static constexpr std::string_view kPath = "/api/v3/ping";
  static int weight(const RestParams&) { return 1; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/time -> {"serverTime":...}
struct ServerTime {
  static constexpr std::string_view kPath = "/api/v3/time";
  static int weight(const RestParams&) { return 1; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/exchangeInfo [symbol | symbols=["A","B"] | permissions]
struct ExchangeInfo {
  static constexpr std::string_view kPath = "/api/v3/exchangeInfo";
  static int weight(const RestParams&) { return 20; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/klines symbol, interval [startTime] [endTime] [timeZone=0] [limit=500, max 1000]
struct Klines {
  static constexpr std::string_view kPath = "/api/v3/klines";
  static int weight(const RestParams&) { return 2; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/uiKlines: the same candles (the simulator has no separate "UI" view).
struct UiKlines {
  static constexpr std::string_view kPath = "/api/v3/uiKlines";
  static int weight(const RestParams&) { return 2; }
  static RestReply handle(const SimContext& ctx, RestParams& params) { return Klines::handle(ctx, params); }
};

// GET /api/v3/aggTrades symbol [fromId | startTime/endTime] [limit=500, max 1000]
struct AggTrades {
  static constexpr std::string_view kPath = "/api/v3/aggTrades";
  static int weight(const RestParams&) { return 4; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/trades symbol [limit=500, max 1000]: the most recent trades.
struct RecentTrades {
  static constexpr std::string_view kPath = "/api/v3/trades";
  static int weight(const RestParams&) { return 25; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/historicalTrades symbol [fromId] [limit=500, max 1000]
struct HistoricalTrades {
  static constexpr std::string_view kPath = "/api/v3/historicalTrades";
  static int weight(const RestParams&) { return 25; }
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

// GET /api/v3/depth symbol [limit=100, max 5000] -> {"lastUpdateId":..,"bids":[["p","q"],..],"asks":..}:
// the book of order_book.h at the last visible update id. Weight by limit: 1-100: 5, 101-500: 25,
// 501-1000: 50, 1001-5000: 250.
struct Depth {
  static constexpr std::string_view kPath = "/api/v3/depth";
  static int weight(const RestParams& params);
  static RestReply handle(const SimContext& ctx, RestParams& params);
};

template <typename... E>
struct EndpointList {
  static_assert((RestEndpoint<E> && ...), "every endpoint must satisfy RestEndpoint");
};

using AllEndpoints =
    EndpointList<Ping, ServerTime, ExchangeInfo, Klines, UiKlines, AggTrades, RecentTrades, HistoricalTrades,
                 Depth>;

}  // namespace sf::exchange::sim
