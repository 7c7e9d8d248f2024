// The WebSocket side of exchange-sim: Binance's market streams on the simulator's listener.
//
//   /ws/<stream>                    one raw stream: payloads as they are
//   /stream?streams=a/b/c           combined streams: {"stream":"<name>","data":<payload>} (also /stream
//   alone) streams: <symbol>@trade, @aggTrade, @kline_<interval>, @depth, @depth@100ms (symbols lower case;
//   depth: ws/depth_stream.h, books of order_book.h, the same as /api/v3/depth) live control frames:
//   {"method":"SUBSCRIBE"|"UNSUBSCRIBE","params":[..],"id":N} -> {"result":null,"id":N};
//   {"method":"LIST_SUBSCRIPTIONS","id":N} -> {"result":[..],"id":N}; errors as Binance sends them:
//   {"error":{"code":3,"msg":"Invalid JSON: .."},"id":null}, {"error":{"code":2,"msg":"Invalid request: .."},
//   "id":N}.
// Limits, as Binance: at most `max_incoming_per_second` incoming messages (JSON frames and pongs) per second
// (beyond: disconnected), at most `max_streams` streams per connection (a SUBSCRIBE beyond is refused), a
// ping every `ping_interval` and a disconnect when no pong came for `pong_timeout`, connections closed after
// `lifetime` (24 h on Binance; seconds in tests, to exercise renewal).
//
// Consistency with REST: events come from the same SymbolMarket as the REST endpoints. A trade or aggregate
// trade is pushed once its second has ended (when REST starts returning it), with the same id, price,
// quantity and time; a kline stream pushes the open candle every `kline_update_ms` of exchange time
// (`x`:false) and each candle once it has closed (`x`:true, equal to what /api/v3/klines returns). A new
// subscriber starts at the present: what happened before it subscribed (or while it was disconnected) is
// only on REST. `E` is the exchange clock when the event is pushed.
//
// Faults (set_faults, or exchange-sim flags): abrupt drops, stalls (a connection silently gets nothing for a
// while, its events are lost), malformed frames (truncated JSON), bursts (events held back and released
// together), sequence gaps in the diff depth streams (lost depthUpdate events).
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "exchange/sim/market_data.h"
#include "exchange/sim/symbols.h"
#include "net/http_server.h"

namespace sf::exchange::sim {

struct StreamFaultOptions {
  double drop_rate = 0;       // per connection and second of real time: chance of an abrupt TCP drop
  double stall_rate = 0;      // per connection and second: chance of a stall of `stall_ms`
  int stall_ms = 3000;        // how long a stall lasts (events meanwhile are lost for that connection)
  double malformed_rate = 0;  // per pushed message: chance it is truncated JSON
  int burst_ms = 0;           // > 0: every connection's events are held and sent in bursts this far apart
  double depth_gap_rate = 0;  // per depthUpdate event: chance it is lost for every subscriber (a U/u gap)
  uint64_t seed = 1;          // of the fault generator
};

struct StreamServerOptions {
  std::chrono::milliseconds tick{50};  // how often new events are computed and pushed (real time)
  std::chrono::milliseconds ping_interval{20'000};       // Binance: a ping every 20 s
  std::chrono::milliseconds pong_timeout{60'000};        // Binance: disconnected after a minute without pong
  std::chrono::milliseconds lifetime{24LL * 3'600'000};  // Binance: 24 h per connection
  int max_streams = 1024;                                // per connection
  int max_incoming_per_second = 5;                       // JSON frames + pongs per connection
  int64_t kline_update_ms = 2000;  // exchange ms between updates of an open candle (Binance: 2000; 1s: 1000)
  StreamFaultOptions faults;
};

struct StreamServerStats {
  uint64_t connections = 0;  // open now
  uint64_t accepted = 0;     // connections ever opened
  uint64_t messages = 0;     // event messages pushed (per connection)
  uint64_t dropped = 0;      // connections dropped (faults, limits, pongs, drop_all)
  uint64_t malformed = 0;    // malformed messages pushed
};

class StreamServer {
 public:
  // `market` and `symbols` must outlive the server; `clock` is the exchange clock (ms since the epoch).
  StreamServer(const SimMarket& market, const SymbolTable& symbols, std::function<int64_t()> clock,
               StreamServerOptions options = {});
  ~StreamServer();  // stop()
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Adds the /ws/{stream} and /stream routes; call before the server listens.
  void attach(net::HttpServer& server);
  // Starts / stops the thread that computes and pushes events. stop() closes every connection.
  void start();
  void stop();

  void set_faults(const StreamFaultOptions& faults);
  // Drops every open connection abruptly (no close frame): a network failure, on demand.
  void drop_all();
  StreamServerStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sf::exchange::sim
