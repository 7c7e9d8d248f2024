// Key encoding of the RocksDB backend: numeric keys by value and first, other keys bytewise.
#include "store/rocksdb/key_codec.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sf::store::rocksdb_backend {
namespace {

TEST(KeyCodecTest, RecognisesNumericKeys) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_numeric_key("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(parse_numeric_key("1722470400000", &v));
  EXPECT_EQ(v, 1722470400000u);
  EXPECT_TRUE(parse_numeric_key("9223372036854775807", &v));
  EXPECT_EQ(v, 9223372036854775807u);
  for (const char* key :
       {"", "00", "0123", "-1", "+1", "12a", "1.5", "9223372036854775808", "99999999999999999999", "1e3"}) {
    EXPECT_FALSE(parse_numeric_key(key, &v)) << key;
  }
}

TEST(KeyCodecTest, DecodeGivesBackTheOriginalText) {
  std::array<char, 20> scratch;
  for (const char* key : {"0", "7", "1722470400000", "9223372036854775807", "9223372036854775808", "007",
                          "abc", "a:b@c", "1e3"}) {
    std::string encoded = encode_key(key);
    EXPECT_EQ(decode_key(encoded, scratch), key);
  }
  EXPECT_EQ(encode_key("1722470400000").size(), kNumericEncodedSize);
}

// The reference order the encoding must reproduce.
bool key_less(const std::string& a, const std::string& b) {
  uint64_t va = 0, vb = 0;
  bool na = parse_numeric_key(a, &va), nb = parse_numeric_key(b, &vb);
  if (na && nb) return va < vb;
  if (na != nb) return na;
  return a < b;
}

TEST(KeyCodecTest, BytewiseOrderOfEncodingIsKeyOrder) {
  std::mt19937_64 rng(42);
  std::vector<std::string> keys = {
      "0",  "1",  "9", "10", "99", "100", "9223372036854775807", "9223372036854775808", "00",
      "01", "1a", "A", "a",  "",   "~"};
  const std::string alphabet = "0123456789abcXYZ_-:.";
  for (int i = 0; i < 2000; ++i) {
    std::string key;
    if (i % 2 == 0) {
      key = std::to_string(rng() >> (rng() % 64));  // numbers of every digit count
    } else {
      for (size_t n = 1 + rng() % 12; n > 0; --n) key.push_back(alphabet[rng() % alphabet.size()]);
    }
    keys.push_back(key);
  }
  std::vector<std::string> by_reference = keys;
  std::sort(by_reference.begin(), by_reference.end(), key_less);
  std::vector<std::string> by_encoding = keys;
  std::sort(by_encoding.begin(), by_encoding.end(),
            [](const std::string& a, const std::string& b) { return encode_key(a) < encode_key(b); });
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_FALSE(key_less(by_reference[i], by_encoding[i]) || key_less(by_encoding[i], by_reference[i]))
        << i << ": " << by_reference[i] << " vs " << by_encoding[i];
  }
}

}  // namespace
}  // namespace sf::store::rocksdb_backend
