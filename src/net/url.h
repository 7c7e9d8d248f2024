// URLs, `host:port` listen addresses and query strings: the one place that knows percent-encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sf::net {

// An absolute URL split into the parts an HTTP client needs. Only http, https, ws and wss are accepted.
struct Url {
  std::string scheme;      // lower case: "http" | "https" | "ws" | "wss"
  std::string host;        // a name or an address; IPv6 without the brackets
  uint16_t port = 0;       // the explicit port, or the scheme's default (80 for http/ws, 443 for https/wss)
  std::string path = "/";  // percent-encoded as given; "/" when the URL has none
  std::string query;       // raw, without the '?'; empty when absent

  bool is_tls() const { return scheme == "https" || scheme == "wss"; }
  // "host:port" ("[::1]:8080" for IPv6), as used in a Host header or an `open` call.
  std::string host_port() const;
  // The request target: path plus "?query" when there is one.
  std::string target() const;
  // Back to text; the default port is left out.
  std::string to_string() const;
};

// Parses "http://host[:port][/path][?query][#fragment]". Userinfo is rejected; the fragment is dropped.
Result<Url> parse_url(std::string_view text);

// A host and a port as given to `--listen` ("127.0.0.1:9900", "[::1]:0", "localhost:8080").
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const;  // brackets around IPv6 addresses
};
Result<HostPort> parse_host_port(std::string_view text);

// RFC 3986: everything but unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX.
std::string percent_encode(std::string_view text);
// Decodes %XX; '+' becomes a space when `plus_as_space` (form/query encoding). Malformed escapes fail.
Result<std::string> percent_decode(std::string_view text, bool plus_as_space = true);

// Decoded query parameters in the order they were sent; a key may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "a=1&b=x%20y&c" -> {{"a","1"},{"b","x y"},{"c",""}}. Empty segments ("a=1&&b=2") are skipped.
Result<QueryParams> parse_query(std::string_view raw);

// The first value of `key`, if present.
std::optional<std::string_view> find_param(const QueryParams& params, std::string_view key);

// Builds a percent-encoded query string: QueryBuilder().add("symbol", "BTCUSDT").add("limit", 500).str().
class QueryBuilder {
 public:
  QueryBuilder& add(std::string_view key, std::string_view value);
  QueryBuilder& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  QueryBuilder& add(std::string_view key, int64_t value);
  QueryBuilder& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  // Adds only when the optional holds a value.
  template <typename T>
  QueryBuilder& add_optional(std::string_view key, const std::optional<T>& value) {
    if (value) add(key, *value);
    return *this;
  }
  const std::string& str() const { return query_; }
  bool empty() const { return query_.empty(); }

 private:
  std::string query_;
};

}  // namespace sf::net
