#include "core/status.h"

#include <gtest/gtest.h>

namespace sf {
namespace {

Result<int> half(int x) {
  if (x % 2) return Status::invalid_argument("odd number " + std::to_string(x));
  return x / 2;
}

Status chain(int x) {
  SF_RETURN_IF_ERROR(half(x).status());
  return Status::ok();
}

TEST(Status, ResultCarriesValueOrError) {
  auto ok = half(10);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().to_string(), "InvalidArgument: odd number 3");
  EXPECT_FALSE(chain(3));
  EXPECT_TRUE(chain(4));
}

TEST(Status, HttpMapping) {
  EXPECT_EQ(http_status_for(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for(ErrorCode::kNotFound), 404);
  EXPECT_EQ(http_status_for(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(http_status_for(ErrorCode::kInternal), 500);
}

TEST(Status, ValueOrThrow) {
  EXPECT_EQ(value_or_throw(half(8)), 4);
  EXPECT_THROW(value_or_throw(half(7)), Error);
}

}  // namespace
}  // namespace sf
