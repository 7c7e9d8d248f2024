// URL, host:port and query-string parsing and building.
#include "net/url.h"

#include <gtest/gtest.h>

namespace sf::net {
namespace {

TEST(UrlTest, ParsesSchemeHostPortPathQuery) {
  auto url = parse_url("https://api.binance.com/api/v3/klines?symbol=BTCUSDT&interval=1m#frag");
  ASSERT_TRUE(url) << url.status().to_string();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "api.binance.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/api/v3/klines");
  EXPECT_EQ(url->query, "symbol=BTCUSDT&interval=1m");
  EXPECT_TRUE(url->is_tls());
  EXPECT_EQ(url->target(), "/api/v3/klines?symbol=BTCUSDT&interval=1m");
  EXPECT_EQ(url->to_string(), "https://api.binance.com/api/v3/klines?symbol=BTCUSDT&interval=1m");
}

TEST(UrlTest, DefaultsAndExplicitPorts) {
  auto a = parse_url("http://127.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 80);
  EXPECT_EQ(a->path, "/");
  EXPECT_EQ(a->host_port(), "127.0.0.1:80");
  auto b = parse_url("HTTP://localhost:9900/x");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->scheme, "http");
  EXPECT_EQ(b->port, 9900);
  EXPECT_EQ(b->to_string(), "http://localhost:9900/x");
  auto c = parse_url("wss://stream.binance.com:9443/ws");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->is_tls());
  EXPECT_EQ(c->port, 9443);
  auto d = parse_url("http://[::1]:8080/p?q");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host, "::1");
  EXPECT_EQ(d->host_port(), "[::1]:8080");
  auto e = parse_url("http://host?x=1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "/");
  EXPECT_EQ(e->query, "x=1");
}

TEST(UrlTest, RejectsBadUrls) {
  EXPECT_FALSE(parse_url("api.binance.com/x"));
  EXPECT_FALSE(parse_url("ftp://host/"));
  EXPECT_FALSE(parse_url("http://:80/"));
  EXPECT_FALSE(parse_url("http://host:99999/"));
  EXPECT_FALSE(parse_url("http://host:x/"));
  EXPECT_FALSE(parse_url("http://user:pw@host/"));
  EXPECT_EQ(parse_url("http://host:/").status().code(), ErrorCode::kInvalidArgument);
}

TEST(UrlTest, HostPort) {
  auto a = parse_host_port("127.0.0.1:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  auto b = parse_host_port("[::1]:9900");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->to_string(), "[::1]:9900");
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port(":80"));
  EXPECT_FALSE(parse_host_port("host:65536"));
}

TEST(UrlTest, PercentEncoding) {
  EXPECT_EQ(percent_encode("abc-._~XYZ09"), "abc-._~XYZ09");
  EXPECT_EQ(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(percent_encode(R"(["BTCUSDT","BNBBTC"])"), "%5B%22BTCUSDT%22%2C%22BNBBTC%22%5D");
  auto d = percent_decode("a%20b+c%2F%c3%a9");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, "a b c/é");
  EXPECT_EQ(*percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  for (std::string s : {"", "plain", "x y+z", "100%", "\x01\xff"}) {
    EXPECT_EQ(*percent_decode(percent_encode(s)), s);
  }
}

TEST(UrlTest, ParsesQueries) {
  auto q = parse_query("symbol=BTCUSDT&limit=500&&flag&empty=&sp=a%20b+c&symbol=ETHUSDT");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 6u);
  EXPECT_EQ((*q)[0], (std::pair<std::string, std::string>{"symbol", "BTCUSDT"}));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ((*q)[3], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_EQ((*q)[4].second, "a b c");
  EXPECT_EQ(find_param(*q, "symbol"), "BTCUSDT");  // the first one
  EXPECT_EQ(find_param(*q, "missing"), std::nullopt);
  EXPECT_FALSE(parse_query("a=%G0"));
  EXPECT_TRUE(parse_query("")->empty());
}

TEST(UrlTest, BuildsQueries) {
  QueryBuilder q;
  q.add("symbol", "BTCUSDT").add("limit", 1000).add("startTime", int64_t{1722470400000}).add("x y", "a&b");
  q.add_optional("endTime", std::optional<int64_t>{}).add_optional("fromId", std::optional<int64_t>{7});
  EXPECT_EQ(q.str(), "symbol=BTCUSDT&limit=1000&startTime=1722470400000&x%20y=a%26b&fromId=7");
  auto parsed = parse_query(q.str());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(find_param(*parsed, "x y"), "a&b");
}

}  // namespace
}  // namespace sf::net
