// Dump downloads with Range resume and SHA-256 verification (see downloader.h).
#include "services/loaders/bulk/downloader.h"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>

namespace sf::services::loaders::bulk {
namespace {

using Sha = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Sha new_sha() {
  Sha ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  return ctx;
}

std::string finish_hex(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

// Feeds the first `bytes` of a file into the hash (a part file left by an earlier attempt).
Status hash_prefix(const std::filesystem::path& path, uint64_t bytes, EVP_MD_CTX* ctx) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("cannot read {}", path.string()));
  std::vector<char> buf(1 << 20);
  while (bytes > 0) {
    const auto n = static_cast<std::streamsize>(std::min<uint64_t>(bytes, buf.size()));
    in.read(buf.data(), n);
    if (in.gcount() != n) return Status::io_error(fmt::format("short read of {}", path.string()));
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    bytes -= static_cast<uint64_t>(n);
  }
  return Status::ok();
}

// "bytes 0-99/1234" -> 1234.
std::optional<uint64_t> total_of_content_range(std::string_view v) {
  size_t slash = v.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  uint64_t total = 0;
  auto s = v.substr(slash + 1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), total);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return total;
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

Result<std::string> sha256_of_file(const std::filesystem::path& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::io_error(fmt::format("cannot read {}: {}", path.string(), ec.message()));
  Sha ctx = new_sha();
  SF_RETURN_IF_ERROR(hash_prefix(path, size, ctx.get()));
  return finish_hex(ctx.get());
}

Result<std::string> parse_checksum_line(std::string_view text) {
  size_t end = text.find_first_of(" \t\r\n");
  std::string_view hex = text.substr(0, end);
  if (hex.size() != 64 || !is_hex(hex)) {
    return Status::corruption(fmt::format("not a SHA-256 checksum line: '{}'", text.substr(0, 100)));
  }
  std::string out(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Downloader::Downloader(DownloadOptions options) : options_(std::move(options)) {}
Downloader::~Downloader() = default;

Status Downloader::get(std::string_view target, const net::Headers& headers, net::HttpResponse& out,
                       int& retries, std::stop_token stop) {
  auto wait = options_.backoff;
  for (int attempt = 1;; ++attempt) {
    if (stop.stop_requested()) return Status::cancelled("stopped");
    Status failure;
    if (!client_) {
      auto c = net::HttpClient::create(options_.base_url, options_.http);
      if (!c) return c.status();
      client_ = std::move(c).value();
    }
    auto res = client_->get(target, headers);
    if (res && res->status < 500) {
      out = std::move(res).value();
      return Status::ok();
    }
    failure = res ? Status::unavailable(fmt::format("HTTP {} for {}", res->status, target)) : res.status();
    if (attempt >= options_.max_attempts) {
      return Status(failure.code(), fmt::format("{} (after {} attempts)", failure.message(), attempt));
    }
    ++retries;
    spdlog::warn("loader-producer: {}; retrying in {} ms", failure.message(), wait.count());
    // Sleep in small steps so a stop is noticed.
    for (auto slept = std::chrono::milliseconds(0); slept < wait; slept += std::chrono::milliseconds(50)) {
      if (stop.stop_requested()) return Status::cancelled("stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(5));
  }
}

Result<DownloadedFile> Downloader::fetch(const DumpFileRef& ref, std::stop_token stop) {
  DownloadedFile out;
  out.ref = ref;
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create {}: {}", options_.dir.string(), ec.message()));

  net::HttpResponse res;
  SF_RETURN_IF_ERROR(get(ref.path + ".CHECKSUM", {}, res, out.retries, stop));
  if (res.status == 404) {
    out.missing = true;
    return out;
  }
  if (res.status != 200) {
    return Status::unavailable(fmt::format("{}.CHECKSUM: HTTP {}", ref.path, res.status));
  }
  auto expected = parse_checksum_line(res.body);
  if (!expected)
    return Status::corruption(fmt::format("{}.CHECKSUM: {}", ref.name, expected.status().message()));
  out.sha256 = *expected;

  const std::filesystem::path final_path = options_.dir / ref.name;
  const std::filesystem::path part_path = options_.dir / (ref.name + ".part");
  out.path = final_path;
  // Verified by an earlier run: reuse it if it still matches (a new checksum means a new file).
  if (std::filesystem::exists(final_path, ec)) {
    auto have = sha256_of_file(final_path);
    if (have && *have == out.sha256) {
      out.bytes = std::filesystem::file_size(final_path, ec);
      return out;
    }
    std::filesystem::remove(final_path, ec);
  }

  Sha sha = new_sha();
  uint64_t have = std::filesystem::exists(part_path, ec) ? std::filesystem::file_size(part_path, ec) : 0;
  if (have > 0) {
    SF_RETURN_IF_ERROR(hash_prefix(part_path, have, sha.get()));
    spdlog::info("loader-producer: resuming {} at byte {}", ref.name, have);
  }
  std::FILE* file = std::fopen(part_path.c_str(), have > 0 ? "ab" : "wb");
  if (file == nullptr) return Status::io_error(fmt::format("cannot write {}", part_path.string()));
  std::unique_ptr<std::FILE, decltype(&std::fclose)> closer(file, &std::fclose);

  std::optional<uint64_t> total;
  while (!total || have < *total) {
    net::Headers headers;
    headers.set("Range", fmt::format("bytes={}-{}", have, have + options_.chunk_bytes - 1));
    SF_RETURN_IF_ERROR(get(ref.path, headers, res, out.retries, stop));
    if (res.status == 404) {
      out.missing = true;
      closer.reset();
      std::filesystem::remove(part_path, ec);
      return out;
    }
    if (res.status == 416) {
      // Past the end: what we have is the whole file (or the part is longer than the file - start over).
      auto t = total_of_content_range(res.header("Content-Range").value_or(""));
      if (t && *t == have) break;
      closer.reset();
      std::filesystem::remove(part_path, ec);
      return Status::corruption(
          fmt::format("{}: the partial download is longer than the file; removed it", ref.name));
    }
    if (res.status == 200) {
      // The server ignored the range: this is the whole file.
      if (have > 0) {
        closer.reset(std::fopen(part_path.c_str(), "wb"));
        if (!closer) return Status::io_error(fmt::format("cannot write {}", part_path.string()));
        sha = new_sha();
        have = 0;
      }
      total = res.body.size();
    } else if (res.status == 206) {
      auto t = total_of_content_range(res.header("Content-Range").value_or(""));
      if (!t) return Status::corruption(fmt::format("{}: 206 without a usable Content-Range", ref.path));
      total = *t;
    } else {
      return Status::unavailable(fmt::format("{}: HTTP {}", ref.path, res.status));
    }
    if (res.body.empty() && have < *total) {
      return Status::corruption(fmt::format("{}: empty chunk at byte {} of {}", ref.path, have, *total));
    }
    if (std::fwrite(res.body.data(), 1, res.body.size(), closer.get()) != res.body.size()) {
      return Status::io_error(fmt::format("cannot write {}", part_path.string()));
    }
    EVP_DigestUpdate(sha.get(), res.body.data(), res.body.size());
    have += res.body.size();
    out.bytes_downloaded += res.body.size();
    if (stop.stop_requested()) return Status::cancelled("stopped");
  }
  if (std::fflush(closer.get()) != 0)
    return Status::io_error(fmt::format("cannot write {}", part_path.string()));
  closer.reset();
  out.bytes = have;
  const std::string got = finish_hex(sha.get());
  if (got != out.sha256) {
    std::filesystem::remove(part_path, ec);
    return Status::corruption(
        fmt::format("checksum mismatch for {}: the CHECKSUM file says {}, the downloaded "
                    "file ({} bytes) hashes to {}; nothing of it was published",
                    ref.name, out.sha256, have, got));
  }
  std::filesystem::rename(part_path, final_path, ec);
  if (ec) return Status::io_error(fmt::format("cannot rename {}: {}", part_path.string(), ec.message()));
  return out;
}

// ---------------------------------------------------------------------------------------------------------

ParallelDownloads::ParallelDownloads(std::vector<DumpFileRef> files, DownloadOptions options, int threads,
                                     int window, std::stop_token stop)
    : files_(std::move(files)),
      options_(std::move(options)),
      window_(std::max(1, window)),
      results_(files_.size()),
      forward_stop_(stop, std::function<void()>([this] {
                      stop_.request_stop();
                      { std::lock_guard lock(mu_); }  // a waiter is either asleep or sees the stop
                      cv_.notify_all();
                    })) {
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(files_.size())));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

ParallelDownloads::~ParallelDownloads() {
  stop_.request_stop();
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ParallelDownloads::work() {
  Downloader downloader(options_);
  for (;;) {
    size_t index = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        return stop_.stop_requested() || next_to_start_ >= files_.size() ||
               next_to_start_ < next_to_return_ + static_cast<size_t>(window_);
      });
      if (stop_.stop_requested() || next_to_start_ >= files_.size()) return;
      index = next_to_start_++;
    }
    auto result = downloader.fetch(files_[index], stop_.get_token());
    {
      std::lock_guard lock(mu_);
      results_[index] = std::move(result);
    }
    cv_.notify_all();
  }
}

std::optional<Result<DownloadedFile>> ParallelDownloads::next() {
  std::unique_lock lock(mu_);
  if (next_to_return_ >= files_.size()) return std::nullopt;
  cv_.wait(lock, [&] { return results_[next_to_return_].has_value() || stop_.stop_requested(); });
  if (!results_[next_to_return_]) return Result<DownloadedFile>(Status::cancelled("stopped"));
  auto out = std::move(*results_[next_to_return_]);
  results_[next_to_return_].reset();
  ++next_to_return_;
  lock.unlock();
  cv_.notify_all();
  return out;
}

}  // namespace sf::services::loaders::bulk
