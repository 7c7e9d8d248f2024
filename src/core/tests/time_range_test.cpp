#include "core/time_range.h"

#include <gtest/gtest.h>

namespace sf {
namespace {

constexpr TimestampMs kAug1 = 1722470400000;  // 2024-08-01T00:00:00Z
constexpr TimestampMs kDay = 86400000;

TEST(TimeRange, DatesAreHalfOpenDays) {
  auto r = parse_time_range("2024-08-01:2024-08-02");
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->start_ms, kAug1);
  EXPECT_EQ(*r->end_ms, kAug1 + kDay);
  EXPECT_TRUE(r->contains(kAug1));
  EXPECT_TRUE(r->contains(kAug1 + kDay - 1));
  EXPECT_FALSE(r->contains(kAug1 + kDay));
  EXPECT_EQ((*r->end_ms - r->start_ms) / (5 * 60 * 1000), 288);  // 288 five-minute candles
}

TEST(TimeRange, TimesWithColons) {
  auto r = parse_time_range("2024-08-01T12:00:00Z:2024-08-01T18:30:00.250Z");
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->start_ms, kAug1 + 12 * 3600000LL);
  EXPECT_EQ(*r->end_ms, kAug1 + 18 * 3600000LL + 30 * 60000 + 250);
  auto mixed = parse_time_range("2024-08-01T12:00:2024-08-02");
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->start_ms, kAug1 + 12 * 3600000LL);
}

TEST(TimeRange, OpenEndedForLive) {
  auto r = parse_time_range("2024-08-01:");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->end_ms.has_value());
  auto bare = parse_time_range("2024-08-01");
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->end_ms.has_value());
}

TEST(TimeRange, EpochMilliseconds) {
  auto r = parse_time_range("1722470400000:1722556800000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start_ms, kAug1);
  EXPECT_EQ(*r->end_ms, kAug1 + kDay);
}

TEST(TimeRange, RejectsBadInputWithMessage) {
  for (const char* bad : {"", "2024-13-01:2024-12-02", "2024-02-30:2024-03-01", "yesterday:today",
                          "2024-08-01T25:00:2024-08-02", "2024-08-01:2024-08-01x"}) {
    auto r = parse_time_range(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    }
  }
  auto backwards = parse_time_range("2024-08-02:2024-08-01");
  ASSERT_FALSE(backwards);
  EXPECT_NE(backwards.status().message().find("END must be after START"), std::string::npos);
}

TEST(TimeRange, Formatting) {
  EXPECT_EQ(format_utc_date(kAug1), "2024-08-01");
  EXPECT_EQ(format_utc_iso(kAug1 + 3723004), "2024-08-01T01:02:03.004Z");
  EXPECT_EQ(format_time_range(TimeRange{kAug1, kAug1 + kDay}), "2024-08-01:2024-08-02");
  EXPECT_EQ(format_time_range(TimeRange{kAug1 + 1000, std::nullopt}), "2024-08-01T00:00:01.000Z:");
  // Round trip
  auto r = parse_time_range(format_time_range(TimeRange{kAug1 + 1000, kAug1 + 5000}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start_ms, kAug1 + 1000);
}

}  // namespace
}  // namespace sf
