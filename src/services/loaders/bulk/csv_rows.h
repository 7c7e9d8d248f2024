// Rows of Binance's public data dumps (data.binance.vision, spot) into market-data records: the hot path of
// the bulk loader, hand-written over the line's bytes (no allocation, no copy beyond the decimal texts the
// records keep). Columns, no header line on spot files:
//   klines:    open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_base,
//              taker_buy_quote,ignore
//   aggTrades:
//   agg_trade_id,price,quantity,first_trade_id,last_trade_id,timestamp,is_buyer_maker,is_best_match trades:
//   trade_id,price,qty,quote_qty,time,is_buyer_maker,is_best_match
// Booleans are True/False (futures files: true/false; both accepted). Times are milliseconds, or
// microseconds (spot files from 2025-01-01): a value >= 10^14 is microseconds, converted to milliseconds
// (floor) with the full value kept in the record's `*_us` field, as protocol/records.h stores it.
// A trailing '\r' is ignored. Decimal fields must be plain decimals (protocol::Decimal).
#pragma once

#include <string>
#include <string_view>

#include "protocol/records.h"

namespace sf::services::loaders::bulk {

// Each parser fills `out` from one line (without its '\n') and returns true, or returns false and sets
// `why` ("column 3 (high): not a plain decimal: 'x'"). `out.symbol` (and `interval`) are left as they are:
// set them once and reuse the record for every row.
bool parse_kline_row(std::string_view line, protocol::Kline& out, std::string& why);
bool parse_agg_trade_row(std::string_view line, protocol::AggTrade& out, std::string& why);
bool parse_trade_row(std::string_view line, protocol::Trade& out, std::string& why);

// True for a header line some mirrors add ("open_time,open,..."): its first character is not a digit.
bool is_header_row(std::string_view line);

}  // namespace sf::services::loaders::bulk
