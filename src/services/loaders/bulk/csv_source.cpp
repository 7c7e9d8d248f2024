// Zip/CSV line streaming (see csv_source.h).
#include "services/loaders/bulk/csv_source.h"

#include <zip.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace sf::services::loaders::bulk {
namespace {

constexpr size_t kBlockBytes = 4u << 20;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// Reads raw bytes with `read(buf, n) -> bytes | -1` and hands out whole lines. `carry` holds the partial
// last line between reads; the buffer is reused, so there is no allocation per block after the first.
template <typename Read>
Status pump_lines(Read&& read, const LineBlockHandler& on_lines, CsvSourceStats* stats,
                  const std::filesystem::path& path) {
  std::vector<char> buf(kBlockBytes + 1);
  size_t carry = 0;
  for (;;) {
    if (carry == kBlockBytes) {
      return Status::corruption(fmt::format("{}: a line longer than {} bytes", path.string(), kBlockBytes));
    }
    int64_t n = read(buf.data() + carry, kBlockBytes - carry);
    if (n < 0) return Status::corruption(fmt::format("{}: read failed", path.string()));
    if (stats) stats->uncompressed_bytes += static_cast<uint64_t>(n);
    const size_t filled = carry + static_cast<size_t>(n);
    if (n == 0) {
      if (carry > 0) SF_RETURN_IF_ERROR(on_lines(std::string_view(buf.data(), carry)));
      return Status::ok();
    }
    // Everything up to the last '\n' is whole lines.
    size_t cut = filled;
    while (cut > 0 && buf[cut - 1] != '\n') --cut;
    if (cut > 0) SF_RETURN_IF_ERROR(on_lines(std::string_view(buf.data(), cut - 1)));
    carry = filled - cut;
    if (carry > 0) std::memmove(buf.data(), buf.data() + cut, carry);
  }
}

struct OpenZip {
  std::unique_ptr<zip_t, ZipCloser> archive;
  std::unique_ptr<zip_file_t, ZipFileCloser> entry;
  std::string entry_name;
};

Result<OpenZip> open_zip(const std::filesystem::path& path) {
  int err = 0;
  OpenZip z;
  z.archive.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!z.archive) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    std::string msg = fmt::format("{}: not a readable zip: {}", path.string(), zip_error_strerror(&e));
    zip_error_fini(&e);
    return Status::corruption(std::move(msg));
  }
  const zip_int64_t n = zip_get_num_entries(z.archive.get(), 0);
  if (n <= 0) return Status::corruption(fmt::format("{}: the zip is empty", path.string()));
  zip_uint64_t index = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z.archive.get(), static_cast<zip_uint64_t>(i), 0);
    if (name != nullptr && std::string_view(name).ends_with(".csv")) {
      index = static_cast<zip_uint64_t>(i);
      break;
    }
  }
  const char* name = zip_get_name(z.archive.get(), index, 0);
  z.entry_name = name ? name : "?";
  z.entry.reset(zip_fopen_index(z.archive.get(), index, 0));
  if (!z.entry) {
    return Status::corruption(
        fmt::format("{}: cannot open {}: {}", path.string(), z.entry_name, zip_strerror(z.archive.get())));
  }
  return z;
}

Status zip_read_error(const std::filesystem::path& path, OpenZip& z) {
  return Status::corruption(
      fmt::format("{}: {} is corrupt: {}", path.string(), z.entry_name, zip_file_strerror(z.entry.get())));
}

}  // namespace

bool is_zip_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".zip";
}

Status read_csv_blocks(const std::filesystem::path& path, const LineBlockHandler& on_lines,
                       CsvSourceStats* stats) {
  std::error_code ec;
  if (stats) stats->compressed_bytes = std::filesystem::file_size(path, ec);
  if (ec) return Status::not_found(fmt::format("{}: {}", path.string(), ec.message()));
  if (is_zip_path(path)) {
    auto z = open_zip(path);
    if (!z) return z.status();
    bool failed = false;
    Status s = pump_lines(
        [&](char* p, size_t n) -> int64_t {
          zip_int64_t r = zip_fread(z->entry.get(), p, n);
          if (r < 0) failed = true;
          return r;
        },
        on_lines, stats, path);
    if (failed) return zip_read_error(path, *z);
    return s;
  }
  std::unique_ptr<std::FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::not_found(fmt::format("cannot open {}", path.string()));
  return pump_lines(
      [&](char* p, size_t n) -> int64_t {
        size_t r = std::fread(p, 1, n, f.get());
        if (r == 0 && std::ferror(f.get())) return -1;
        return static_cast<int64_t>(r);
      },
      on_lines, stats, path);
}

Status verify_zip(const std::filesystem::path& path) {
  if (!is_zip_path(path)) return Status::ok();
  auto z = open_zip(path);
  if (!z) return z.status();
  std::vector<char> buf(kBlockBytes);
  for (;;) {
    zip_int64_t r = zip_fread(z->entry.get(), buf.data(), buf.size());
    if (r < 0) return zip_read_error(path, *z);
    if (r == 0) return Status::ok();
  }
}

}  // namespace sf::services::loaders::bulk
