// URL and query-string parsing and building.
#include "net/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sf::net {
namespace {

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > 65535) {
    return Status::invalid_argument("invalid port in '" + std::string(whole) + "'");
  }
  return static_cast<uint16_t>(value);
}

// Splits "host[:port]" / "[v6][:port]" into host and the port text (empty when absent).
Status split_authority(std::string_view authority, std::string_view whole, std::string& host,
                       std::string_view& port_text) {
  port_text = {};
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::invalid_argument("unclosed '[' in '" + std::string(whole) + "'");
    host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return Status::invalid_argument("junk after ']' in '" + std::string(whole) + "'");
      port_text = rest.substr(1);
      if (port_text.empty()) return Status::invalid_argument("empty port in '" + std::string(whole) + "'");
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = std::string(authority.substr(0, colon));
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Status::invalid_argument("empty port in '" + std::string(whole) + "'");
    } else {
      host = std::string(authority);
    }
  }
  if (host.empty()) return Status::invalid_argument("missing host in '" + std::string(whole) + "'");
  return Status::ok();
}

std::string bracket_if_v6(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string Url::host_port() const {
  return bracket_if_v6(host) + ":" + std::to_string(port);
}

std::string Url::target() const {
  return query.empty() ? path : path + "?" + query;
}

std::string Url::to_string() const {
  uint16_t default_port = is_tls() ? 443 : 80;
  std::string out = scheme;
  out += "://";
  out += bracket_if_v6(host);
  if (port != default_port) {
    out += ':';
    out += std::to_string(port);
  }
  out += target();
  return out;
}

Result<Url> parse_url(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos)
    return Status::invalid_argument("URL has no scheme: '" + std::string(text) + "'");
  Url url;
  url.scheme = to_lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https" && url.scheme != "ws" && url.scheme != "wss") {
    return Status::invalid_argument("unsupported URL scheme '" + url.scheme + "' in '" + std::string(text) +
                                    "'");
  }
  std::string_view rest = text.substr(sep + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  if (authority.find('@') != std::string_view::npos) {
    return Status::invalid_argument("credentials in URLs are not supported: '" + std::string(text) + "'");
  }
  std::string_view port_text;
  SF_RETURN_IF_ERROR(split_authority(authority, text, url.host, port_text));
  if (port_text.empty()) {
    url.port = url.is_tls() ? 443 : 80;
  } else {
    auto port = parse_port(port_text, text);
    if (!port) return port.status();
    url.port = *port;
  }
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  size_t q = tail.find('?');
  std::string_view path = tail.substr(0, q);
  url.path = path.empty() ? "/" : std::string(path);
  if (q != std::string_view::npos) url.query = std::string(tail.substr(q + 1));
  return url;
}

std::string HostPort::to_string() const {
  return bracket_if_v6(host) + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view port_text;
  SF_RETURN_IF_ERROR(split_authority(text, text, hp.host, port_text));
  if (port_text.empty())
    return Status::invalid_argument("missing port in '" + std::string(text) + "' (HOST:PORT)");
  auto port = parse_port(port_text, text);
  if (!port) return port.status();
  hp.port = *port;
  return hp;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::string> percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return Status::invalid_argument("truncated percent-escape in '" + std::string(text) + "'");
      }
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0)
        return Status::invalid_argument("bad percent-escape in '" + std::string(text) + "'");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<QueryParams> parse_query(std::string_view raw) {
  QueryParams params;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    if (!key) return key.status();
    std::string value;
    if (eq != std::string_view::npos) {
      auto decoded = percent_decode(pair.substr(eq + 1));
      if (!decoded) return decoded.status();
      value = std::move(decoded).value();
    }
    params.emplace_back(std::move(key).value(), std::move(value));
  }
  return params;
}

std::optional<std::string_view> find_param(const QueryParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

QueryBuilder& QueryBuilder::add(std::string_view key, std::string_view value) {
  if (!query_.empty()) query_ += '&';
  query_ += percent_encode(key);
  query_ += '=';
  query_ += percent_encode(value);
  return *this;
}

QueryBuilder& QueryBuilder::add(std::string_view key, int64_t value) {
  return add(key, std::to_string(value));
}

}  // namespace sf::net
