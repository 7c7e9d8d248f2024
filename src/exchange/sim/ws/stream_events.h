// The JSON payloads of Binance's market streams (spot, 2024+), written from the simulator's data so that
// every event matches what the REST endpoints return for the same trade or candle. Internal to
// exchange/sim/ws/.
//   trade:    {"e":"trade","E":..,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":..,"m":true,"M":true}
//             (no "b"/"a" buyer/seller order ids: Binance removed them from the payload in 2024)
//   aggTrade: {"e":"aggTrade","E":..,"s":..,"a":..,"p":..,"q":..,"f":..,"l":..,"T":..,"m":..,"M":true}
//   kline:    {"e":"kline","E":..,"s":..,"k":{"t":..,"T":..,"s":..,"i":"1m","f":..,"L":..,"o":..,"c":..,
//             "h":..,"l":..,"v":..,"n":..,"x":false,"q":..,"V":..,"Q":..,"B":"0"}}
//   depthUpdate: {"e":"depthUpdate","E":..,"s":..,"U":..,"u":..,"b":[["p","q"],..],"a":[..]}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exchange/sim/intervals.h"
#include "exchange/sim/market_data.h"

namespace sf::exchange::sim::ws {

void append_trade_event(std::string& out, const SymbolMarket& market, const Trade& t, int64_t event_time);
void append_agg_trade_event(std::string& out, const SymbolMarket& market, const AggTrade& a,
                            int64_t event_time);
// `first_trade`/`last_trade`: ids of the candle's first and last trade (-1 when it has none).
void append_kline_event(std::string& out, const SymbolMarket& market, Interval interval, const Kline& k,
                        int64_t event_time, int64_t first_trade, int64_t last_trade, bool closed);

// The combined-stream envelope: {"stream":"<name>","data":<payload>}.
void append_combined(std::string& out, std::string_view stream, std::string_view payload);

}  // namespace sf::exchange::sim::ws
