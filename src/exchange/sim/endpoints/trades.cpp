// GET /api/v3/trades (most recent) and GET /api/v3/historicalTrades (from an id): individual trades.
#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {
namespace {

std::string trades_json(const SymbolMarket& market, const std::vector<Trade>& trades) {
  std::string body;
  body.reserve(trades.size() * 150 + 2);
  body += '[';
  for (size_t i = 0; i < trades.size(); ++i) {
    if (i > 0) body += ',';
    market.append_trade_json(body, trades[i]);
  }
  body += ']';
  return body;
}

}  // namespace

RestReply RecentTrades::handle(const SimContext& ctx, RestParams& params) {
  const SymbolSpec* spec = nullptr;
  int limit = 500;
  if (auto e = params.symbol(ctx.symbols, spec)) return RestReply::error(*e);
  if (auto e = params.limit(500, 1000, limit)) return RestReply::error(*e);
  if (auto e = params.check_all_read()) return RestReply::error(*e);
  const SymbolMarket& market = *ctx.market.find(spec->name);
  return RestReply::ok(trades_json(market, market.recent_trades(limit, ctx.now_ms)));
}

RestReply HistoricalTrades::handle(const SimContext& ctx, RestParams& params) {
  const SymbolSpec* spec = nullptr;
  int limit = 500;
  std::optional<int64_t> from_id;
  if (auto e = params.symbol(ctx.symbols, spec)) return RestReply::error(*e);
  if (auto e = params.limit(500, 1000, limit)) return RestReply::error(*e);
  if (auto e = params.optional_long("fromId", from_id)) return RestReply::error(*e);
  if (auto e = params.check_all_read()) return RestReply::error(*e);
  const SymbolMarket& market = *ctx.market.find(spec->name);
  auto trades =
      from_id ? market.trades_from_id(*from_id, limit, ctx.now_ms) : market.recent_trades(limit, ctx.now_ms);
  return RestReply::ok(trades_json(market, trades));
}

}  // namespace sf::exchange::sim
