// Which dump files cover a time range: monthly files for the calendar months the range covers whole, daily
// files for the days of the partly covered months (those that overlap the range). Paths follow
// data.binance.vision (spot):
//   /data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08.zip          (interval "1mo" for 1M)
//   /data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-08-01.zip
//   /data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-08-01.zip
// Intervals longer than a day (3d, 1w, 1M) have monthly files only: every month that overlaps the range.
// A candle's file is the one of its open time; a trade's the one of its time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "protocol/workflow_type.h"

namespace sf::services::loaders::bulk {

struct DumpFileRef {
  std::string path;      // URL path, "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08.zip"
  std::string name;      // the file name, "BTCUSDT-1m-2024-08.zip"
  int64_t start_ms = 0;  // the file's period [start_ms, end_ms), UTC
  int64_t end_ms = 0;
  bool monthly = true;
};

// The files for `symbol` and a bulk_ type over [start_ms, end_ms), in time order. InvalidArgument for a
// type other than bulk_candles_<iv>, bulk_trades and bulk_agg_trades, or an empty range.
Result<std::vector<DumpFileRef>> plan_dump_files(std::string_view symbol, const protocol::WorkflowType& type,
                                                 int64_t start_ms, int64_t end_ms);

}  // namespace sf::services::loaders::bulk
