// The real binary: `streamforge dummy` is SIGKILLed mid-run; a second run over the same data directory
// completes, and the store holds every candle exactly once with the consumer group fully caught up.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "e2e/process.h"

namespace sf::e2e {
namespace {

namespace fs = std::filesystem;

TEST(DummyKillResume, SecondRunCompletesWithEveryCandleOnce) {
  fs::path dir = fs::temp_directory_path() / ("sf-e2e-dummy-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string records = "120000";
  {
    Process first({"dummy", "--data-dir", dir.string(), "--records", records}, (dir / "first.log").string());
    std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(600, 1500)(rng)));
    first.kill();
    EXPECT_EQ(first.wait(std::chrono::seconds(10)), 128 + SIGKILL) << first.output();
  }
  auto [code, out] =
      run({"dummy", "--data-dir", dir.string(), "--records", records}, (dir / "second.log").string());
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("verification PASSED: all 120000 candles present once"), std::string::npos) << out;

  auto [count_code, count] = run({"store", "count", "dummy_btcusdt_candles_1m", "--data-dir", dir.string()},
                                 (dir / "count.log").string());
  EXPECT_EQ(count_code, 0) << count;
  EXPECT_EQ(count, "120000\n");

  auto [groups_code, groups] =
      run({"bus", "groups", "--data-dir", dir.string()}, (dir / "groups.log").string());
  EXPECT_EQ(groups_code, 0) << groups;
  // Every partition's lag is 0: the group committed everything.
  size_t lines = 0;
  std::istringstream in(groups);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    EXPECT_EQ(line.substr(line.find_last_not_of(' ')), "0") << line;
  }
  EXPECT_EQ(lines, 4u) << groups;
  fs::remove_all(dir);
}

TEST(Cli, VersionHelpAndBadFlags) {
  fs::path dir = fs::temp_directory_path() / ("sf-e2e-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto [vcode, version] = run({"--version"}, (dir / "v.log").string());
  EXPECT_EQ(vcode, 0);
  EXPECT_EQ(version.rfind("streamforge ", 0), 0u) << version;
  auto [hcode, help] = run({"dummy", "--help"}, (dir / "h.log").string());
  EXPECT_EQ(hcode, 0);
  EXPECT_NE(help.find("--records"), std::string::npos);
  EXPECT_NE(help.find("STREAMFORGE_RECORDS"), std::string::npos) << help;
  auto [bcode, bad] = run({"dummy", "--records", "0", "--data-dir", dir.string()}, (dir / "b.log").string());
  EXPECT_NE(bcode, 0);
  EXPECT_NE(bad.find("--records"), std::string::npos) << bad;
  auto [fcode, fsync] =
      run({"dummy", "--fsync", "sometimes", "--data-dir", dir.string()}, (dir / "f.log").string());
  EXPECT_EQ(fcode, 2);
  EXPECT_NE(fsync.find("--fsync must be"), std::string::npos) << fsync;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sf::e2e
