// gzip (zlib), snappy (raw, or Kafka Java's xerial framing), lz4 (LZ4 frame, as KIP-57 fixed it) and zstd.
#include "bus/compression.h"

#include <fmt/format.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

namespace sf::bus {
namespace {

Status corrupt(int codec, std::string_view what) {
  return Status::corruption(fmt::format("{} records: {}", compression_codec_name(codec), what));
}

// Grows `out` for a streaming decoder: more room at the end, within `max_bytes`.
bool grow(ByteBuffer& out, std::size_t used, std::size_t max_bytes, std::size_t hint) {
  if (used >= max_bytes) return false;
  const std::size_t want =
      std::min(max_bytes, std::max<std::size_t>(used * 2, used + std::max<std::size_t>(hint, 4096)));
  out.resize(want);
  return true;
}

Status gunzip(std::string_view in, ByteBuffer& out, std::size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Status::internal("zlib inflateInit2 failed");  // gzip or zlib
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&z, inflateEnd);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::size_t used = 0;
  out.resize(std::min(max_bytes, in.size() * 4 + 1024));
  for (;;) {
    if (used == out.size() && !grow(out, used, max_bytes, in.size())) return corrupt(1, "too large");
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = inflate(&z, Z_NO_FLUSH);
    used = out.size() - z.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) return corrupt(1, "truncated stream");
    if (rc != Z_OK && rc != Z_BUF_ERROR) return corrupt(1, z.msg != nullptr ? z.msg : "inflate failed");
  }
  out.resize(used);
  return Status::ok();
}

Status unsnappy_block(std::string_view in, ByteBuffer& out, std::size_t max_bytes) {
  std::size_t length = 0;
  if (snappy_uncompressed_length(in.data(), in.size(), &length) != SNAPPY_OK) return corrupt(2, "bad length");
  const std::size_t at = out.size();
  if (at + length > max_bytes) return corrupt(2, "too large");
  out.resize(at + length);
  if (snappy_uncompress(in.data(), in.size(), out.data() + at, &length) != SNAPPY_OK)
    return corrupt(2, "malformed");
  out.resize(at + length);
  return Status::ok();
}

Status unsnappy(std::string_view in, ByteBuffer& out, std::size_t max_bytes) {
  out.clear();
  static constexpr std::string_view kXerialMagic("\x82SNAPPY\0", 8);
  if (!in.starts_with(kXerialMagic)) return unsnappy_block(in, out, max_bytes);
  // Java's xerial framing: magic, version, compatible version, then blocks of [u32 BE length][snappy].
  if (in.size() < 16) return corrupt(2, "truncated xerial header");
  std::size_t pos = 16;
  while (pos < in.size()) {
    if (in.size() - pos < 4) return corrupt(2, "truncated xerial block length");
    const auto* p = reinterpret_cast<const unsigned char*>(in.data() + pos);
    const std::size_t n =
        (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    pos += 4;
    if (n > in.size() - pos) return corrupt(2, "truncated xerial block");
    SF_RETURN_IF_ERROR(unsnappy_block(in.substr(pos, n), out, max_bytes));
    pos += n;
  }
  return Status::ok();
}

Status unlz4(std::string_view in, ByteBuffer& out, std::size_t max_bytes) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    return Status::internal("LZ4F_createDecompressionContext failed");
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> guard(ctx,
                                                                             LZ4F_freeDecompressionContext);
  std::size_t in_pos = 0, used = 0;
  out.resize(std::min(max_bytes, in.size() * 4 + 1024));
  for (;;) {
    if (used == out.size() && !grow(out, used, max_bytes, in.size())) return corrupt(3, "too large");
    std::size_t out_n = out.size() - used, in_n = in.size() - in_pos;
    const std::size_t rc =
        LZ4F_decompress(ctx, out.data() + used, &out_n, in.data() + in_pos, &in_n, nullptr);
    if (LZ4F_isError(rc)) return corrupt(3, LZ4F_getErrorName(rc));
    used += out_n;
    in_pos += in_n;
    if (rc == 0) break;  // frame complete
    if (in_pos == in.size() && out_n == 0) return corrupt(3, "truncated frame");
  }
  out.resize(used);
  return Status::ok();
}

Status unzstd(std::string_view in, ByteBuffer& out, std::size_t max_bytes) {
  ZSTD_DStream* stream = ZSTD_createDStream();
  if (stream == nullptr) return Status::internal("ZSTD_createDStream failed");
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> guard(stream, ZSTD_freeDStream);
  ZSTD_initDStream(stream);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t used = 0;
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  std::size_t first = in.size() * 4 + 1024;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR && declared <= max_bytes)
    first = static_cast<std::size_t>(declared) + 1;
  out.resize(std::min(max_bytes, first));
  for (;;) {
    if (used == out.size() && !grow(out, used, max_bytes, in.size())) return corrupt(4, "too large");
    ZSTD_outBuffer output{out.data() + used, out.size() - used, 0};
    const std::size_t rc = ZSTD_decompressStream(stream, &output, &input);
    if (ZSTD_isError(rc)) return corrupt(4, ZSTD_getErrorName(rc));
    used += output.pos;
    if (rc == 0 && input.pos == input.size) break;  // every frame done
    if (input.pos == input.size && output.pos < output.size) return corrupt(4, "truncated frame");
  }
  out.resize(used);
  return Status::ok();
}

}  // namespace

std::string_view compression_codec_name(int codec) {
  static constexpr std::string_view kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  return codec >= 0 && codec <= 4 ? kNames[codec] : "unknown";
}

Status decompress_records(int codec, std::string_view compressed, ByteBuffer& out, std::size_t max_bytes) {
  switch (codec) {
    case 1:
      return gunzip(compressed, out, max_bytes);
    case 2:
      return unsnappy(compressed, out, max_bytes);
    case 3:
      return unlz4(compressed, out, max_bytes);
    case 4:
      return unzstd(compressed, out, max_bytes);
    default:
      return Status::invalid_argument(fmt::format("compression codec {} is not a Kafka codec", codec));
  }
}

}  // namespace sf::bus
