// Kafka wire primitives (see wire.h).
#include "kafka/wire.h"

#include <cstring>
#include <limits>

namespace sf::kafka {

bool Reader::need(std::size_t n) {
  if (!ok_ || data_.size() - pos_ < n) {
    ok_ = false;
    return false;
  }
  return true;
}

std::string_view Reader::take(std::size_t n) {
  if (!need(n)) return {};
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

namespace {
template <typename T>
T load_be(const char* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | static_cast<uint8_t>(p[i]));
  return static_cast<T>(v);
}
template <typename T>
void store_be(std::string& out, T value) {
  using U = std::make_unsigned_t<T>;
  const U v = static_cast<U>(value);
  char b[sizeof(T)];
  for (std::size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - i)));
  out.append(b, sizeof(T));
}
}  // namespace

int8_t Reader::i8() {
  auto b = take(1);
  return b.empty() ? 0 : static_cast<int8_t>(b[0]);
}
int16_t Reader::i16() {
  auto b = take(2);
  return b.empty() ? 0 : load_be<int16_t>(b.data());
}
int32_t Reader::i32() {
  auto b = take(4);
  return b.empty() ? 0 : load_be<int32_t>(b.data());
}
int64_t Reader::i64() {
  auto b = take(8);
  return b.empty() ? 0 : load_be<int64_t>(b.data());
}

uint32_t Reader::uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (!need(1)) return 0;
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    v |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  ok_ = false;
  return 0;
}

int32_t Reader::varint() {
  const uint32_t u = uvarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::varlong() {
  uint64_t u = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (!need(1)) return 0;
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    u |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  ok_ = false;
  return 0;
}

std::optional<std::string_view> Reader::nullable_string() {
  const int16_t n = i16();
  if (!ok_) return std::string_view();
  if (n == -1) return std::nullopt;
  if (n < 0) {
    ok_ = false;
    return std::string_view();
  }
  return take(static_cast<std::size_t>(n));
}

std::string_view Reader::string() {
  auto s = nullable_string();
  if (!s) {
    ok_ = false;
    return {};
  }
  return *s;
}

std::optional<std::string_view> Reader::compact_nullable_string() {
  const uint32_t n = uvarint();
  if (!ok_) return std::string_view();
  if (n == 0) return std::nullopt;
  return take(n - 1);
}

std::string_view Reader::compact_string() {
  auto s = compact_nullable_string();
  if (!s) {
    ok_ = false;
    return {};
  }
  return *s;
}

std::optional<std::string_view> Reader::nullable_bytes() {
  const int32_t n = i32();
  if (!ok_) return std::string_view();
  if (n == -1) return std::nullopt;
  if (n < 0) {
    ok_ = false;
    return std::string_view();
  }
  return take(static_cast<std::size_t>(n));
}

std::optional<std::string_view> Reader::compact_nullable_bytes() {
  return compact_nullable_string();
}

int32_t Reader::array_length(std::size_t min_element_size) {
  const int32_t n = i32();
  if (!ok_) return 0;
  if (n == -1) return -1;
  if (n < 0 || static_cast<std::size_t>(n) * std::max<std::size_t>(min_element_size, 1) > remaining()) {
    ok_ = false;
    return 0;
  }
  return n;
}

int32_t Reader::compact_array_length(std::size_t min_element_size) {
  const uint32_t n = uvarint();
  if (!ok_) return 0;
  if (n == 0) return -1;
  if (static_cast<std::size_t>(n - 1) * std::max<std::size_t>(min_element_size, 1) > remaining()) {
    ok_ = false;
    return 0;
  }
  return static_cast<int32_t>(n - 1);
}

void Reader::skip_tagged_fields() {
  const uint32_t count = uvarint();
  if (count > remaining()) {
    ok_ = false;
    return;
  }
  for (uint32_t i = 0; i < count && ok_; ++i) {
    uvarint();  // tag
    const uint32_t size = uvarint();
    take(size);
  }
}

void Writer::i16(int16_t v) {
  store_be(out_, v);
}
void Writer::i32(int32_t v) {
  store_be(out_, v);
}
void Writer::i64(int64_t v) {
  store_be(out_, v);
}

void Writer::uvarint(uint32_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void Writer::varint(int32_t v) {
  uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void Writer::string(std::string_view s) {
  i16(static_cast<int16_t>(s.size()));
  out_.append(s);
}

void Writer::nullable_string(std::optional<std::string_view> s) {
  if (!s) return i16(-1);
  string(*s);
}

void Writer::compact_string(std::string_view s) {
  uvarint(static_cast<uint32_t>(s.size() + 1));
  out_.append(s);
}

void Writer::compact_nullable_string(std::optional<std::string_view> s) {
  if (!s) return uvarint(0);
  compact_string(*s);
}

void Writer::bytes(std::string_view b) {
  i32(static_cast<int32_t>(b.size()));
  out_.append(b);
}

void Writer::nullable_bytes(std::optional<std::string_view> b) {
  if (!b) return i32(-1);
  bytes(*b);
}

std::size_t Writer::reserve_i32() {
  const std::size_t at = out_.size();
  out_.append(4, '\0');
  return at;
}

void Writer::patch_i32(std::size_t at, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<char>(u >> (8 * (3 - i)));
}

}  // namespace sf::kafka
