// GET /api/v3/depth: the order book of order_book.h at the last visible update id.
#include <charconv>

#include "exchange/sim/endpoints.h"
#include "exchange/sim/order_book.h"

namespace sf::exchange::sim {

int Depth::weight(const RestParams& params) {
  int limit = 100;
  if (auto text = params.peek("limit")) {
    // A bad limit is refused by handle(); it still costs the smallest weight, as on Binance.
    if (std::from_chars(text->data(), text->data() + text->size(), limit).ec != std::errc{}) limit = 100;
  }
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

RestReply Depth::handle(const SimContext& ctx, RestParams& params) {
  const SymbolSpec* spec = nullptr;
  int limit = 100;
  if (auto e = params.symbol(ctx.symbols, spec)) return RestReply::error(*e);
  if (auto e = params.limit(100, 5000, limit)) return RestReply::error(*e);
  if (auto e = params.check_all_read()) return RestReply::error(*e);
  const SymbolMarket& market = *ctx.market.find(spec->name);
  OrderBook book;
  order_book_at(market, last_depth_slot(*spec, ctx.now_ms), book);
  std::string body;
  body.reserve(64 + 2 * static_cast<size_t>(std::min<int>(limit, kBookLevels)) * 40);
  body += "{\"lastUpdateId\":";
  body += std::to_string(book.last_update_id);
  body += ",\"bids\":";
  append_levels_json(body, market, book.bids, limit);
  body += ",\"asks\":";
  append_levels_json(body, market, book.asks, limit);
  body += '}';
  return RestReply::ok(std::move(body));
}

}  // namespace sf::exchange::sim
