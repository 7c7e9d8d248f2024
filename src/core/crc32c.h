// CRC-32C (Castagnoli), the checksum of Kafka record batches and of the embedded log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sf {

// Extends `crc` (0 for a fresh checksum) over `size` bytes at `data`. Thread-safe.
// Uses the SSE4.2 crc32 instruction when the CPU has it, Boost.CRC otherwise.
uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t size);

inline uint32_t crc32c(const void* data, std::size_t size) {
  return crc32c_extend(0, data, size);
}
inline uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes.data(), bytes.size());
}

// The portable implementation, exposed so tests can check the fast path against it.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, std::size_t size);

}  // namespace sf
