// Kafka's default partitioner for keyed records: murmur2 exactly as org.apache.kafka.common.utils.Utils
// computes it, so a key lands in the same partition here as on a real Kafka cluster. Internal to bus/.
#pragma once

#include <cstdint>
#include <string_view>

namespace sf::bus {

// Utils.murmur2(byte[]): MurmurHash2, seed 0x9747b28c, the Java int result (may be negative).
int32_t murmur2(std::string_view data);

// Utils.toPositive(int): clears the sign bit (not abs()).
inline int32_t to_positive(int32_t n) {
  return n & 0x7fffffff;
}

}  // namespace sf::bus
