// Beast WebSocket client for Binance's market streams (see binance_ws.h).
#include "exchange/binance_ws.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <optional>

namespace sf::exchange {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One connection over a plain or a TLS stream (the only difference is the TLS handshake).
template <typename NextLayer>
class Session final : public StreamConnection, public std::enable_shared_from_this<Session<NextLayer>> {
 public:
  static constexpr bool kTls = !std::is_same_v<NextLayer, beast::tcp_stream>;

  Session(asio::io_context& ioc, net::Url url, StreamConnectionOptions options, StreamConnectionHandlers h,
          std::shared_ptr<ssl::context> tls_ctx)
      : strand_(asio::make_strand(ioc)),
        resolver_(strand_),
        url_(std::move(url)),
        options_(std::move(options)),
        handlers_(std::move(h)),
        tls_ctx_(std::move(tls_ctx)) {
    if constexpr (kTls) {
      ws_.emplace(strand_, *tls_ctx_);
    } else {
      ws_.emplace(strand_);
    }
  }

  void start() override {
    asio::dispatch(strand_, [self = this->shared_from_this()] {
      self->resolver_.async_resolve(self->url_.host, std::to_string(self->url_.port),
                                    [self](beast::error_code ec, tcp::resolver::results_type results) {
                                      self->on_resolve(ec, results);
                                    });
    });
  }

  void send(std::string text) override {
    asio::post(strand_, [self = this->shared_from_this(), text = std::move(text)]() mutable {
      if (!self->open_ || self->closing_) return;
      self->queue_.push_back(std::move(text));
      if (self->queue_.size() == 1) self->write_next();
    });
  }

  void close() override {
    asio::post(strand_, [self = this->shared_from_this()] {
      if (self->finished_) return;
      if (!self->open_) return self->finish(Status::ok());
      if (self->closing_) return;
      self->closing_ = true;
      self->ws_->async_close(websocket::close_code::normal, [self](beast::error_code) {
        // The pending read completes next and finishes the session.
      });
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(*ws_); }

  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (ec) return finish(Status::unavailable("cannot resolve " + url_.host + ": " + ec.message()));
    lowest().expires_after(options_.connect_timeout);
    lowest().async_connect(results, [self = this->shared_from_this()](
                                        beast::error_code e, const tcp::endpoint&) { self->on_connect(e); });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return finish(fail("cannot connect to", ec));
    beast::error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (kTls) {
      SSL* handle = ws_->next_layer().native_handle();
      const bool ip = is_ip_literal(url_.host);
      if (!ip) SSL_set_tlsext_host_name(handle, url_.host.c_str());
      if (options_.verify_peer) {
        if (ip) {
          X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), url_.host.c_str());
        } else {
          SSL_set1_host(handle, url_.host.c_str());
        }
      }
      ws_->next_layer().async_handshake(ssl::stream_base::client,
                                        [self = this->shared_from_this()](beast::error_code e) {
                                          if (e) return self->finish(self->fail("TLS handshake with", e));
                                          self->handshake();
                                        });
    } else {
      handshake();
    }
  }

  void handshake() {
    ws_->read_message_max(options_.max_message_bytes);
    ws_->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "streamforge"); }));
    ws_->async_handshake(url_.host_port(), url_.target(),
                         [self = this->shared_from_this()](beast::error_code e) {
                           if (e) return self->finish(self->fail("WebSocket handshake with", e));
                           self->on_open();
                         });
  }

  void on_open() {
    lowest().expires_never();
    // Beast closes the stream when nothing (data or control frames) arrived for idle_timeout; it answers the
    // exchange's pings on its own. No pings of ours: Binance counts them against the 5 messages/s limit.
    websocket::stream_base::timeout t{};
    t.handshake_timeout = options_.connect_timeout;
    t.idle_timeout = options_.idle_timeout;
    t.keep_alive_pings = false;
    ws_->set_option(t);
    open_ = true;
    if (handlers_.on_open) handlers_.on_open();
    read();
  }

  void read() {
    ws_->async_read(buffer_,
                    [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == websocket::error::closed) {
        const auto& reason = ws_->reason();
        // A normal closure (the exchange's 24 h mark, or ours) is OK; any other code is a failure.
        return finish(closing_ || reason.code == websocket::close_code::normal
                          ? Status::ok()
                          : Status::unavailable("closed by the exchange (code " +
                                                std::to_string(static_cast<int>(reason.code)) + ")"));
      }
      if (ec == beast::error::timeout) {
        return finish(Status::timeout("nothing received from " + url_.host_port() + " for " +
                                      std::to_string(options_.idle_timeout.count()) + " ms"));
      }
      return finish(fail("connection to", ec));
    }
    std::string frame = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (handlers_.on_message && !finished_) handlers_.on_message(std::move(frame));
    read();
  }

  void write_next() {
    ws_->text(true);
    ws_->async_write(asio::buffer(queue_.front()),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;  // the read side reports the failure
                       self->queue_.pop_front();
                       if (!self->queue_.empty()) self->write_next();
                     });
  }

  Status fail(std::string_view what, beast::error_code ec) {
    return Status::unavailable(std::string(what) + " " + url_.host_port() + ": " + ec.message());
  }

  void finish(Status why) {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    queue_.clear();
    beast::error_code ignored;
    lowest().socket().close(ignored);
    auto on_close = std::move(handlers_.on_close);
    handlers_ = {};
    if (on_close) on_close(why);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  net::Url url_;
  StreamConnectionOptions options_;
  StreamConnectionHandlers handlers_;
  std::shared_ptr<ssl::context> tls_ctx_;
  std::optional<websocket::stream<NextLayer>> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace

Result<std::shared_ptr<StreamConnection>> StreamConnection::create(asio::io_context& ioc,
                                                                   std::string_view url,
                                                                   StreamConnectionOptions options,
                                                                   StreamConnectionHandlers handlers) {
  auto parsed = net::parse_url(url);
  if (!parsed) return parsed.status();
  if (parsed->scheme != "ws" && parsed->scheme != "wss") {
    return Status::invalid_argument("stream URL must be ws:// or wss://, got '" + std::string(url) + "'");
  }
  if (!parsed->is_tls()) {
    return std::shared_ptr<StreamConnection>(std::make_shared<Session<beast::tcp_stream>>(
        ioc, std::move(parsed).value(), std::move(options), std::move(handlers), nullptr));
  }
  std::shared_ptr<ssl::context> ctx;
  try {
    ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
    if (options.ca_file.empty()) {
      ctx->set_default_verify_paths();
    } else {
      ctx->load_verify_file(options.ca_file);
    }
    ctx->set_verify_mode(options.verify_peer ? ssl::verify_peer : ssl::verify_none);
  } catch (const std::exception& e) {
    return Status::invalid_argument("TLS set-up failed (ca_file '" + options.ca_file + "'): " + e.what());
  }
  return std::shared_ptr<StreamConnection>(std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
      ioc, std::move(parsed).value(), std::move(options), std::move(handlers), std::move(ctx)));
}

}  // namespace sf::exchange
