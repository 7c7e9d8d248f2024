// Boost.Beast HTTP/1.1 server: acceptor, per-connection sessions on strands, router, WebSocket upgrade.
#include "net/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sf::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

struct Segment {
  std::string text;      // literal text, or the capture name
  bool capture = false;  // {name}
  bool rest = false;     // {name*}: the rest of the path
};

struct Route {
  std::string method;
  std::vector<Segment> segments;
  AsyncHandler handler;
  WebSocketOpenHandler ws_open;  // set for websocket routes
  int literal_count = 0;
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  if (!path.empty() && path.front() == '/') i = 1;
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

std::vector<Segment> parse_pattern(const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw Error(Status::invalid_argument("route pattern must start with '/': " + pattern));
  std::vector<Segment> segments;
  auto parts = split_path(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    Segment seg;
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      seg.capture = true;
      seg.text = std::string(p.substr(1, p.size() - 2));
      if (!seg.text.empty() && seg.text.back() == '*') {
        seg.text.pop_back();
        seg.rest = true;
        if (i + 1 != parts.size())
          throw Error(Status::invalid_argument("{name*} must be the last segment: " + pattern));
      }
      if (seg.text.empty()) throw Error(Status::invalid_argument("empty capture name in route: " + pattern));
    } else {
      seg.text = std::string(p);
    }
    segments.push_back(std::move(seg));
  }
  return segments;
}

// Matches decoded path segments against a route; fills captures on success.
bool match_route(const Route& route, const std::vector<std::string>& parts,
                 std::vector<std::pair<std::string, std::string>>& captures) {
  captures.clear();
  const auto& segs = route.segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    if (s.rest) {
      std::string rest;
      for (size_t j = i; j < parts.size(); ++j) {
        if (j > i) rest += '/';
        rest += parts[j];
      }
      if (i >= parts.size()) return false;
      captures.emplace_back(s.text, std::move(rest));
      return true;
    }
    if (i >= parts.size()) return false;
    if (s.capture) {
      if (parts[i].empty()) return false;
      captures.emplace_back(s.text, parts[i]);
    } else if (s.text != parts[i]) {
      return false;
    }
  }
  return segs.size() == parts.size();
}

std::string to_std(beast::string_view s) {
  return std::string(s.data(), s.size());
}

std::string endpoint_text(const tcp::endpoint& ep) {
  auto addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

}  // namespace

namespace detail {

// What the server keeps about a live connection so that stop() can close it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void force_close() = 0;     // any thread: closes the socket on the connection's strand
  virtual void destroy_socket() = 0;  // only while no thread runs the io_context
};

// Everything the server and its sessions share; sessions keep it alive.
struct ServerState : std::enable_shared_from_this<ServerState> {
  explicit ServerState(HttpServerOptions opts)
      : options(std::move(opts)), ioc(std::make_unique<asio::io_context>(std::max(1, options.threads))) {
    acceptor.emplace(asio::make_strand(*ioc));
  }

  HttpServerOptions options;
  std::unique_ptr<asio::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;  // reset before `ioc` (it holds a service of the io_context)
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<Route> routes;
  AsyncHandler fallback;
  std::vector<std::thread> threads;
  std::string address;
  uint16_t port = 0;
  bool listening = false;

  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> handled{0};

  std::mutex mu;  // guards connections, running_threads
  std::condition_variable threads_done;
  int running_threads = 0;
  uint64_t next_connection_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<detail::Connection>> connections;

