// Kafka wire primitives: big-endian integers, varints, (compact/nullable) strings, bytes and arrays, tagged
// fields. Internal to kafka/; handlers build on these and never touch raw bytes.
//
// Reader never throws and never reads out of bounds: the first malformed or truncated field sets a sticky
// error, after which every read returns a zero value; callers check ok() once after decoding a request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sf::kafka {

class Reader {
 public:
  explicit Reader(std::string_view bytes) : data_(bytes) {}

  int8_t i8();
  int16_t i16();
  int32_t i32();
  int64_t i64();
  bool boolean() { return i8() != 0; }
  int32_t varint();   // zigzag
  int64_t varlong();  // zigzag
  uint32_t uvarint();

  std::string_view string();                          // i16 length, not null
  std::optional<std::string_view> nullable_string();  // i16 length, -1 = null
  std::string_view compact_string();                  // uvarint length+1
  std::optional<std::string_view> compact_nullable_string();
  std::optional<std::string_view> nullable_bytes();  // i32 length, -1 = null
  std::string_view bytes() { return nullable_bytes().value_or(std::string_view()); }
  std::optional<std::string_view> compact_nullable_bytes();

  // Array lengths: -1 (null) is returned as -1; a length larger than the bytes left (each element needs at
  // least `min_element_size` bytes) is an error, so hostile lengths cannot make callers allocate.
  int32_t array_length(std::size_t min_element_size = 1);
  int32_t compact_array_length(std::size_t min_element_size = 1);  // uvarint n+1; 0 = null (-1)
  void skip_tagged_fields();

  bool ok() const { return ok_; }
  void fail() { ok_ = false; }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  std::string_view rest() const { return ok_ ? data_.substr(pos_) : std::string_view(); }

 private:
  bool need(std::size_t n);
  std::string_view take(std::size_t n);

  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends to a std::string. Sizes of arrays and bytes are written up front by the caller, or patched in
// later with reserve_i32()/patch_i32().
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void i8(int8_t v) { out_.push_back(static_cast<char>(v)); }
  void i16(int16_t v);
  void i32(int32_t v);
  void i64(int64_t v);
  void boolean(bool v) { i8(v ? 1 : 0); }
  void uvarint(uint32_t v);
  void varint(int32_t v);

  void string(std::string_view s);
  void nullable_string(std::optional<std::string_view> s);
  void compact_string(std::string_view s);
  void compact_nullable_string(std::optional<std::string_view> s);
  void bytes(std::string_view b);
  void nullable_bytes(std::optional<std::string_view> b);
  void array_length(int32_t n) { i32(n); }
  void compact_array_length(int32_t n) { uvarint(static_cast<uint32_t>(n + 1)); }
  void empty_tagged_fields() { uvarint(0); }
  void raw(std::string_view b) { out_.append(b); }

  std::size_t reserve_i32();
  void patch_i32(std::size_t at, int32_t v);
  std::size_t size() const { return out_.size(); }
  std::string& buffer() { return out_; }

 private:
  std::string& out_;
};

}  // namespace sf::kafka
