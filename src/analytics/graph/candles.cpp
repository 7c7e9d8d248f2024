// Reading a set of symbols' stored candles onto one regular time grid.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "analytics/graph/graph.h"
#include "protocol/naming.h"
#include "protocol/records.h"

namespace sf::analytics {
namespace {

constexpr protocol::Source kCandleSources[] = {protocol::Source::kApi, protocol::Source::kBulk,
                                               protocol::Source::kWs};

// "btcusdt_api_candles_1h_": the seed's collection name without its date.
Result<std::string> collection_prefix(std::string_view symbol, protocol::Source source,
                                      protocol::Interval interval) {
  protocol::WorkflowType type{source, protocol::DataKind::kCandles, interval};
  auto name = protocol::collection_name(symbol, type, 0);
  if (!name) return name.status();
  constexpr size_t kDateLength = 10;  // "1970_01_01"
  return name->substr(0, name->size() - kDateLength);
}

void resize_series(CandleSeries& s, size_t slots) {
  s.present.assign(slots, 0);
  s.log_return.assign(slots, 0.0);
  s.log_volume.assign(slots, 0.0);
  s.log_trades.assign(slots, 0.0);
  s.taker_share.assign(slots, 0.5);
}

}  // namespace

Result<std::vector<std::string>> candle_collections(store::Store& store, std::string_view symbol,
                                                    protocol::Interval interval) {
  auto all = store.list_collections();
  if (!all) return all.status();
  std::vector<std::string> out;
  for (protocol::Source source : kCandleSources) {
    auto prefix = collection_prefix(symbol, source, interval);
    if (!prefix) return prefix.status();
    for (const auto& info : *all) {
      if (info.name.size() > prefix->size() && info.name.compare(0, prefix->size(), *prefix) == 0) {
        out.push_back(info.name);
      }
    }
  }
  return out;
}

Result<CandleGrid> load_candles(store::Store& store, const std::vector<std::string>& symbols,
                                protocol::Interval interval, TimestampMs from, TimestampMs to) {
  const auto iv = protocol::interval_ms(interval);
  if (!iv) return Status::invalid_argument("candle grid: interval 1M has no fixed length");
  CandleGrid grid;
  grid.interval_ms = *iv;
  grid.start_ms = from - ((from % *iv) + *iv) % *iv;  // floor to the grid, negative times included
  grid.slots = to > grid.start_ms ? static_cast<size_t>((to - grid.start_ms + *iv - 1) / *iv) : 0;
  grid.series.resize(symbols.size());

  protocol::RecordParser parser;
  protocol::Kline kline;
  std::vector<std::string> missing;
  const std::string from_key = std::to_string(std::max<TimestampMs>(grid.start_ms, 0));
  const std::string to_key = std::to_string(to);
  for (size_t i = 0; i < symbols.size(); ++i) {
    CandleSeries& s = grid.series[i];
    s.symbol = symbols[i];
    resize_series(s, grid.slots);
    auto collections = candle_collections(store, symbols[i], interval);
    if (!collections) return collections.status();
    for (const std::string& collection : *collections) {
      grid.collections.push_back(collection);
      store::ScanOptions scan;
      scan.from_key = from_key;
      scan.to_key = to_key;
      Status scanned = store.scan(collection, scan, [&](std::string_view key, std::string_view doc) {
        if (Status parsed = parser.parse_document(doc, kline); !parsed) {
          if (grid.corrupt_documents++ < 10) {
            spdlog::warn("graph: {} document '{}' skipped: {}", collection, key, parsed.message());
          }
          return true;
        }
        if (kline.open_time < grid.start_ms || kline.open_time >= to ||
            (kline.open_time - grid.start_ms) % *iv != 0) {
          return true;  // off the grid: not a candle of this interval
        }
        const auto slot = static_cast<size_t>((kline.open_time - grid.start_ms) / *iv);
        if (s.present[slot]) return true;  // the same candle from another backfill
        const double open = kline.open.to_double();
        const double close = kline.close.to_double();
        const double volume = kline.volume.to_double();
        if (!(open > 0) || !(close > 0) || !(volume >= 0)) {
          if (grid.corrupt_documents++ < 10) {
            spdlog::warn("graph: {} candle {} skipped: non-positive price or negative volume", collection,
                         key);
          }
          return true;
        }
        s.present[slot] = 1;
        s.log_return[slot] = std::log(close / open);
        s.log_volume[slot] = std::log(std::max(volume, 1e-12));
        s.log_trades[slot] = std::log1p(static_cast<double>(std::max<int64_t>(kline.number_of_trades, 0)));
        s.taker_share[slot] = volume > 0 ? kline.taker_buy_base_asset_volume.to_double() / volume : 0.5;
        ++s.candles;
        if (!s.first || kline.open_time < *s.first) s.first = kline.open_time;
        return true;
      });
      if (!scanned) return scanned;
    }
    if (s.candles == 0) {
      missing.push_back(
          collections->empty()
              ? fmt::format("{} (no {} candle collection)", symbols[i], protocol::interval_name(interval))
              : fmt::format("{} (none in {})", symbols[i], fmt::join(*collections, ", ")));
    }
  }
  if (!missing.empty()) {
    return Status::not_found(
        fmt::format("no {} candles stored in {} for: {}; backfill them first (workflow type api_candles_{})",
                    protocol::interval_name(interval), format_time_range(TimeRange{from, to}),
                    fmt::join(missing, "; "), protocol::interval_name(interval)));
  }
  return grid;
}

}  // namespace sf::analytics