  uint64_t register_connection(std::weak_ptr<detail::Connection> c) {
    std::lock_guard lk(mu);
    uint64_t id = ++next_connection_id;
    connections.emplace(id, std::move(c));
    return id;
  }
  void unregister_connection(uint64_t id) {
    std::lock_guard lk(mu);
    connections.erase(id);
  }
  std::vector<std::shared_ptr<detail::Connection>> live_connections() {
    std::lock_guard lk(mu);
    std::vector<std::shared_ptr<detail::Connection>> out;
    for (auto& [id, weak] : connections) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  void do_accept();
};

class WsSession final : public Connection,
                        public WebSocketConnection,
                        public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(std::shared_ptr<ServerState> state, asio::any_io_executor executor, beast::tcp_stream stream,
            HttpRequest request, http::request<http::string_body> upgrade, WebSocketOpenHandler open_handler)
      : ws_executor_(std::move(executor)),
        state_(std::move(state)),
        request_(std::move(request)),
        upgrade_(std::move(upgrade)),
        open_handler_(std::move(open_handler)) {
    ws_.emplace(std::move(stream));
    remote_address_ = request_.remote_address;
  }
  ~WsSession() override {
    if (id_ != 0) state_->unregister_connection(id_);
  }

  void start() {
    id_ = state_->register_connection(weak_from_this());
    beast::get_lowest_layer(*ws_).expires_never();
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_->read_message_max(state_->options.max_websocket_message_bytes);
    std::string server = state_->options.server_header;
    ws_->set_option(websocket::stream_base::decorator(
        [server](websocket::response_type& res) { res.set(http::field::server, server); }));
    ws_->async_accept(upgrade_, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  void send_text(std::string message) override { enqueue(std::move(message), false); }
  void send_binary(std::string message) override { enqueue(std::move(message), true); }
  void send_texts(std::vector<std::string> messages) override {
    if (state_->stopped || messages.empty()) return;
    asio::post(ws_executor_, [self = shared_from_this(), messages = std::move(messages)]() mutable {
      if (!self->open_ || self->close_requested_) return;
      for (auto& m : messages) self->queue_.emplace_back(std::move(m), false);
      self->queued_.store(self->queue_.size(), std::memory_order_relaxed);
      if (!self->writing_) self->do_write();
    });
  }

  void close() override {
    if (state_->stopped) return;
    asio::post(ws_executor_, [self = shared_from_this()] {
      self->close_requested_ = true;
      if (!self->writing_ && self->open_) self->do_close();
    });
  }
  bool is_open() const override { return open_; }
  const std::string& remote_address() const override { return remote_address_; }
  void on_message(MessageHandler handler) override { on_message_ = std::move(handler); }
  void on_close(CloseHandler handler) override { on_close_ = std::move(handler); }
  void on_pong(PongHandler handler) override { on_pong_ = std::move(handler); }
  void drop() override { force_close(); }
  size_t queued() const override { return queued_.load(std::memory_order_relaxed); }

  void ping(std::string payload) override {
    if (state_->stopped) return;
    asio::post(ws_executor_, [self = shared_from_this(), payload = std::move(payload)]() mutable {
      if (!self->ws_ || !self->open_ || self->closing_ || self->pinging_) return;
      self->pinging_ = true;
      self->ping_payload_ = websocket::ping_data(payload.substr(0, 125));
      self->ws_->async_ping(self->ping_payload_, [self](beast::error_code) { self->pinging_ = false; });
    });
  }

  void force_close() override {
    asio::post(ws_executor_, [self = shared_from_this()] {
      if (!self->ws_) return;
      beast::error_code ec;
      beast::get_lowest_layer(*self->ws_).socket().close(ec);
    });
  }
  void destroy_socket() override {
    open_ = false;
    ws_.reset();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return finish();
    open_ = true;
    try {
      open_handler_(request_, shared_from_this());
    } catch (const std::exception& e) {
      spdlog::warn("websocket open handler for {} threw: {}", request_.path, e.what());
      return finish();
    }
    open_handler_ = nullptr;
    if (on_pong_) {
      ws_->control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong && on_pong_) on_pong_(*this, std::string_view(payload.data(), payload.size()));
      });
    }
    do_read();
  }

  void do_read() {
    if (!ws_) return;
    ws_->async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec) return finish();
    std::string message = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    bool binary = !ws_->got_text();
    if (on_message_) {
      try {
        on_message_(*this, message, binary);
      } catch (const std::exception& e) {
        spdlog::warn("websocket message handler threw: {}", e.what());
      }
    }
    do_read();
  }

  void enqueue(std::string message, bool binary) {
    if (state_->stopped) return;
    asio::post(ws_executor_, [self = shared_from_this(), message = std::move(message), binary]() mutable {
      if (!self->open_ || self->close_requested_) return;
      self->queue_.emplace_back(std::move(message), binary);
      self->queued_.store(self->queue_.size(), std::memory_order_relaxed);
      if (!self->writing_) self->do_write();
    });
  }

  void do_write() {
    if (!ws_) return;
    writing_ = true;
    ws_->binary(queue_.front().second);
    ws_->async_write(asio::buffer(queue_.front().first),
                     beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) return finish();
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_relaxed);
    if (!queue_.empty()) return do_write();
    if (close_requested_) do_close();
  }

  void do_close() {
    if (!ws_ || closing_) return;
    closing_ = true;
    ws_->async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
      // The pending read completes with `closed`, which finishes the session.
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    queue_.clear();
    if (ws_) {
      beast::error_code ec;
      beast::get_lowest_layer(*ws_).socket().close(ec);
    }
    queued_.store(0, std::memory_order_relaxed);
    auto on_close = std::move(on_close_);
    on_message_ = nullptr;
    on_pong_ = nullptr;
    on_close_ = nullptr;
    if (on_close) {
      try {
        on_close(*this);
      } catch (const std::exception& e) {
        spdlog::warn("websocket close handler threw: {}", e.what());
      }
    }
  }

  asio::any_io_executor ws_executor_;  // the strand of the connection
  std::shared_ptr<ServerState> state_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buffer_;
  HttpRequest request_;
  http::request<http::string_body> upgrade_;
  WebSocketOpenHandler open_handler_;
  MessageHandler on_message_;
  CloseHandler on_close_;
  PongHandler on_pong_;
  std::deque<std::pair<std::string, bool>> queue_;
  std::atomic<size_t> queued_{0};
  websocket::ping_data ping_payload_;
  bool pinging_ = false;
  std::string remote_address_;
  std::atomic<bool> open_{false};
  bool writing_ = false;
  bool close_requested_ = false;
  bool closing_ = false;
  bool finished_ = false;
  uint64_t id_ = 0;
};

