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

#include "kafka/tests/process_util.h"
#include "kafka/tests/test_util.h"

namespace sf::kafka {
namespace {

using testing::ListeningProcess;
using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::write_file;

TEST(BrokerCliTest, ListensServesKcatStopsOnSigtermAndRestarts) {
  if (!std::filesystem::exists(SF_STREAMFORGE_BIN)) GTEST_SKIP() << SF_STREAMFORGE_BIN << " not built";
  TempDir tmp;
  std::string input;
  for (int i = 0; i < 500; ++i) input += fmt::format("k{}:v{}\n", i % 7, i);
  write_file(tmp.path() / "in.txt", input);
  {
    ListeningProcess broker;
    ASSERT_TRUE(broker.start({SF_STREAMFORGE_BIN, "broker", "--listen", "127.0.0.1:0", "--data-dir",
                              (tmp.path() / "data").string()}));
    ASSERT_EQ(
        run(fmt::format("kcat -P -b {} -t cli -K: < {}", broker.address, (tmp.path() / "in.txt").string())),
        0);
    EXPECT_EQ(broker.stop(), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "data" / "bus" / "topics" / "cli")) << "<data-dir>/bus";
  ListeningProcess broker;
  ASSERT_TRUE(broker.start({SF_STREAMFORGE_BIN, "broker", "--listen", "127.0.0.1:0", "--data-dir",
                            (tmp.path() / "data").string()}));
  ASSERT_EQ(run(fmt::format("kcat -C -b {} -t cli -o beginning -e -f '%k:%s\\n' > {} 2>/dev/null",
                            broker.address, (tmp.path() / "out.txt").string())),
            0);
  EXPECT_EQ(read_file(tmp.path() / "out.txt"), input);
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace sf::kafka
