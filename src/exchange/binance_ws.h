// One WebSocket connection to Binance's market streams (the real exchange over wss://, exchange-sim over
// ws://), on Boost.Beast: connect, TLS (OpenSSL, SNI, peer verification), handshake, a read loop handing
// every text frame to a callback, a write queue for SUBSCRIBE/UNSUBSCRIBE frames. Pings from the exchange are
// answered with pongs by Beast as they arrive (Binance drops a client that does not pong within a minute).
// A connection on which nothing arrives for `idle_timeout` (not even the exchange's pings) is considered
// stalled and closed with kTimeout, so that its owner reconnects.
//
// What the frames mean (combined-stream envelopes, replies) is the caller's business: see
// services/loaders/ws/stream_hub.h.
//
// Threading: the connection runs on the io_context passed to create(), on a strand of its own; callbacks run
// there, one at a time. send() and close() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "core/status.h"
#include "net/url.h"

namespace sf::exchange {

struct StreamConnectionOptions {
  std::chrono::milliseconds connect_timeout{10'000};  // resolve + TCP + TLS + WebSocket handshake
  std::chrono::milliseconds idle_timeout{50'000};  // nothing received for this long: stalled (Binance pings
                                                   // every 20 s, so a healthy connection never idles 50 s)
  bool verify_peer = true;                         // TLS: verify the certificate chain and the host name
  std::string ca_file;                             // TLS: PEM bundle; empty = the system store
  size_t max_message_bytes = 16 * 1024 * 1024;     // larger frames close the connection
};

struct StreamConnectionHandlers {
  std::function<void()> on_open;                        // the handshake succeeded
  std::function<void(std::string&& frame)> on_message;  // one text frame (moved out: keep it if needed)
  std::function<void(const Status& why)> on_close;      // exactly once, also when the connect failed
};

class StreamConnection {
 public:
  // `url`: ws:// or wss:// with the target to open, e.g. "wss://stream.binance.com:9443/stream?streams=a/b".
  static Result<std::shared_ptr<StreamConnection>> create(boost::asio::io_context& ioc, std::string_view url,
                                                          StreamConnectionOptions options,
                                                          StreamConnectionHandlers handlers);
  virtual ~StreamConnection() = default;

  // Connects; the handlers report what happens.
  virtual void start() = 0;
  // Queues a text frame (dropped when the connection is not open).
  virtual void send(std::string text) = 0;
  // Closing handshake, then on_close(OK).
  virtual void close() = 0;
};

}  // namespace sf::exchange
