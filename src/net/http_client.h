// The project's HTTP/1.1 client (Boost.Beast): one keep-alive connection to one origin, plain or TLS,
// synchronous calls with a per-request deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_message.h"
#include "net/url.h"

namespace sf::net {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};   // resolve + TCP connect + TLS handshake
  std::chrono::milliseconds request_timeout{30'000};  // default deadline of one request, connect included
  bool verify_peer = true;                            // TLS: verify the certificate chain and the host name
  std::string ca_file;                                // TLS: PEM bundle to trust; empty = the system store
  size_t max_response_body_bytes = 256u * 1024 * 1024;
  size_t max_response_header_bytes = 64 * 1024;
  std::string user_agent = "streamforge";
};

// One connection to the origin of `base_url` (scheme, host, port), opened on first use and reused while
// the server keeps it alive; a stale keep-alive connection is reopened once transparently.
//
// Results: any HTTP answer (including 4xx/5xx) is a value; transport failures are a Status:
// kUnavailable (resolve/connect/TLS failures, connection reset or closed mid-response),
// kTimeout (the deadline passed; the connection is then closed), kInvalidArgument (bad target),
// kCorruption (unparsable response).
//
// Thread-safety: none; use one client per thread (they are cheap).
class HttpClient {
 public:
  // `base_url` must be http:// or https:// (its path is ignored; targets are absolute paths).
  static Result<std::unique_ptr<HttpClient>> create(std::string_view base_url,
                                                    HttpClientOptions options = {});
  HttpClient(Url origin, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET `target` ("/api/v3/klines?symbol=BTCUSDT"). `timeout` overrides options.request_timeout.
  Result<HttpResponse> get(std::string_view target, const Headers& headers = {},
                           std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Any method; `body` is sent with the given headers (set Content-Type yourself).
  Result<HttpResponse> request(std::string_view method, std::string_view target, std::string body = {},
                               const Headers& headers = {},
                               std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Closes the connection (the next request opens a new one).
  void close();
  bool connected() const;
  const Url& origin() const;
  // How many connections this client has opened so far (keep-alive makes it 1 for many requests).
  uint64_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-off GET of an absolute URL with a fresh connection.
Result<HttpResponse> http_get(std::string_view url, HttpClientOptions options = {});

}  // namespace sf::net
