// The project's HTTP/1.1 server (Boost.Beast): a router over an io_context run by N threads, keep-alive,
// size limits and timeouts, handlers that answer now or later, and WebSocket upgrades on chosen routes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/status.h"
#include "net/http_message.h"
#include "net/url.h"

namespace sf::net {

struct HttpServerOptions {
  int threads = 2;                                   // io_context threads; >= 1
  size_t max_header_bytes = 16 * 1024;               // request line + fields; over it: 431 and close
  size_t max_body_bytes = 1024 * 1024;               // request body; over it: 413 and close
  std::chrono::milliseconds read_timeout{30'000};    // idle keep-alive wait and whole-request read
  std::chrono::milliseconds write_timeout{30'000};   // writing one response
  size_t max_websocket_message_bytes = 1024 * 1024;  // larger incoming WebSocket messages close the socket
  std::string server_header = "streamforge";         // `Server:` field on every response
};

// One request as a handler sees it. It stays valid until the handler's Responder is used (or, for a
// synchronous handler, until the handler returns); copy what must live longer.
struct HttpRequest {
  std::string method;     // "GET", "POST", ...
  std::string target;     // raw request target, e.g. "/api/v3/klines?symbol=BTCUSDT"
  std::string path;       // percent-decoded path, e.g. "/api/v3/klines"
  std::string raw_query;  // raw query string without '?'
  QueryParams query;      // decoded query parameters in order
  std::vector<std::pair<std::string, std::string>> path_params;  // {name} captures of the matched route
  Headers headers;
  std::string body;
  std::string remote_address;  // peer IP address, e.g. "127.0.0.1"
  uint16_t remote_port = 0;
  bool keep_alive = true;  // what the client asked for

  std::optional<std::string_view> query_param(std::string_view name) const { return find_param(query, name); }
  std::optional<std::string_view> path_param(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
};

namespace detail {
class HttpSession;
struct ServerState;
}  // namespace detail

// Completes one request, now or later, from any thread. Move-only; use it once. If it is destroyed
// without being used the client gets a 500, so an exception or a forgotten branch never hangs a client.
class Responder {
 public:
  Responder() = default;
  explicit Responder(std::shared_ptr<detail::HttpSession> session) : session_(std::move(session)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Sends the response; the connection stays open when both sides want keep-alive.
  void send(HttpResponse response);
  // Sends the response and closes the connection afterwards.
  void send_and_close(HttpResponse response);
  // Closes the connection without answering (fault injection: "the server vanished").
  void drop();
  bool valid() const { return session_ != nullptr; }
  // The executor of the connection: timers for delayed answers can run on it.
  boost::asio::any_io_executor executor() const;

 private:
  std::shared_ptr<detail::HttpSession> session_;
};

// An upgraded WebSocket connection. Thread-safe: send/close may be called from any thread; messages are
// queued and written in order. Callbacks run on the connection's strand, one at a time.
class WebSocketConnection {
 public:
  using MessageHandler = std::function<void(WebSocketConnection&, std::string_view message, bool binary)>;
  using CloseHandler = std::function<void(WebSocketConnection&)>;
  using PongHandler = std::function<void(WebSocketConnection&, std::string_view payload)>;

  virtual ~WebSocketConnection() = default;
  virtual void send_text(std::string message) = 0;
  virtual void send_binary(std::string message) = 0;
  // Queues several text messages, in order, with one hand-over to the connection's thread: a server pushing
  // many small messages (market streams) then costs one wake-up per batch, not per message.
  virtual void send_texts(std::vector<std::string> messages) {
    for (auto& m : messages) send_text(std::move(m));
  }
  // Starts the closing handshake (normal closure); on_close runs when the socket is gone.
  virtual void close() = 0;
  // Closes the TCP socket at once, without a closing handshake (the peer sees a reset or EOF): how a server
  // drops a client that broke its rules, and how a simulator fakes a network failure.
  virtual void drop() = 0;
  // Sends a ping control frame (queued behind nothing: control frames go out between messages).
  virtual void ping(std::string payload = {}) = 0;
  // Messages queued and not yet written (a slow reader makes this grow).
  virtual size_t queued() const = 0;
  virtual bool is_open() const = 0;
  virtual const std::string& remote_address() const = 0;
  // Set these in the open handler; they are read only after it returns.
  virtual void on_message(MessageHandler handler) = 0;
  virtual void on_close(CloseHandler handler) = 0;
  // Called for every pong frame received (a reply to ping() or an unsolicited one).
  virtual void on_pong(PongHandler handler) = 0;
};

using SyncHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
using AsyncHandler = std::function<void(const HttpRequest&, Responder)>;
// Called after the WebSocket handshake with the upgrade request and the new connection.
using WebSocketOpenHandler = std::function<void(const HttpRequest&, std::shared_ptr<WebSocketConnection>)>;

// Routes: a method and a path pattern of literal segments, `{name}` segments (one segment each) and an
// optional last `{name*}` capturing the rest of the path. Literal routes win over captures. No match:
// 404; a path match with another method: 405 with `Allow`.
//
// Threading: register routes before `listen`; afterwards the router is read-only. Handlers run on the
// io_context threads, so a slow synchronous handler holds one thread: use `route_async` and answer later
// for anything that waits.
class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void route(std::string method, std::string pattern, SyncHandler handler);
  void route_async(std::string method, std::string pattern, AsyncHandler handler);
  // A GET route that accepts WebSocket upgrades; a plain GET on it gets 426 Upgrade Required.
  void websocket(std::string pattern, WebSocketOpenHandler on_open);
  // Answers requests no route matches (instead of 404/405), e.g. for a catch-all proxy or a file tree.
  void set_fallback(AsyncHandler handler);

  // Binds "host:port" (port 0 picks a free one), starts the threads and returns the bound address as
  // "host:port", e.g. "127.0.0.1:40123". Call once.
  Result<std::string> listen(std::string_view address);
  // The bound address after a successful listen.
  const std::string& address() const;
  uint16_t port() const;

  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void stop();

  // The io_context's executor, for timers and work that should run on the server threads.
  boost::asio::any_io_executor executor() const;

  // Counters for tests and metrics.
  uint64_t connections_accepted() const;
  uint64_t requests_handled() const;

 private:
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace sf::net
