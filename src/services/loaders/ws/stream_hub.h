// Binance combined-stream connections shared by every WebSocket loader of a process: each connection
// carries up to `max_streams_per_connection` streams (Binance: 1024), more connections open beyond that.
// Loaders subscribe a stream name ("btcusdt@trade") with a sink; the hub routes every frame of that stream
// to its sinks.
//
// Connections:
//   - opened on the hub's thread with as many streams as fit in the URL (/stream?streams=a/b/..), the rest
//     with SUBSCRIBE frames, one control frame per `control_interval` per connection (Binance allows 5
//     incoming messages a second, pings and pongs included);
//   - a connection that closes or stalls (nothing received for connection.idle_timeout) is reopened with
//     jittered exponential backoff, and its streams' sinks hear on_disconnect() (events were lost: the
//     loader repairs the gap from REST when the stream resumes);
//   - after `renew_after` (Binance closes connections at 24 h) a replacement with the same streams is
//     opened; the old one keeps delivering until `renew_overlap` after the new one is up, so nothing is
//     missed. During the overlap a sink gets some events twice: loaders de-duplicate by id / open time.
//
// Thread-safety: every method may be called from any thread. Sink callbacks run on the hub's thread, one at
// a time; they must not block (queue the frame and return) and must not call the hub.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "exchange/binance_ws.h"

namespace sf::services::loaders {

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // One frame of the stream, as received: {"stream":"<name>","data":{...}}.
  virtual void on_frame(std::string&& frame) = 0;
  // The connection carrying the stream went away (events may have been lost until it is back).
  virtual void on_disconnect(const Status& why) = 0;
};

struct StreamHubOptions {
  exchange::StreamConnectionOptions connection;     // timeouts, TLS
  int max_streams_per_connection = 1024;            // Binance's limit
  size_t max_url_streams = 200;                     // streams in the connect URL; the rest by SUBSCRIBE
  size_t max_params_per_subscribe = 200;            // streams per SUBSCRIBE frame
  std::chrono::milliseconds control_interval{250};  // between control frames of a connection (< 5/s)
  std::chrono::milliseconds renew_after{23LL * 3'600'000};  // replace a connection after this (Binance: 24 h)
  std::chrono::milliseconds renew_overlap{5'000};  // the old one lives this long after the new one opened
  std::chrono::milliseconds initial_backoff{250};  // reconnect: uniform[d/2, d], d doubling per failure
  std::chrono::milliseconds max_backoff{30'000};
};

struct StreamHubStats {
  int64_t connections_opened = 0;  // successful handshakes
  int64_t disconnects = 0;         // connections lost without being asked to close (drops, stalls, errors)
  int64_t renewals = 0;            // connections replaced before their lifetime ended
  int64_t open_connections = 0;    // now
  int64_t frames = 0;              // frames routed to sinks
};

class StreamHub {
 public:
  // `base_url`: "wss://stream.binance.com:9443" or exchange-sim's "ws://127.0.0.1:PORT".
  explicit StreamHub(std::string base_url, StreamHubOptions options = {});
  ~StreamHub();  // closes every connection and joins the thread
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // The hub every loader of this process shares for `base_url` (created on first use, default options).
  static std::shared_ptr<StreamHub> shared(std::string_view base_url);

  // Unsubscribes when destroyed (the sink hears nothing after the destructor returns).
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };
  // Starts delivering `stream` (a lower-case Binance stream name) to `sink`. InvalidArgument for an empty
  // name.
  Result<std::unique_ptr<Subscription>> subscribe(std::string stream, std::shared_ptr<StreamSink> sink);

  StreamHubStats stats() const;

  struct Impl;  // opaque; named here only so the implementation's helpers can refer to it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace sf::services::loaders
