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

// The three-stream path (blocks of 8 KiB and 256 B) against the portable reference, at every size class and
// at unaligned starts.
TEST(Crc32c, LongBuffersMatchPortable) {
  std::mt19937 rng(11);
  std::string data(200'000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (std::size_t size : {767, 768, 769, 1000, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 777, 100'003, 199'990}) {
    for (std::size_t start : {0, 1, 3, 8}) {
      EXPECT_EQ(crc32c_extend(0x1234567u, data.data() + start, size),
                crc32c_extend_portable(0x1234567u, data.data() + start, size))
          << size << " at " << start;
    }
  }
  std::string zeros(3 * 8192 * 4, '\0');
  EXPECT_EQ(crc32c(zeros), crc32c_extend_portable(0, zeros.data(), zeros.size()));
}

}  // namespace
}  // namespace sf
