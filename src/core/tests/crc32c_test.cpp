#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sf {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) B.4 test vectors and the classic "123456789" check value.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ExtendComposesAndMatchesPortable) {
  std::mt19937 rng(7);
  std::string data(1000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  uint32_t whole = crc32c(data);
  EXPECT_EQ(crc32c_extend_portable(0, data.data(), data.size()), whole);
  for (std::size_t split : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    uint32_t part = crc32c_extend(0, data.data(), split);
    EXPECT_EQ(crc32c_extend(part, data.data() + split, data.size() - split), whole) << split;
    uint32_t p2 = crc32c_extend_portable(0, data.data(), split);
    EXPECT_EQ(crc32c_extend_portable(p2, data.data() + split, data.size() - split), whole) << split;
  }
}

}  // namespace
}  // namespace sf
