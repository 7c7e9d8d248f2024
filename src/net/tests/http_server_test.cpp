// HttpServer over real sockets on 127.0.0.1: routing, limits, malformed input, keep-alive, async answers,
// WebSocket upgrade, shutdown.
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "net/http_client.h"
#include "net/tests/test_util.h"

namespace sf::net {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<HttpClient> client_for(const HttpServer& server, HttpClientOptions options = {}) {
  return value_or_throw(HttpClient::create("http://" + server.address(), options));
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(options);
    server_->route("GET", "/hello",
                   [](const HttpRequest&, HttpResponse& res) { res.set(200, "text/plain", "hello"); });
    server_->route("GET", "/items/{id}", [](const HttpRequest& req, HttpResponse& res) {
      res.set(200, "text/plain", "item:" + std::string(*req.path_param("id")));
    });
    server_->route("GET", "/items/special",
                   [](const HttpRequest&, HttpResponse& res) { res.set(200, "text/plain", "special"); });
    server_->route("GET", "/items/{id}/parts/{part}", [](const HttpRequest& req, HttpResponse& res) {
      res.set(200, "text/plain",
              std::string(*req.path_param("id")) + "/" + std::string(*req.path_param("part")));
    });
    server_->route("GET", "/files/{path*}", [](const HttpRequest& req, HttpResponse& res) {
      res.set(200, "text/plain", "file:" + std::string(*req.path_param("path")));
    });
    server_->route("POST", "/items/{id}", [](const HttpRequest& req, HttpResponse& res) {
      res.set(201, "text/plain", "posted:" + req.body);
    });
    server_->route("GET", "/echo-query", [](const HttpRequest& req, HttpResponse& res) {
      std::string out;
      for (const auto& [k, v] : req.query) out += "[" + k + "=" + v + "]";
      res.set(200, "text/plain", out);
      res.headers.add("X-Remote", req.remote_address);
      res.headers.add("X-Custom-Header", std::string(req.header("x-test-header").value_or("none")));
    });
    server_->route("GET", "/sleep", [](const HttpRequest& req, HttpResponse& res) {
      int ms = std::stoi(std::string(req.query_param("ms").value_or("0")));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      res.set(200, "text/plain", "slept");
    });
    server_->route("GET", "/throw",
                   [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("boom"); });
    server_->route_async("GET", "/later", [](const HttpRequest& req, Responder r) {
      int ms = std::stoi(std::string(req.query_param("ms").value_or("50")));
      auto timer = std::make_shared<boost::asio::steady_timer>(r.executor(), std::chrono::milliseconds(ms));
      timer->async_wait([timer, r = std::move(r)](boost::system::error_code) mutable {
        HttpResponse res;
        res.set(200, "text/plain", "later");
        r.send(std::move(res));
      });
    });
    server_->route_async("GET", "/thread", [](const HttpRequest&, Responder r) {
      std::thread([r = std::move(r)]() mutable {
        std::this_thread::sleep_for(20ms);
        HttpResponse res;
        res.set(200, "text/plain", "from another thread");
        r.send(std::move(res));
      }).detach();
    });
    server_->route_async("GET", "/forget", [](const HttpRequest&, Responder) {});
    server_->route_async("GET", "/drop", [](const HttpRequest&, Responder r) { r.drop(); });
    server_->route("GET", "/close", [](const HttpRequest&, HttpResponse& res) {
      res.set(200, "text/plain", "bye");
      res.headers.set("Connection", "close");
    });
    server_->websocket("/ws/{stream}", [](const HttpRequest& req, std::shared_ptr<WebSocketConnection> conn) {
      conn->send_text("welcome " + std::string(*req.path_param("stream")));
      conn->on_message([](WebSocketConnection& c, std::string_view msg, bool binary) {
        if (msg == "close") return c.close();
        if (binary) {
          c.send_binary(std::string(msg));
        } else {
          c.send_text("echo:" + std::string(msg));
        }
      });
    });
    auto addr = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(addr) << addr.status().to_string();
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ListenOnPortZeroReportsTheBoundAddress) {
  start();
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
  HttpServer second;
  auto again = second.listen(server_->address());
  EXPECT_FALSE(again);  // the port is taken
  EXPECT_EQ(again.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(second.listen("nonsense"));
}

TEST_F(HttpServerTest, RoutesByMethodAndPattern) {
  start();
  auto c = client_for(*server_);
  EXPECT_EQ(c->get("/hello")->body, "hello");
  EXPECT_EQ(c->get("/items/42")->body, "item:42");
  EXPECT_EQ(c->get("/items/special")->body, "special");  // a literal beats a capture
  EXPECT_EQ(c->get("/items/a%20b")->body, "item:a b");   // captures are decoded
  EXPECT_EQ(c->get("/items/7/parts/x")->body, "7/x");
  EXPECT_EQ(c->get("/files/2024/08/01/data.zip")->body, "file:2024/08/01/data.zip");
  auto posted = c->request("POST", "/items/9", "payload");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 201);
  EXPECT_EQ(posted->body, "posted:payload");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405) {
  start();
  auto c = client_for(*server_);
  auto missing = c->get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(c->get("/items")->status, 404);
  EXPECT_EQ(c->get("/items/1/2")->status, 404);
  auto wrong = c->request("DELETE", "/items/5");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("allow"), "GET, POST");
  EXPECT_EQ(c->get("/hello")->status, 200);  // the connection survived both
  EXPECT_EQ(c->connections_opened(), 1u);
}

