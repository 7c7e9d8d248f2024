// `streamforge broker` as a process: prints "listening on HOST:PORT" first, serves kcat, stops on SIGTERM
// with exit code 0, and a restarted process serves what the first one stored. Skipped when the streamforge
// executable has not been built (it links every component).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

struct BrokerProcess {
  pid_t pid = -1;
  std::string address;

  bool start(const std::filesystem::path& data_dir) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(SF_STREAMFORGE_BIN, SF_STREAMFORGE_BIN, "broker", "--listen", "127.0.0.1:0", "--data-dir",
              data_dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[256] = {0};
    const bool got = std::fgets(line, sizeof line, out) != nullptr;
    std::fclose(out);
    if (!got) return false;
    std::string text(line);
    const std::string prefix = "listening on ";
    if (text.rfind(prefix, 0) != 0) return false;
    address = text.substr(prefix.size());
    while (!address.empty() && (address.back() == '\n' || address.back() == '\r')) address.pop_back();
    return true;
  }
  int stop() {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~BrokerProcess() {
    if (pid > 0) stop();
  }
};

int run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(BrokerCliTest, ListensServesKcatStopsOnSigtermAndRestarts) {
  if (!std::filesystem::exists(SF_STREAMFORGE_BIN)) GTEST_SKIP() << SF_STREAMFORGE_BIN << " not built";
  TempDir tmp;
  std::string input;
  for (int i = 0; i < 500; ++i) input += fmt::format("k{}:v{}\n", i % 7, i);
  write_file(tmp.path() / "in.txt", input);
  {
    BrokerProcess broker;
    ASSERT_TRUE(broker.start(tmp.path() / "data"));
    ASSERT_EQ(
        run(fmt::format("kcat -P -b {} -t cli -K: < {}", broker.address, (tmp.path() / "in.txt").string())),
        0);
    EXPECT_EQ(broker.stop(), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "data" / "bus" / "topics" / "cli")) << "<data-dir>/bus";
  BrokerProcess broker;
  ASSERT_TRUE(broker.start(tmp.path() / "data"));
  ASSERT_EQ(run(fmt::format("kcat -C -b {} -t cli -o beginning -e -f '%k:%s\\n' > {} 2>/dev/null",
                            broker.address, (tmp.path() / "out.txt").string())),
            0);
  EXPECT_EQ(read_file(tmp.path() / "out.txt"), input);
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace sf::kafka
