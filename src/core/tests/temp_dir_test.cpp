#include "core/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>

namespace sf {
namespace {

TEST(TempDir, IsCreatedEmptyAndRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    TempDir dir("sf-core-test-");
    kept = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(kept));
    EXPECT_TRUE(std::filesystem::is_empty(kept));
    EXPECT_EQ(kept.filename().string().rfind("sf-core-test-", 0), 0u);
    std::filesystem::create_directories(kept / "a" / "b");
    std::ofstream(kept / "a" / "b" / "f") << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(TempDir, TwoAreDistinctAndAMoveTransfersOwnership) {
  TempDir a("sf-core-test-");
  TempDir b("sf-core-test-");
  EXPECT_NE(a.path(), b.path());
  const auto path_a = a.path();
  TempDir moved(std::move(a));
  EXPECT_EQ(moved.path(), path_a);
  EXPECT_TRUE(a.path().empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  b = std::move(moved);
  EXPECT_EQ(b.path(), path_a);
  EXPECT_TRUE(std::filesystem::exists(path_a));
}

}  // namespace
}  // namespace sf
