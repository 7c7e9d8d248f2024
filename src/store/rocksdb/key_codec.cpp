// Internal: key encoding for the RocksDB backend (see key_codec.h).
#include "store/rocksdb/key_codec.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace sf::store::rocksdb_backend {

bool parse_numeric_key(std::string_view key, uint64_t* value) {
  if (key.empty() || key.size() > kMaxDecodedNumericSize) return false;
  if (key[0] == '0' && key.size() > 1) return false;
  uint64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');  // 19 digits cannot overflow uint64
  }
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  *value = v;
  return true;
}

void append_encoded_key(std::string_view key, std::string* out) {
  uint64_t v = 0;
  if (parse_numeric_key(key, &v)) {
    char buf[kNumericEncodedSize];
    buf[0] = kNumericTag;
    for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
    out->append(buf, sizeof buf);
  } else {
    out->push_back(kTextTag);
    out->append(key);
  }
}

std::string encode_key(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  append_encoded_key(key, &out);
  return out;
}

std::string_view decode_key(std::string_view encoded, std::array<char, 20>& scratch) {
  if (encoded.size() == kNumericEncodedSize && encoded[0] == kNumericTag) {
    uint64_t v = 0;
    for (size_t i = 1; i < kNumericEncodedSize; ++i) v = (v << 8) | static_cast<unsigned char>(encoded[i]);
    auto [end, ec] = std::to_chars(scratch.data(), scratch.data() + scratch.size(), v);
    (void)ec;  // 20 chars always suffice for a uint64
    return {scratch.data(), static_cast<size_t>(end - scratch.data())};
  }
  if (!encoded.empty()) encoded.remove_prefix(1);
  return encoded;
}

}  // namespace sf::store::rocksdb_backend
