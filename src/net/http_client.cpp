// Synchronous keep-alive HTTP(S) client on Beast: async operations driven by a private io_context with
// run_until(deadline), so every step (resolve, connect, handshake, write, read) honours the deadline.
#include "net/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace sf::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string to_std(beast::string_view s) {
  return std::string(s.data(), s.size());
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

struct HttpClient::Impl {
  Impl(Url o, HttpClientOptions op) : origin(std::move(o)), options(std::move(op)) {}

  Url origin;
  HttpClientOptions options;
  asio::io_context ioc{1};
  std::optional<ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  uint64_t opened = 0;

  bool connected() const { return plain.has_value() || tls.has_value(); }

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void close() {
    if (connected()) {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
      lowest().socket().close(ec);
    }
    // Let aborted handlers (if any) run so nothing refers to the stream afterwards.
    ioc.restart();
    ioc.poll();
    tls.reset();
    plain.reset();
    buffer.clear();
  }

  // Runs the io_context until `done` or `deadline`. On a timeout, `cancel` aborts the operation and its
  // handler is flushed before returning false.
  template <typename Cancel>
  bool run(const bool& done, Clock::time_point deadline, Cancel&& cancel) {
    ioc.restart();
    while (!done) {
      if (Clock::now() >= deadline) break;
      ioc.run_one_until(deadline);
      if (ioc.stopped() && !done) ioc.restart();
    }
    if (done) return true;
    cancel();
    ioc.restart();
    ioc.run();
    return false;
  }

  Status init_tls() {
    if (ssl_ctx) return Status::ok();
    try {
      ssl::context ctx(ssl::context::tls_client);
      ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3);
      if (options.ca_file.empty()) {
        ctx.set_default_verify_paths();
      } else {
        ctx.load_verify_file(options.ca_file);
      }
      ctx.set_verify_mode(options.verify_peer ? ssl::verify_peer : ssl::verify_none);
      ssl_ctx.emplace(std::move(ctx));
    } catch (const std::exception& e) {
      return Status::invalid_argument("TLS set-up failed (ca_file '" + options.ca_file + "'): " + e.what());
    }
    return Status::ok();
  }

  Status connect(Clock::time_point deadline) {
    close();
    deadline = std::min(deadline, Clock::now() + options.connect_timeout);
    std::string where = origin.host_port();

    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec;
    bool done = false;
    resolver.async_resolve(origin.host, std::to_string(origin.port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             done = true;
                           });
    if (!run(done, deadline, [&] { resolver.cancel(); }))
      return Status::timeout("resolving " + where + " timed out");
    if (ec) return Status::unavailable("cannot resolve " + origin.host + ": " + ec.message());

    beast::tcp_stream stream(ioc);
    done = false;
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (!run(done, deadline, [&] { stream.socket().close(ec); }))
      return Status::timeout("connecting to " + where + " timed out");
    if (ec) return Status::unavailable("cannot connect to " + where + ": " + ec.message());
    stream.socket().set_option(tcp::no_delay(true), ec);

    if (!origin.is_tls()) {
      plain.emplace(std::move(stream));
      ++opened;
      return Status::ok();
    }
    SF_RETURN_IF_ERROR(init_tls());
    tls.emplace(std::move(stream), *ssl_ctx);
    SSL* handle = tls->native_handle();
    bool ip = is_ip_literal(origin.host);
    if (!ip) SSL_set_tlsext_host_name(handle, origin.host.c_str());  // SNI (not sent for IP literals)
    if (options.verify_peer) {
      if (ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), origin.host.c_str());
      } else {
        SSL_set1_host(handle, origin.host.c_str());
      }
    }
    done = false;
    tls->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run(done, deadline, [&] { beast::get_lowest_layer(*tls).socket().close(ec); })) {
      tls.reset();
      return Status::timeout("TLS handshake with " + where + " timed out");
    }
    if (ec) {
      std::string detail = ec.message();
      long verify = SSL_get_verify_result(handle);
      if (verify != X509_V_OK) detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      tls.reset();
      return Status::unavailable("TLS handshake with " + where + " failed: " + detail);
    }
    ++opened;
    return Status::ok();
  }

  // One exchange on the current connection. `retryable` tells the caller that nothing came back, so a
  // stale keep-alive connection can be replaced and the request sent again.
  Result<HttpResponse> exchange(http::request<http::string_body>& req, Clock::time_point deadline,
                                bool& retryable) {
    retryable = false;
    beast::error_code ec;
    bool done = false;
    auto cancel = [&] { close(); };
    auto on_done = [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    };
    if (tls) {
      http::async_write(*tls, req, on_done);
    } else {
      http::async_write(*plain, req, on_done);
    }
    if (!run(done, deadline, cancel))
      return Status::timeout("request to " + origin.host_port() + to_std(req.target()) + " timed out");
    if (ec) {
      close();
      retryable = true;
      return Status::unavailable("sending to " + origin.host_port() + " failed: " + ec.message());
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_response_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(options.max_response_header_bytes));
    done = false;
    if (tls) {
      http::async_read(*tls, buffer, parser, on_done);
    } else {
      http::async_read(*plain, buffer, parser, on_done);
    }
    if (!run(done, deadline, cancel)) {
      return Status::timeout("waiting for the response of " + origin.host_port() + to_std(req.target()) +
                             " timed out");
    }
    if (ec) {
      bool nothing_received = !parser.got_some();
      close();
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        return Status::corruption("response from " + origin.host_port() +
                                  " exceeds the size limit: " + ec.message());
      }
      if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return Status::corruption("malformed response from " + origin.host_port() + ": " + ec.message());
      }
      retryable = nothing_received;
      return Status::unavailable("connection to " + origin.host_port() +
                                 " failed while reading the response: " + ec.message());
    }
    auto msg = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) out.headers.add(to_std(field.name_string()), to_std(field.value()));
    out.body = std::move(msg.body());
    if (!msg.keep_alive()) close();
    return out;
  }
};

