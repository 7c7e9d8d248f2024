// Binance market-stream events (trade, aggTrade, kline) parsed into the project's records, so that a record
// from the stream and the same record repaired from REST are the same stored document. Internal to
// services/loaders/ws/.
//   trade:    t, p, q, T, m, M  (quote_quantity = p x q, 8 decimals truncated, as REST's quoteQty)
//   aggTrade: a, p, q, f, l, T, m, M
//   kline:    k.t, k.T, k.o, k.h, k.l, k.c, k.v, k.n, k.q, k.V, k.Q, k.x (closed)
// Every event carries `E`, the exchange's event time (ms).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "protocol/records.h"

namespace sf::services::loaders {

struct StreamEvent {
  int64_t event_time = 0;  // E
  protocol::Trade trade;
  protocol::AggTrade agg_trade;
  protocol::Kline kline;
  bool kline_closed = false;  // k.x
};

enum class StreamEventKind { kTrade, kAggTrade, kKline };

// Not thread-safe: one per loader. Reuses its buffers across calls.
class StreamEventParser {
 public:
  StreamEventParser(StreamEventKind kind, std::string symbol, std::string interval);
  ~StreamEventParser();

  // One frame: a combined-stream envelope {"stream":..,"data":{..}} or a raw payload. InvalidArgument naming
  // the field for anything malformed (truncated JSON, a missing or mistyped field, another event type).
  Status parse(std::string_view frame, StreamEvent& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// price x quantity, exactly, truncated to 8 decimals ("0.00123000" x "12345.67" -> "15.18517410").
// False when either is not a plain decimal or the product does not fit.
bool multiply_decimals(std::string_view a, std::string_view b, std::string& out);

}  // namespace sf::services::loaders
