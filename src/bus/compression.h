// Decompression of Kafka record batches (attributes bits 0-2: 1 gzip, 2 snappy, 3 lz4, 4 zstd): the
// records section after the 61-byte header is one compressed stream. Batches are stored and served as
// received; the bus decompresses only where it reads records (validation on append, its own consumers,
// recovery). Internal to bus/.
#pragma once

#include <string_view>

#include "bus/byte_buffer.h"
#include "core/status.h"

namespace sf::bus {

// Decompresses `compressed` (codec 1..4) into `out` (replacing its contents). Corruption for malformed
// input or an output above `max_bytes`; InvalidArgument for another codec.
Status decompress_records(int codec, std::string_view compressed, ByteBuffer& out, std::size_t max_bytes);

std::string_view compression_codec_name(int codec);

}  // namespace sf::bus
