// CRC-32C: hardware instruction when available, Boost.CRC as the portable reference.
#include "core/crc32c.h"

#include <boost/crc.hpp>

#include <array>
#include <cstring>

namespace sf {
namespace {

using PortableCrc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles but a throughput of 1 per cycle, so three independent
// streams over three adjacent blocks run about three times faster than one; their CRCs are then combined by
// "appending" a block's worth of zero bits to the earlier ones (a linear operator over GF(2), applied with
// byte tables). The technique of Intel's iSCSI paper and Mark Adler's crc32c.c.
constexpr uint32_t kReflectedPoly = 0x82F63B78u;
constexpr std::size_t kLongBlock = 8192;  // bytes per stream in the main loop
constexpr std::size_t kShortBlock = 256;  // bytes per stream for what is left

using Gf2Matrix = std::array<uint32_t, 32>;

uint32_t gf2_times(const Gf2Matrix& mat, uint32_t vec) {
  uint32_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1) {
    if (vec & 1u) sum ^= mat[static_cast<std::size_t>(i)];
  }
  return sum;
}

Gf2Matrix gf2_square(const Gf2Matrix& mat) {
  Gf2Matrix square;
  for (std::size_t n = 0; n < 32; ++n) square[n] = gf2_times(mat, mat[n]);
  return square;
}

// Byte tables of the operator that appends `bytes` zero bytes (a power of two) to a CRC register.
struct ZerosTables {
  std::array<std::array<uint32_t, 256>, 4> t;

  explicit ZerosTables(std::size_t bytes) {
    Gf2Matrix op;  // one zero bit
    op[0] = kReflectedPoly;
    for (std::size_t n = 1; n < 32; ++n) op[n] = 1u << (n - 1);
    op = gf2_square(op);  // 2 bits
    op = gf2_square(op);  // 4 bits
    op = gf2_square(op);  // 8 bits: one byte
    for (std::size_t b = bytes; b > 1; b >>= 1) op = gf2_square(op);
    for (uint32_t n = 0; n < 256; ++n) {
      t[0][n] = gf2_times(op, n);
      t[1][n] = gf2_times(op, n << 8);
      t[2][n] = gf2_times(op, n << 16);
      t[3][n] = gf2_times(op, n << 24);
    }
  }
  uint32_t shift(uint32_t crc) const {
    return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^ t[3][crc >> 24];
  }
};

const ZerosTables& long_zeros() {
  static const ZerosTables tables(kLongBlock);  // built once, read-only afterwards
  return tables;
}
const ZerosTables& short_zeros() {
  static const ZerosTables tables(kShortBlock);
  return tables;
}

__attribute__((target("sse4.2"))) inline uint64_t crc_word(uint64_t crc, const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return __builtin_ia32_crc32di(crc, word);
}

// Three streams of `block` bytes each, while at least 3 * block bytes remain.
__attribute__((target("sse4.2"))) uint64_t crc_three_streams(uint64_t crc0, const unsigned char*& p,
                                                             std::size_t& size, std::size_t block,
                                                             const ZerosTables& zeros) {
  while (size >= 3 * block) {
    uint64_t crc1 = 0, crc2 = 0;
    const unsigned char* const end = p + block;
    do {
      crc0 = crc_word(crc0, p);
      crc1 = crc_word(crc1, p + block);
      crc2 = crc_word(crc2, p + 2 * block);
      p += 8;
    } while (p < end);
    crc0 = zeros.shift(static_cast<uint32_t>(crc0)) ^ crc1;
    crc0 = zeros.shift(static_cast<uint32_t>(crc0)) ^ crc2;
    p += 2 * block;
    size -= 3 * block;
  }
  return crc0;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t crc, const void* data, std::size_t size) {
  auto p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  if (size >= 3 * kShortBlock) {
    c = crc_three_streams(c, p, size, kLongBlock, long_zeros());
    c = crc_three_streams(c, p, size, kShortBlock, short_zeros());
  }
  while (size >= 8) {
    c = crc_word(c, p);
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (size-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

bool cpu_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t crc32c_extend_portable(uint32_t crc, const void* data, std::size_t size) {
  // Boost takes the initial register in unreflected bit order; continuing a finished (reflected, inverted)
  // checksum therefore needs ~crc with its bits reversed.
  uint32_t reg = ~crc;
  uint32_t unreflected = 0;
  for (int bit = 0; bit < 32; ++bit) unreflected |= ((reg >> bit) & 1u) << (31 - bit);
  PortableCrc32c engine(unreflected);
  engine.process_bytes(data, size);
  return engine.checksum();
}

uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t size) {
#if defined(__x86_64__)
  if (cpu_has_sse42()) return crc32c_sse42(crc, data, size);
#endif
  return crc32c_extend_portable(crc, data, size);
}

}  // namespace sf
