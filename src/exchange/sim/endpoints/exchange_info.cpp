// GET /api/v3/exchangeInfo: rate limits and the symbols with their filters (tick size, step size).
#include <nlohmann/json.hpp>

#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {
namespace {

using Json = nlohmann::ordered_json;

std::string decimal_text(int64_t units, int decimals) {
  std::string s;
  append_decimal(s, units, decimals);
  return s;
}

Json symbol_json(const SymbolSpec& s) {
  static const Json kOrderTypes = {"LIMIT",           "LIMIT_MAKER", "MARKET",           "STOP_LOSS",
                                   "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"};
  static const Json kStpModes = {"NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"};
  std::string tick = decimal_text(1, s.tick_decimals);
  std::string step = decimal_text(1, s.step_decimals);
  Json filters = Json::array();
  filters.push_back({{"filterType", "PRICE_FILTER"},
                     {"minPrice", tick},
                     {"maxPrice", decimal_text(100'000'000LL * 10'000, 4)},
                     {"tickSize", tick}});
  filters.push_back({{"filterType", "LOT_SIZE"},
                     {"minQty", step},
                     {"maxQty", decimal_text(9'000'000'000LL, 0)},
                     {"stepSize", step}});
  filters.push_back({{"filterType", "ICEBERG_PARTS"}, {"limit", 10}});
  filters.push_back({{"filterType", "MARKET_LOT_SIZE"},
                     {"minQty", decimal_text(0, 0)},
                     {"maxQty", decimal_text(1'000'000LL, 0)},
                     {"stepSize", decimal_text(0, 0)}});
  filters.push_back({{"filterType", "NOTIONAL"},
                     {"minNotional", decimal_text(5, 0)},
                     {"applyMinToMarket", true},
                     {"maxNotional", decimal_text(9'000'000LL, 0)},
                     {"applyMaxToMarket", false},
                     {"avgPriceMins", 5}});
  filters.push_back({{"filterType", "MAX_NUM_ORDERS"}, {"maxNumOrders", 200}});
  filters.push_back({{"filterType", "MAX_NUM_ALGO_ORDERS"}, {"maxNumAlgoOrders", 5}});
  return Json{{"symbol", s.name},
              {"status", "TRADING"},
              {"baseAsset", s.base_asset},
              {"baseAssetPrecision", 8},
              {"quoteAsset", s.quote_asset},
              {"quotePrecision", 8},
              {"quoteAssetPrecision", 8},
              {"baseCommissionPrecision", 8},
              {"quoteCommissionPrecision", 8},
              {"orderTypes", kOrderTypes},
              {"icebergAllowed", true},
              {"ocoAllowed", true},
              {"otoAllowed", true},
              {"quoteOrderQtyMarketAllowed", true},
              {"allowTrailingStop", true},
              {"cancelReplaceAllowed", true},
              {"isSpotTradingAllowed", true},
              {"isMarginTradingAllowed", false},
              {"filters", filters},
              {"permissions", Json::array()},
              {"permissionSets", Json::array({Json::array({"SPOT"})})},
              {"defaultSelfTradePreventionMode", "EXPIRE_MAKER"},
              {"allowedSelfTradePreventionModes", kStpModes}};
}

constexpr std::string_view kSymbolsRange = R"(^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$)";

}  // namespace

RestReply ExchangeInfo::handle(const SimContext& ctx, RestParams& params) {
  std::vector<const SymbolSpec*> selected;
  auto one = params.take("symbol");
  auto many = params.take("symbols");
  params.take("permissions");  // accepted; every simulated symbol is SPOT
  params.take("showPermissionSets");
  params.take("symbolStatus");
  if (auto e = params.check_all_read()) return RestReply::error(*e);
  if (one && many) return RestReply::error(api_errors::bad_parameter_combination());
  if (one) {
    if (one->empty()) return RestReply::error(api_errors::mandatory_missing("symbol"));
    if (!is_valid_symbol_text(*one))
      return RestReply::error(api_errors::illegal_chars("symbol", kSymbolRange));
    const SymbolSpec* s = ctx.symbols.find(*one);
    if (s == nullptr) return RestReply::error(api_errors::invalid_symbol());
    selected.push_back(s);
  } else if (many) {
    Json list = Json::parse(*many, nullptr, false);
    if (list.is_discarded() || !list.is_array()) {
      return RestReply::error(api_errors::illegal_chars("symbols", kSymbolsRange));
    }
    for (const auto& item : list) {
      if (!item.is_string() || !is_valid_symbol_text(item.get<std::string>())) {
        return RestReply::error(api_errors::illegal_chars("symbols", kSymbolsRange));
      }
      const SymbolSpec* s = ctx.symbols.find(item.get<std::string>());
      if (s == nullptr) return RestReply::error(api_errors::invalid_symbol());
      selected.push_back(s);
    }
  } else {
    for (const auto& s : ctx.symbols.all()) selected.push_back(&s);
  }

  Json info;
  info["timezone"] = "UTC";
  info["serverTime"] = ctx.now_ms;
  info["rateLimits"] = Json::array({
      {{"rateLimitType", "REQUEST_WEIGHT"},
       {"interval", "MINUTE"},
       {"intervalNum", 1},
       {"limit", ctx.weight_limit}},
      {{"rateLimitType", "ORDERS"}, {"interval", "SECOND"}, {"intervalNum", 10}, {"limit", 100}},
      {{"rateLimitType", "ORDERS"}, {"interval", "DAY"}, {"intervalNum", 1}, {"limit", 200000}},
      {{"rateLimitType", "RAW_REQUESTS"}, {"interval", "MINUTE"}, {"intervalNum", 5}, {"limit", 300000}},
  });
  info["exchangeFilters"] = Json::array();
  Json symbols = Json::array();
  for (const SymbolSpec* s : selected) symbols.push_back(symbol_json(*s));
  info["symbols"] = std::move(symbols);
  return RestReply::ok(info.dump());
}

}  // namespace sf::exchange::sim
