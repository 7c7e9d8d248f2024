// SplitMix64 (Steele, Lea and Flood; the constants of Vigna's reference code): the one deterministic
// hash/generator of the synthetic data (exchange simulator, synthetic and dummy loaders). One definition, so
// every producer of "the same candle" derives it from the same bits on every machine.
#pragma once

#include <cstdint>

namespace sf {

// The generator's state increment (2^64 / golden ratio).
inline constexpr uint64_t kSplitMix64Increment = 0x9e3779b97f4a7c15ULL;

// The output function alone: a bijective 64-bit mixer (good avalanche), for hashing values that are
// already spread (seeds, combined keys).
constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One step of the generator from state `x` (the increment, then the mixer): also a good hash of small or
// sequential integers such as open times.
constexpr uint64_t splitmix64(uint64_t x) {
  return splitmix64_mix(x + kSplitMix64Increment);
}

// Uniform in [0, 1) from the top 53 bits of a hash.
constexpr double unit_interval(uint64_t h) {
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

}  // namespace sf
