// HttpClient: connection errors, stale keep-alive connections, headers, and TLS against `openssl s_server`.
#include "net/http_client.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "net/http_server.h"
#include "net/tests/test_util.h"

extern char** environ;

namespace sf::net {
namespace {

using namespace std::chrono_literals;

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  uint16_t port = testing::unused_port();
  auto c = value_or_throw(HttpClient::create("http://127.0.0.1:" + std::to_string(port)));
  auto res = c->get("/");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.status().code(), ErrorCode::kUnavailable);
  auto one_off = http_get("http://127.0.0.1:" + std::to_string(port) + "/x");
  EXPECT_EQ(one_off.status().code(), ErrorCode::kUnavailable);
}

TEST(HttpClientTest, RejectsBadInput) {
  EXPECT_FALSE(HttpClient::create("ws://127.0.0.1:1"));
  EXPECT_FALSE(HttpClient::create("127.0.0.1:1"));
  auto c = value_or_throw(HttpClient::create("http://127.0.0.1:1"));
  EXPECT_EQ(c->get("relative").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c->request("BREW", "/").status().code(), ErrorCode::kInvalidArgument);
}

TEST(HttpClientTest, UnresolvableHostIsUnavailable) {
  HttpClientOptions opts;
  opts.connect_timeout = 2000ms;
  auto res = http_get("http://no-such-host.invalid/", opts);
  ASSERT_FALSE(res);
  EXPECT_TRUE(res.status().code() == ErrorCode::kUnavailable || res.status().code() == ErrorCode::kTimeout);
}

TEST(HttpClientTest, ReconnectsWhenTheServerClosedAnIdleConnection) {
  HttpServerOptions sopts;
  sopts.read_timeout = 100ms;
  HttpServer server(sopts);
  server.route("GET", "/x", [](const HttpRequest&, HttpResponse& res) {
    res.set(200, "application/json", "{}");
    res.headers.add("X-MBX-USED-WEIGHT-1M", "7");
  });
  ASSERT_TRUE(server.listen("127.0.0.1:0"));
  auto c = value_or_throw(HttpClient::create("http://" + server.address()));
  auto first = c->get("/x");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("x-mbx-used-weight-1m"), "7");
  EXPECT_EQ(first->header("content-type"), "application/json");
  EXPECT_EQ(first->header("absent"), std::nullopt);
  std::this_thread::sleep_for(400ms);  // the server drops the idle connection
  auto second = c->get("/x");
  ASSERT_TRUE(second) << second.status().to_string();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(c->connections_opened(), 2u);
}

TEST(HttpClientTest, ServerGoneMidwayIsUnavailable) {
  auto server = std::make_unique<HttpServer>();
  server->route("GET", "/x", [](const HttpRequest&, HttpResponse& res) { res.set(200, "text/plain", "x"); });
  ASSERT_TRUE(server->listen("127.0.0.1:0"));
  auto c = value_or_throw(HttpClient::create("http://" + server->address()));
  ASSERT_TRUE(c->get("/x"));
  server.reset();
  auto res = c->get("/x", {}, 2000ms);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.status().code(), ErrorCode::kUnavailable);
}

// ---- TLS against openssl s_server with a throw-away CA ----

class TlsServer {
 public:
  TlsServer() {
    dir_ = std::filesystem::temp_directory_path() / ("sf_net_tls_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string d = dir_.string();
    std::string gen =
        "cd " + d +
        " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem >/dev/null 2>&1";
    if (std::system(gen.c_str()) != 0) return;
    port_ = testing::unused_port();
    std::string port = std::to_string(port_);
    std::string cert = d + "/cert.pem", key = d + "/key.pem";
    const char* argv[] = {"openssl",    "s_server", "-quiet",    "-accept", port.c_str(), "-cert",
                          cert.c_str(), "-key",     key.c_str(), "-www",    nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "openssl", &actions, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    // Wait until it accepts connections.
    for (int i = 0; i < 100 && pid_ != 0; ++i) {
      try {
        testing::RawConnection probe(port_);
        ready_ = true;
        break;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(50ms);
      }
    }
  }
  ~TlsServer() {
    if (pid_ != 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string ca_file() const { return (dir_ / "cert.pem").string(); }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  uint16_t port_ = 0;
  bool ready_ = false;
};

TEST(HttpClientTlsTest, VerifiesAgainstTheGivenCaAndRejectsUnknownIssuers) {
  TlsServer server;
  if (!server.ready()) GTEST_SKIP() << "openssl s_server is not available";
  std::string url = "https://localhost:" + std::to_string(server.port());

  HttpClientOptions trusted;
  trusted.ca_file = server.ca_file();
  auto ok = http_get(url + "/", trusted);
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_EQ(ok->status, 200);

  auto by_ip = http_get("https://127.0.0.1:" + std::to_string(server.port()) + "/", trusted);
  ASSERT_TRUE(by_ip) << by_ip.status().to_string();

  auto untrusted = http_get(url + "/");  // the system store does not know our throw-away CA
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(untrusted.status().message().find("certificate"), std::string::npos)
      << untrusted.status().message();

  HttpClientOptions insecure;
  insecure.verify_peer = false;
  auto unchecked = http_get(url + "/", insecure);
  ASSERT_TRUE(unchecked) << unchecked.status().to_string();

  HttpClientOptions missing_ca;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(http_get(url + "/", missing_ca).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sf::net
