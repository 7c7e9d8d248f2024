// GET /api/v3/aggTrades: by fromId, by a time window (either end optional), or the most recent ones.
#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {

RestReply AggTrades::handle(const SimContext& ctx, RestParams& params) {
  const SymbolSpec* spec = nullptr;
  std::optional<int64_t> from_id, start, end;
  int limit = 500;
  if (auto e = params.symbol(ctx.symbols, spec)) return RestReply::error(*e);
  if (auto e = params.optional_long("fromId", from_id)) return RestReply::error(*e);
  if (auto e = params.optional_long("startTime", start)) return RestReply::error(*e);
  if (auto e = params.optional_long("endTime", end)) return RestReply::error(*e);
  if (auto e = params.limit(500, 1000, limit)) return RestReply::error(*e);
  if (auto e = params.check_all_read()) return RestReply::error(*e);
  // fromId cannot be combined with a time window.
  if (from_id && (start || end)) return RestReply::error(api_errors::bad_parameter_combination());
  // Before 2022-12 Binance required both ends and at most one hour between them; optional here.
  if (ctx.agg_trades_max_window_ms > 0 && (start || end)) {
    if (!start || !end) return RestReply::error(api_errors::bad_parameter_combination());
    if (*end - *start > ctx.agg_trades_max_window_ms) {
      return RestReply::error(api_errors::more_than_hours(ctx.agg_trades_max_window_ms / 3'600'000));
    }
  }

  const SymbolMarket& market = *ctx.market.find(spec->name);
  std::vector<AggTrade> trades;
  if (from_id) {
    trades = market.agg_trades_from_id(*from_id, limit, ctx.now_ms);
  } else if (start || end) {
    trades = market.agg_trades_between(start, end, limit, ctx.now_ms);
  } else {
    trades = market.recent_agg_trades(limit, ctx.now_ms);
  }
  std::string body;
  body.reserve(trades.size() * 130 + 2);
  body += '[';
  for (size_t i = 0; i < trades.size(); ++i) {
    if (i > 0) body += ',';
    market.append_agg_trade_json(body, trades[i]);
  }
  body += ']';
  return RestReply::ok(std::move(body));
}

}  // namespace sf::exchange::sim
