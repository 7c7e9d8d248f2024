// A growable byte buffer that, unlike std::string, never zero-fills: the hot paths encode or pread straight
// into it and reuse it across calls.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sf::bus {

class ByteBuffer {
 public:
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data_.get(), size_}; }

  void clear() { size_ = 0; }
  // Sets the size; bytes beyond the old size are uninitialised. Keeps the first min(old, n) bytes.
  void resize(std::size_t n) {
    reserve(n);
    size_ = n;
  }
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    std::size_t cap = capacity_ < 4096 ? 4096 : capacity_;
    while (cap < n) cap *= 2;
    auto fresh = std::make_unique_for_overwrite<char[]>(cap);
    if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
    data_ = std::move(fresh);
    capacity_ = cap;
  }
  void append(std::string_view bytes) {
    std::size_t old = size_;
    resize(old + bytes.size());
    if (!bytes.empty()) std::memcpy(data_.get() + old, bytes.data(), bytes.size());
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace sf::bus
