// Internal: the byte encoding of document keys in RocksDB, chosen so that bytewise order is the store's key
// order (numeric keys by value, before all other keys, which sort bytewise).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sf::store::rocksdb_backend {

// Encoded key = tag byte + payload. Numeric: kNumericTag + 8-byte big-endian value. Other: kTextTag + bytes.
inline constexpr char kNumericTag = '\x01';
inline constexpr char kTextTag = '\x02';
inline constexpr size_t kNumericEncodedSize = 9;
inline constexpr size_t kMaxDecodedNumericSize = 19;  // digits of INT64_MAX

// True if `key` is numeric in the store's sense: decimal digits, no leading zero unless it is "0",
// value <= INT64_MAX. Sets *value then.
bool parse_numeric_key(std::string_view key, uint64_t* value);

// Appends the encoding of `key` (any text: also used for scan bounds) to *out.
void append_encoded_key(std::string_view key, std::string* out);
std::string encode_key(std::string_view key);

// The original key text of an encoded key. The result points into `encoded` or into `scratch`.
std::string_view decode_key(std::string_view encoded, std::array<char, 20>& scratch);

}  // namespace sf::store::rocksdb_backend