Result<std::unique_ptr<HttpClient>> HttpClient::create(std::string_view base_url, HttpClientOptions options) {
  auto url = parse_url(base_url);
  if (!url) return url.status();
  if (url->scheme != "http" && url->scheme != "https") {
    return Status::invalid_argument("HttpClient needs an http:// or https:// URL, got '" +
                                    std::string(base_url) + "'");
  }
  return std::make_unique<HttpClient>(std::move(url).value(), std::move(options));
}

HttpClient::HttpClient(Url origin, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(origin), std::move(options))) {}

HttpClient::~HttpClient() {
  impl_->close();
}

Result<HttpResponse> HttpClient::get(std::string_view target, const Headers& headers,
                                     std::optional<std::chrono::milliseconds> timeout) {
  return request("GET", target, {}, headers, timeout);
}

Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view target, std::string body,
                                         const Headers& headers,
                                         std::optional<std::chrono::milliseconds> timeout) {
  auto& im = *impl_;
  if (target.empty() || target.front() != '/') {
    return Status::invalid_argument("request target must start with '/': '" + std::string(target) + "'");
  }
  http::verb verb = http::string_to_verb(beast::string_view(method.data(), method.size()));
  if (verb == http::verb::unknown)
    return Status::invalid_argument("unknown HTTP method '" + std::string(method) + "'");
  auto deadline = Clock::now() + timeout.value_or(im.options.request_timeout);

  http::request<http::string_body> req{verb, beast::string_view(target.data(), target.size()), 11};
  uint16_t default_port = im.origin.is_tls() ? 443 : 80;
  std::string host =
      im.origin.host.find(':') != std::string::npos ? "[" + im.origin.host + "]" : im.origin.host;
  if (im.origin.port != default_port) host += ":" + std::to_string(im.origin.port);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, im.options.user_agent);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    bool reused = im.connected();
    if (!reused) SF_RETURN_IF_ERROR(im.connect(deadline));
    bool retryable = false;
    auto res = im.exchange(req, deadline, retryable);
    if (res || !(reused && retryable && attempt == 0)) return res;
    // The server closed an idle keep-alive connection: open a new one and send again, once.
  }
}

void HttpClient::close() {
  impl_->close();
}
bool HttpClient::connected() const {
  return impl_->connected();
}
const Url& HttpClient::origin() const {
  return impl_->origin;
}
uint64_t HttpClient::connections_opened() const {
  return impl_->opened;
}

Result<HttpResponse> http_get(std::string_view url, HttpClientOptions options) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.status();
  std::string target = parsed->target();
  auto client = HttpClient::create(url, std::move(options));
  if (!client) return client.status();
  return (*client)->get(target);
}

}  // namespace sf::net
