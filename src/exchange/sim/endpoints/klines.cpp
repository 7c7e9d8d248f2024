// GET /api/v3/klines: candles whose open time lies in [startTime, endTime], Binance's 12-field arrays.
#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {
namespace {

// Only UTC is simulated; Binance accepts "0", "+00:00", "-0:00", ... for it.
bool is_utc_offset(std::string_view tz) {
  if (!tz.empty() && (tz.front() == '+' || tz.front() == '-')) tz.remove_prefix(1);
  if (tz.empty()) return false;
  for (char c : tz) {
    if (c != '0' && c != ':') return false;
  }
  return tz.front() == '0';
}

}  // namespace

RestReply Klines::handle(const SimContext& ctx, RestParams& params) {
  const SymbolSpec* spec = nullptr;
  KlineQuery q;
  if (auto e = params.symbol(ctx.symbols, spec)) return RestReply::error(*e);
  if (auto e = params.interval(q.interval)) return RestReply::error(*e);
  if (auto e = params.optional_long("startTime", q.start_time)) return RestReply::error(*e);
  if (auto e = params.optional_long("endTime", q.end_time)) return RestReply::error(*e);
  if (auto tz = params.take("timeZone"); tz && !is_utc_offset(*tz)) {
    return RestReply::error(api_errors::invalid_parameter_data("timeZone"));
  }
  if (auto e = params.limit(500, 1000, q.limit)) return RestReply::error(*e);
  if (auto e = params.check_all_read()) return RestReply::error(*e);

  const SymbolMarket& market = *ctx.market.find(spec->name);
  auto klines = market.klines(q, ctx.now_ms);
  std::string body;
  body.reserve(klines.size() * 180 + 2);
  body += '[';
  for (size_t i = 0; i < klines.size(); ++i) {
    if (i > 0) body += ',';
    market.append_kline_json(body, klines[i]);
  }
  body += ']';
  return RestReply::ok(std::move(body));
}

}  // namespace sf::exchange::sim