class HttpSession final : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  enum class Delivery { kKeepAlive, kClose, kDrop };

  HttpSession(std::shared_ptr<ServerState> state, tcp::socket socket)
      : state_(std::move(state)), executor_(socket.get_executor()) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) {
      remote_address_ = ep.address().to_string();
      remote_port_ = ep.port();
    }
    stream_.emplace(std::move(socket));
  }
  ~HttpSession() override {
    if (id_ != 0) state_->unregister_connection(id_);
  }

  void start() {
    id_ = state_->register_connection(weak_from_this());
    asio::dispatch(executor_, beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
  }

  asio::any_io_executor executor() const { return executor_; }

  // From a Responder, on any thread.
  void deliver(HttpResponse response, Delivery how) {
    if (state_->stopped) return;
    asio::post(executor_, [self = shared_from_this(), response = std::move(response), how]() mutable {
      self->on_deliver(std::move(response), how);
    });
  }

  void force_close() override {
    asio::post(executor_, [self = shared_from_this()] { self->close_now(); });
  }
  void destroy_socket() override { stream_.reset(); }

 private:
  void do_read() {
    if (!stream_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(state_->options.max_body_bytes);
    stream_->expires_after(state_->options.read_timeout);
    http::async_read(*stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == asio::error::operation_aborted) return;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == beast::error::timeout) {
      return close_now();
    }
    if (ec == http::error::header_limit) return reject(431, "request header fields too large");
    if (ec == http::error::body_limit) return reject(413, "request body too large");
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category()) {
      return reject(400, std::string("malformed request: ") + ec.message());
    }
    if (ec) return close_now();  // reset by peer and other socket errors
    handle_request();
  }

  void handle_request() {
    auto& msg = parser_->get();
    version_ = msg.version();
    request_ = HttpRequest{};
    request_.method = to_std(msg.method_string());
    request_.target = to_std(msg.target());
    request_.remote_address = remote_address_;
    request_.remote_port = remote_port_;
    request_.keep_alive = msg.keep_alive();
    keep_alive_ = request_.keep_alive;
    for (const auto& field : msg) request_.headers.add(to_std(field.name_string()), to_std(field.value()));
    request_.body = std::move(msg.body());

    std::string_view target = request_.target;
    if (target.empty() || target.front() != '/')
      return reject(400, "request target must be an absolute path");
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    if (q != std::string_view::npos) request_.raw_query = std::string(target.substr(q + 1));
    auto path = percent_decode(raw_path, false);
    if (!path) return reject(400, "malformed path: " + path.status().message());
    request_.path = std::move(path).value();
    auto query = parse_query(request_.raw_query);
    if (!query) return reject(400, "malformed query: " + query.status().message());
    request_.query = std::move(query).value();

    std::vector<std::string> parts;
    for (std::string_view raw : split_path(raw_path)) {
      auto decoded = percent_decode(raw, false);
      if (!decoded) return reject(400, "malformed path segment");
      parts.push_back(std::move(decoded).value());
    }

    const Route* found = nullptr;
    std::string allow;
    std::vector<std::pair<std::string, std::string>> captures;
    int best_literals = -1;
    for (const Route& route : state_->routes) {
      std::vector<std::pair<std::string, std::string>> caps;
      if (!match_route(route, parts, caps)) continue;
      if (route.method != request_.method) {
        if (allow.find(route.method) == std::string::npos)
          allow += (allow.empty() ? "" : ", ") + route.method;
        continue;
      }
      if (route.literal_count > best_literals) {
        best_literals = route.literal_count;
        found = &route;
        captures = std::move(caps);
      }
    }
    state_->handled++;

    if (found == nullptr) {
      if (state_->fallback) return invoke(state_->fallback);
      HttpResponse res;
      if (!allow.empty()) {
        res.set(405, "application/json", R"({"error":"method not allowed"})");
        res.headers.set("Allow", allow);
      } else {
        res.set(404, "application/json", R"({"error":"not found"})");
      }
      awaiting_response_ = true;
      return on_deliver(std::move(res), Delivery::kKeepAlive);
    }
    request_.path_params = std::move(captures);

    if (found->ws_open) {
      if (!websocket::is_upgrade(msg)) {
        HttpResponse res;
        res.set(426, "text/plain", "WebSocket upgrade required\n");
        res.headers.set("Upgrade", "websocket");
        awaiting_response_ = true;
        return on_deliver(std::move(res), Delivery::kKeepAlive);
      }
      stream_->expires_never();
      auto ws = std::make_shared<WsSession>(state_, executor_, std::move(*stream_), std::move(request_),
                                            parser_->release(), found->ws_open);
      stream_.reset();
      ws->start();
      return;
    }
    invoke(found->handler);
  }

  void invoke(const AsyncHandler& handler) {
    awaiting_response_ = true;
    stream_->expires_never();  // the handler may take its time (long-poll); the write has its own timeout
    try {
      handler(request_, Responder(shared_from_this()));
    } catch (const std::exception& e) {
      // The Responder was destroyed during unwinding and has already queued a 500.
      spdlog::warn("handler for {} {} threw: {}", request_.method, request_.path, e.what());
    }
  }

  void on_deliver(HttpResponse res, Delivery how) {
    if (!awaiting_response_ || !stream_) return;
    awaiting_response_ = false;
    if (how == Delivery::kDrop) return close_now();
    bool close = how == Delivery::kClose || !keep_alive_;
    if (auto conn = res.headers.get("Connection"); conn && iequals(*conn, "close")) close = true;
    write(std::move(res), close);
  }

  void write(HttpResponse res, bool close) {
    response_ = {};
    response_.version(version_ == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(res.status));
    std::string_view reason = reason_phrase(res.status);
    response_.reason(beast::string_view(reason.data(), reason.size()));
    for (const auto& [name, value] : res.headers) {
      if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
          iequals(name, "Transfer-Encoding"))
        continue;
      response_.insert(name, value);
    }
    if (!res.headers.contains("Server")) response_.set(http::field::server, state_->options.server_header);
    response_.body() = std::move(res.body);
    response_.keep_alive(!close);
    response_.prepare_payload();
    stream_->expires_after(state_->options.write_timeout);
    http::async_write(*stream_, response_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), close));
  }

  void on_write(bool close, beast::error_code ec, size_t) {
    if (ec) return close_now();
    if (close) return graceful_close();
    do_read();
  }

  // An error answer, then close: the request stream can no longer be trusted.
  void reject(int status, std::string message) {
    HttpResponse res;
    res.set(status, "text/plain", std::move(message) + "\n");
    version_ = 11;
    awaiting_response_ = false;
    write(std::move(res), true);
  }

  // Half-close, then read and discard what the client still sends (bounded), so that the client sees our
  // answer instead of a reset caused by unread data.
  void graceful_close() {
    if (!stream_) return;
    beast::error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_->expires_after(std::chrono::seconds(2));
    drain_budget_ = 4 * 1024 * 1024;
    drain();
  }
  void drain() {
    if (!stream_) return;
    stream_->async_read_some(asio::buffer(drain_buf_),
                             [self = shared_from_this()](beast::error_code ec, size_t n) {
                               if (ec || n >= self->drain_budget_) return self->close_now();
                               self->drain_budget_ -= n;
                               self->drain();
                             });
  }

  void close_now() {
    if (!stream_) return;
    beast::error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_->socket().close(ec);
  }

  std::shared_ptr<ServerState> state_;
  asio::any_io_executor executor_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  HttpRequest request_;
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool awaiting_response_ = false;
  size_t drain_budget_ = 0;
  std::array<char, 8192> drain_buf_{};
  uint64_t id_ = 0;
};

}  // namespace detail