TEST_F(HttpServerTest, ParsesAndDecodesQueryStrings) {
  start();
  auto c = client_for(*server_);
  Headers h;
  h.add("X-Test-Header", "present");
  auto res = c->get("/echo-query?symbol=BTCUSDT&limit=5&x=a%20b+c&flag&symbols=%5B%22A%22%5D", h);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "[symbol=BTCUSDT][limit=5][x=a b c][flag=][symbols=[\"A\"]]");
  EXPECT_EQ(res->header("x-remote"), "127.0.0.1");
  EXPECT_EQ(res->header("X-CUSTOM-HEADER"), "present");
  EXPECT_EQ(res->header("server"), "streamforge");
  auto bad = c->get("/echo-query?x=%zz");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(HttpServerTest, OversizedBodyIs413AndOversizedHeaderIs431) {
  HttpServerOptions opts;
  opts.max_body_bytes = 1000;
  opts.max_header_bytes = 2000;
  start(opts);
  auto c = client_for(*server_);
  auto ok = c->request("POST", "/items/1", std::string(1000, 'x'));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
  auto big = c->request("POST", "/items/1", std::string(200'000, 'x'));
  ASSERT_TRUE(big) << big.status().to_string();
  EXPECT_EQ(big->status, 413);
  Headers h;
  h.add("X-Big", std::string(5000, 'y'));
  auto big_header = c->get("/hello", h);
  ASSERT_TRUE(big_header) << big_header.status().to_string();
  EXPECT_EQ(big_header->status, 431);
  EXPECT_EQ(c->get("/hello")->body, "hello");  // a fresh connection works
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheServerKeepsServing) {
  start();
  const char* garbage[] = {
      "GARBAGE\r\n\r\n",
      "GET /hello HTTP/9.9\r\n\r\n",
      "GET /hello HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary tls hello\r\n\r\n",
      "GET hello HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /items/1 HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
  };
  for (const char* bytes : garbage) {
    testing::RawConnection raw(server_->port());
    raw.send(bytes);
    std::string answer = raw.read_all();
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << "for " << bytes << " got: " << answer;
  }
  // Half a request, then the client vanishes: nothing to answer, nothing breaks.
  {
    testing::RawConnection raw(server_->port());
    raw.send("GET /hel");
  }
  auto c = client_for(*server_);
  EXPECT_EQ(c->get("/hello")->body, "hello");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  auto c = client_for(*server_);
  for (int i = 0; i < 200; ++i) {
    auto res = c->get("/items/" + std::to_string(i));
    ASSERT_TRUE(res) << res.status().to_string();
    ASSERT_EQ(res->body, "item:" + std::to_string(i));
  }
  EXPECT_EQ(c->connections_opened(), 1u);
  EXPECT_EQ(server_->connections_accepted(), 1u);
  EXPECT_GE(server_->requests_handled(), 200u);
}

TEST_F(HttpServerTest, PipelinedRequestsOnARawSocket) {
  start();
  testing::RawConnection raw(server_->port());
  raw.send(
      "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n");
  std::string all = raw.read_all();
  EXPECT_NE(all.find("item:1"), std::string::npos);
  EXPECT_NE(all.find("item:2"), std::string::npos);
}

TEST_F(HttpServerTest, ManyConcurrentClients) {
  start();
  std::vector<std::future<int>> results;
  for (int t = 0; t < 6; ++t) {
    results.push_back(std::async(std::launch::async, [&, t] {
      auto c = client_for(*server_);
      int ok = 0;
      for (int i = 0; i < 50; ++i) {
        auto res = c->get("/items/" + std::to_string(t * 100 + i));
        if (res && res->body == "item:" + std::to_string(t * 100 + i)) ++ok;
      }
      return ok;
    }));
  }
  for (auto& f : results) EXPECT_EQ(f.get(), 50);
}

TEST_F(HttpServerTest, HandlersCanAnswerLaterFromTimersOrThreads) {
  start();
  auto c = client_for(*server_);
  auto later = c->get("/later?ms=30");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->body, "later");
  auto threaded = c->get("/thread");
  ASSERT_TRUE(threaded);
  EXPECT_EQ(threaded->body, "from another thread");
  EXPECT_EQ(c->connections_opened(), 1u);
}

TEST_F(HttpServerTest, ExceptionsAndForgottenRespondersBecome500) {
  start();
  auto c = client_for(*server_);
  auto thrown = c->get("/throw");
  ASSERT_TRUE(thrown);
  EXPECT_EQ(thrown->status, 500);
  auto forgotten = c->get("/forget");
  ASSERT_TRUE(forgotten);
  EXPECT_EQ(forgotten->status, 500);
  EXPECT_EQ(c->get("/hello")->status, 200);
}

TEST_F(HttpServerTest, DropClosesWithoutAnAnswer) {
  start();
  auto c = client_for(*server_);
  auto dropped = c->get("/drop");
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(c->get("/hello")->body, "hello");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  auto c = client_for(*server_);
  EXPECT_EQ(c->get("/close")->body, "bye");
  EXPECT_FALSE(c->connected());
  EXPECT_EQ(c->get("/hello")->body, "hello");
  EXPECT_EQ(c->connections_opened(), 2u);
}

TEST_F(HttpServerTest, ClientTimeoutAgainstASlowHandler) {
  start();
  HttpClientOptions opts;
  opts.request_timeout = 200ms;
  auto c = client_for(*server_, opts);
  auto t0 = std::chrono::steady_clock::now();
  auto slow = c->get("/sleep?ms=1500");
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.status().code(), ErrorCode::kTimeout);
  EXPECT_LT(elapsed, 1000ms);
  EXPECT_FALSE(c->connected());
  auto fine = c->get("/hello", {}, 5000ms);
  ASSERT_TRUE(fine) << fine.status().to_string();
  EXPECT_EQ(fine->body, "hello");
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheReadTimeout) {
  HttpServerOptions opts;
  opts.read_timeout = 200ms;
  start(opts);
  testing::RawConnection raw(server_->port());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(raw.peer_closed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  // A slow-loris client that never finishes its headers is cut off too.
  testing::RawConnection loris(server_->port());
  loris.send("GET /hello HTTP/1.1\r\nHost: x\r\n");
  EXPECT_TRUE(loris.peer_closed());
}

TEST_F(HttpServerTest, WebSocketUpgradeAndEcho) {
  start();
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  boost::asio::io_context ioc;
  websocket::stream<boost::asio::ip::tcp::socket> ws(ioc);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  ws.handshake("127.0.0.1", "/ws/btcusdt@kline_1m");
  beast::flat_buffer buf;
  ws.read(buf);
  EXPECT_EQ(beast::buffers_to_string(buf.data()), "welcome btcusdt@kline_1m");
  for (int i = 0; i < 20; ++i) {
    buf.clear();
    ws.text(true);
    ws.write(boost::asio::buffer("msg" + std::to_string(i)));
    ws.read(buf);
    ASSERT_EQ(beast::buffers_to_string(buf.data()), "echo:msg" + std::to_string(i));
  }
  buf.clear();
  ws.binary(true);
  std::string bin("\x00\x01\x02", 3);
  ws.write(boost::asio::buffer(bin));
  ws.read(buf);
  EXPECT_FALSE(ws.got_text());
  EXPECT_EQ(beast::buffers_to_string(buf.data()), bin);
  // The server closes on request: the client sees a normal close.
  buf.clear();
  ws.text(true);
  ws.write(boost::asio::buffer(std::string("close")));
  beast::error_code ec;
  ws.read(buf, ec);
  EXPECT_EQ(ec, websocket::error::closed);

  // A plain GET on a WebSocket route asks for an upgrade.
  auto c = client_for(*server_);
  auto plain = c->get("/ws/x");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 426);
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsPromptly) {
  start();
  auto c = client_for(*server_);
  ASSERT_TRUE(c->get("/hello"));  // an idle keep-alive connection stays open
  namespace websocket = boost::beast::websocket;
  boost::asio::io_context ioc;
  websocket::stream<boost::asio::ip::tcp::socket> ws(ioc);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  ws.handshake("127.0.0.1", "/ws/a");
  boost::beast::flat_buffer buf;
  ws.read(buf);  // the welcome message
  auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  server_->stop();  // idempotent
  auto after = c->get("/hello", {}, 1000ms);
  EXPECT_FALSE(after);
  boost::beast::error_code ec;
  ws.read(buf, ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace sf::net
