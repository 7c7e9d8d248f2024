// Robustness at the socket: an oversized or garbage request closes that connection only; connections beyond
// max_connections are closed at once; the broker keeps serving everyone else.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::TestBroker;

int connect_to(const std::string& address) {
  const auto colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// An ApiVersions v0 request frame (size prefix included).
std::string api_versions_frame() {
  return std::string("\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x07\xff\xff", 14);
}

// True if the peer closed the connection (read returns 0) rather than answering or timing out.
bool closed_by_peer(int fd) {
  char buf[256];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

bool answers(int fd) {
  const std::string frame = api_versions_frame();
  if (::send(fd, frame.data(), frame.size(), 0) != static_cast<ssize_t>(frame.size())) return false;
  unsigned char size[4];
  if (::recv(fd, size, 4, MSG_WAITALL) != 4) return false;
  std::string body((size[0] << 24) | (size[1] << 16) | (size[2] << 8) | size[3], '\0');
  if (::recv(fd, body.data(), body.size(), MSG_WAITALL) != static_cast<ssize_t>(body.size())) return false;
  return body.size() >= 4 && body[3] == 7;  // correlation id 7
}

TEST(LimitsTest, OversizedAndGarbageRequestsCloseOnlyTheirConnection) {
  TempDir tmp;
  BrokerOptions options;
  options.max_request_bytes = 4096;
  TestBroker broker(tmp.path(), options);
  const int good = connect_to(broker.address());
  ASSERT_GE(good, 0);
  EXPECT_TRUE(answers(good));

  const int big = connect_to(broker.address());
  const std::string huge_size("\x00\x10\x00\x00", 4);  // 1 MiB > 4096
  ASSERT_EQ(::send(big, huge_size.data(), 4, 0), 4);
  EXPECT_TRUE(closed_by_peer(big));
  ::close(big);

  const int garbage = connect_to(broker.address());
  const std::string junk(
      "\x00\x00\x00\x0c\x7f\x7f\x00\x00\x00\x01\x00\x05"
      "abcd",
      16);  // unknown API key
  ASSERT_EQ(::send(garbage, junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
  EXPECT_TRUE(closed_by_peer(garbage));
  ::close(garbage);

  const int truncated = connect_to(broker.address());
  ASSERT_EQ(::send(truncated, "\x00\x00\x00\x40\x00\x03", 6, 0), 6);  // promises 64 bytes, sends 2
  ::shutdown(truncated, SHUT_WR);
  EXPECT_TRUE(closed_by_peer(truncated));
  ::close(truncated);

  EXPECT_TRUE(answers(good)) << "the other connection is unaffected";
  ::close(good);
}

TEST(LimitsTest, ConnectionsBeyondTheLimitAreClosed) {
  TempDir tmp;
  BrokerOptions options;
  options.max_connections = 2;
  TestBroker broker(tmp.path(), options);
  const int a = connect_to(broker.address());
  const int b = connect_to(broker.address());
  EXPECT_TRUE(answers(a));
  EXPECT_TRUE(answers(b));
  const int c = connect_to(broker.address());
  EXPECT_TRUE(closed_by_peer(c)) << "a third connection is refused";
  ::close(c);
  ::close(b);
  // Once one goes away, a new connection is served again (the slot is reaped on the next accept).
  std::this_thread::sleep_for(200ms);
  const int d = connect_to(broker.address());
  EXPECT_TRUE(answers(d));
  EXPECT_TRUE(answers(a));
  ::close(d);
  ::close(a);
}

}  // namespace
}  // namespace sf::kafka
