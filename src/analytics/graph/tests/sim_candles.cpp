// Simulator candles into a store, through the same parser and document layout as the backfill.
#include "analytics/graph/tests/sim_candles.h"

#include <fmt/format.h>

#include "exchange/sim/market_data.h"
#include "protocol/naming.h"
#include "protocol/records.h"

namespace sf::analytics::testing {

Result<int64_t> store_sim_candles(store::Store& store, const std::vector<std::string>& symbols,
                                  protocol::Interval interval, TimestampMs from, TimestampMs to) {
  const exchange::sim::SymbolTable table(symbols);
  const exchange::sim::SimMarket market(table);
  auto sim_interval = exchange::sim::parse_interval(protocol::interval_name(interval));
  if (!sim_interval) return Status::invalid_argument("interval unknown to the simulator");
  protocol::RecordParser parser;
  std::vector<protocol::Kline> klines;
  std::vector<std::string> documents;
  int64_t written = 0;
  for (const std::string& symbol : symbols) {
    const exchange::sim::SymbolMarket* m = market.find(symbol);
    if (!m) return Status::not_found(fmt::format("simulator has no symbol '{}'", symbol));
    auto collection = protocol::collection_name(
        symbol, protocol::WorkflowType{protocol::Source::kApi, protocol::DataKind::kCandles, interval}, from);
    if (!collection) return collection.status();
    int64_t cursor = from;
    while (cursor < to) {
      exchange::sim::KlineQuery query;
      query.interval = *sim_interval;
      query.start_time = cursor;
      query.end_time = to - 1;
      query.limit = 1000;
      const auto page = m->klines(query, to);
      if (page.empty()) break;
      std::string body = "[";
      for (size_t i = 0; i < page.size(); ++i) {
        if (i) body += ',';
        m->append_kline_json(body, page[i]);
      }
      body += ']';
      SF_RETURN_IF_ERROR(parser.parse_klines(body, symbol, protocol::interval_name(interval), klines));
      documents.clear();
      for (const auto& k : klines) {
        documents.emplace_back();
        protocol::append_document(k, documents.back());
      }
      auto result = store.upsert(*collection, documents);
      if (!result) return result.status();
      written += static_cast<int64_t>(documents.size());
      cursor = page.back().open_time + 1;
    }
  }
  return written;
}

std::vector<std::string> sim_symbols(size_t count) {
  std::vector<std::string> out;
  for (const auto& spec : exchange::sim::builtin_symbols()) {
    if (out.size() == count) return out;
    if (spec.quote_asset == "USDT") out.push_back(spec.name);
  }
  for (size_t i = 0; out.size() < count; ++i) out.push_back(fmt::format("SIM{:03}USDT", i));
  return out;
}

}  // namespace sf::analytics::testing