// ---- Responder ----

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (session_) {
      HttpResponse res;
      res.set(500, "application/json", R"({"error":"handler dropped the request"})");
      session_->deliver(std::move(res), detail::HttpSession::Delivery::kClose);
    }
    session_ = std::move(other.session_);
  }
  return *this;
}

Responder::~Responder() {
  if (!session_) return;
  HttpResponse res;
  res.set(500, "application/json", R"({"error":"internal error: the handler did not answer"})");
  session_->deliver(std::move(res), detail::HttpSession::Delivery::kClose);
}

void Responder::send(HttpResponse response) {
  if (!session_) return;
  auto s = std::move(session_);
  s->deliver(std::move(response), detail::HttpSession::Delivery::kKeepAlive);
}

void Responder::send_and_close(HttpResponse response) {
  if (!session_) return;
  auto s = std::move(session_);
  s->deliver(std::move(response), detail::HttpSession::Delivery::kClose);
}

void Responder::drop() {
  if (!session_) return;
  auto s = std::move(session_);
  s->deliver(HttpResponse{}, detail::HttpSession::Delivery::kDrop);
}

boost::asio::any_io_executor Responder::executor() const {
  return session_ ? session_->executor() : boost::asio::any_io_executor();
}

std::optional<std::string_view> HttpRequest::path_param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

