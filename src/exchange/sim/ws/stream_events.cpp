// Stream payload writers (see stream_events.h).
#include "exchange/sim/ws/stream_events.h"

#include <charconv>

namespace sf::exchange::sim::ws {
namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_head(std::string& out, std::string_view type, int64_t event_time, std::string_view symbol) {
  out += "{\"e\":\"";
  out += type;
  out += "\",\"E\":";
  append_int(out, event_time);
  out += ",\"s\":\"";
  out += symbol;
  out += '"';
}

}  // namespace

void append_trade_event(std::string& out, const SymbolMarket& market, const Trade& t, int64_t event_time) {
  const SymbolSpec& spec = market.spec();
  append_head(out, "trade", event_time, spec.name);
  out += ",\"t\":";
  append_int(out, t.id);
  out += ",\"p\":\"";
  append_decimal(out, t.price, spec.tick_decimals);
  out += "\",\"q\":\"";
  append_decimal(out, t.qty, spec.step_decimals);
  out += "\",\"T\":";
  append_int(out, t.time);
  out += t.is_buyer_maker ? ",\"m\":true" : ",\"m\":false";
  out += ",\"M\":true}";
}

void append_agg_trade_event(std::string& out, const SymbolMarket& market, const AggTrade& a,
                            int64_t event_time) {
  const SymbolSpec& spec = market.spec();
  append_head(out, "aggTrade", event_time, spec.name);
  out += ",\"a\":";
  append_int(out, a.id);
  out += ",\"p\":\"";
  append_decimal(out, a.price, spec.tick_decimals);
  out += "\",\"q\":\"";
  append_decimal(out, a.qty, spec.step_decimals);
  out += "\",\"f\":";
  append_int(out, a.first_trade_id);
  out += ",\"l\":";
  append_int(out, a.last_trade_id);
  out += ",\"T\":";
  append_int(out, a.time);
  out += a.is_buyer_maker ? ",\"m\":true" : ",\"m\":false";
  out += ",\"M\":true}";
}

void append_kline_event(std::string& out, const SymbolMarket& market, Interval interval, const Kline& k,
                        int64_t event_time, int64_t first_trade, int64_t last_trade, bool closed) {
  const SymbolSpec& spec = market.spec();
  const int td = spec.tick_decimals, sd = spec.step_decimals;
  append_head(out, "kline", event_time, spec.name);
  out += ",\"k\":{\"t\":";
  append_int(out, k.open_time);
  out += ",\"T\":";
  append_int(out, k.close_time);
  out += ",\"s\":\"";
  out += spec.name;
  out += "\",\"i\":\"";
  out += interval_name(interval);
  out += "\",\"f\":";
  append_int(out, first_trade);
  out += ",\"L\":";
  append_int(out, last_trade);
  out += ",\"o\":\"";
  append_decimal(out, k.open, td);
  out += "\",\"c\":\"";
  append_decimal(out, k.close, td);
  out += "\",\"h\":\"";
  append_decimal(out, k.high, td);
  out += "\",\"l\":\"";
  append_decimal(out, k.low, td);
  out += "\",\"v\":\"";
  append_decimal(out, k.volume, sd);
  out += "\",\"n\":";
  append_int(out, k.trades);
  out += closed ? ",\"x\":true" : ",\"x\":false";
  out += ",\"q\":\"";
  append_quote(out, k.quote_volume);
  out += "\",\"V\":\"";
  append_decimal(out, k.taker_buy_base, sd);
  out += "\",\"Q\":\"";
  append_quote(out, k.taker_buy_quote);
  out += "\",\"B\":\"0\"}}";
}

void append_combined(std::string& out, std::string_view stream, std::string_view payload) {
  out += "{\"stream\":\"";
  out += stream;
  out += "\",\"data\":";
  out += payload;
  out += '}';
}

}  // namespace sf::exchange::sim::ws