// ---- HttpServer ----

void detail::ServerState::do_accept() {
  acceptor->async_accept(
      asio::make_strand(*ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor->is_open() || self->stopped) return;
        if (!ec) {
          self->accepted++;
          std::make_shared<detail::HttpSession>(self, std::move(socket))->start();
        } else {
          spdlog::warn("accept failed: {}", ec.message());
        }
        self->do_accept();
      });
}

HttpServer::HttpServer(HttpServerOptions options)
    : state_(std::make_shared<detail::ServerState>(std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string pattern, SyncHandler handler) {
  route_async(std::move(method), std::move(pattern),
              [handler = std::move(handler)](const HttpRequest& req, Responder r) {
                HttpResponse res;
                handler(req, res);
                r.send(std::move(res));
              });
}

void HttpServer::route_async(std::string method, std::string pattern, AsyncHandler handler) {
  Route r;
  r.method = std::move(method);
  r.segments = parse_pattern(pattern);
  for (const auto& s : r.segments) r.literal_count += s.capture ? 0 : 1;
  r.handler = std::move(handler);
  state_->routes.push_back(std::move(r));
}

void HttpServer::websocket(std::string pattern, WebSocketOpenHandler on_open) {
  Route r;
  r.method = "GET";
  r.segments = parse_pattern(pattern);
  for (const auto& s : r.segments) r.literal_count += s.capture ? 0 : 1;
  r.ws_open = std::move(on_open);
  state_->routes.push_back(std::move(r));
}

void HttpServer::set_fallback(AsyncHandler handler) {
  state_->fallback = std::move(handler);
}

Result<std::string> HttpServer::listen(std::string_view address) {
  auto& st = *state_;
  if (st.listening) return Status::failed_precondition("server is already listening on " + st.address);
  auto hp = parse_host_port(address);
  if (!hp) return hp.status();
  beast::error_code ec;
  tcp::resolver resolver(*st.ioc);
  auto results = resolver.resolve(hp->host, std::to_string(hp->port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    return Status::invalid_argument("cannot resolve listen address '" + std::string(address) +
                                    "': " + ec.message());
  tcp::endpoint ep = results.begin()->endpoint();
  st.acceptor->open(ep.protocol(), ec);
  if (!ec) st.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor->bind(ep, ec);
  if (!ec) st.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    st.acceptor->close(ignored);
    return Status::unavailable("cannot listen on " + std::string(address) + ": " + ec.message());
  }
  auto bound = st.acceptor->local_endpoint(ec);
  st.port = bound.port();
  st.address = endpoint_text(bound);
  st.listening = true;
  st.work.emplace(st.ioc->get_executor());
  st.do_accept();
  int n = std::max(1, st.options.threads);
  {
    std::lock_guard lk(st.mu);
    st.running_threads = n;
  }
  for (int i = 0; i < n; ++i) {
    st.threads.emplace_back([s = state_.get()] {
      for (;;) {
        try {
          s->ioc->run();
          break;
        } catch (const std::exception& e) {
          spdlog::error("http server thread caught: {}", e.what());
        }
      }
      std::lock_guard lk(s->mu);
      if (--s->running_threads == 0) s->threads_done.notify_all();
    });
  }
  return st.address;
}

const std::string& HttpServer::address() const {
  return state_->address;
}
uint16_t HttpServer::port() const {
  return state_->port;
}

boost::asio::any_io_executor HttpServer::executor() const {
  return state_->ioc ? boost::asio::any_io_executor(state_->ioc->get_executor())
                     : boost::asio::any_io_executor();
}

uint64_t HttpServer::connections_accepted() const {
  return state_->accepted;
}
uint64_t HttpServer::requests_handled() const {
  return state_->handled;
}

void HttpServer::stop() {
  auto& st = *state_;
  if (st.stopped.exchange(true)) return;
  if (!st.listening) return;
  asio::post(st.acceptor->get_executor(), [s = state_] {
    beast::error_code ec;
    s->acceptor->close(ec);
  });
  for (auto& c : st.live_connections()) c->force_close();
  st.work.reset();
  {
    // Let the threads finish what is in flight (closed sockets complete quickly); then force them out.
    std::unique_lock lk(st.mu);
    st.threads_done.wait_for(lk, std::chrono::seconds(2), [&] { return st.running_threads == 0; });
  }
  st.ioc->stop();
  for (auto& t : st.threads) t.join();
  st.threads.clear();
  // No thread runs the io_context now: close what is left and destroy the pending handlers, which
  // releases every session (and breaks the session -> state -> io_context -> handler cycle).
  {
    auto live = st.live_connections();
    for (auto& c : live) c->destroy_socket();
  }
  st.work.reset();
  st.acceptor.reset();
  st.ioc.reset();
}

}  // namespace sf::net
