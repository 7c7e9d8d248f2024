// Downloads dump files into a directory: the `.CHECKSUM` first (404 there = the file does not exist), then
// the zip in HTTP Range chunks appended to `<name>.part`, so a broken connection or a relaunched job
// continues where the bytes stop instead of starting over; the SHA-256 (OpenSSL) is computed along the way
// and compared with the checksum before the file is renamed to `<name>` - a file on disk under its final
// name is always verified. A mismatch deletes the part file and is a Corruption error naming both hashes.
// ParallelDownloads runs several downloads at once, a bounded window ahead of the consumer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "net/http_client.h"
#include "services/loaders/bulk/file_plan.h"

namespace sf::services::loaders::bulk {

struct DownloadOptions {
  std::string base_url = "https://data.binance.vision";
  std::filesystem::path dir;               // where files are written (created if missing)
  uint64_t chunk_bytes = 4u << 20;         // bytes per Range request
  int max_attempts = 5;                    // per chunk, on transport errors and 5xx
  std::chrono::milliseconds backoff{200};  // first retry wait, doubled each time, at most 5 s
  net::HttpClientOptions http = [] {
    net::HttpClientOptions o;
    o.request_timeout = std::chrono::seconds(300);  // a server may build a file before its first byte
    return o;
  }();
};

struct DownloadedFile {
  DumpFileRef ref;
  bool missing = false;           // 404: not on the server
  std::filesystem::path path;     // the verified file (when not missing)
  std::string sha256;             // hex, as the CHECKSUM file gave it
  uint64_t bytes = 0;             // file size
  uint64_t bytes_downloaded = 0;  // by this run (less than `bytes` when it resumed or reused the file)
  int retries = 0;
};

// SHA-256 of a file, lower-case hex.
Result<std::string> sha256_of_file(const std::filesystem::path& path);
// "<64 hex>  <name>\n" -> the hex (lower case); Corruption when the text is not a checksum line.
Result<std::string> parse_checksum_line(std::string_view text);

// One download at a time, one HTTP connection. Not thread-safe.
class Downloader {
 public:
  explicit Downloader(DownloadOptions options);
  ~Downloader();
  Result<DownloadedFile> fetch(const DumpFileRef& ref, std::stop_token stop = {});

 private:
  Status get(std::string_view target, const net::Headers& headers, net::HttpResponse& out, int& retries,
             std::stop_token stop);
  DownloadOptions options_;
  std::unique_ptr<net::HttpClient> client_;
};

// Downloads `files` with `threads` downloaders, at most `window` files ahead of the one next() returns.
// next() hands them out in order. The destructor stops and joins.
class ParallelDownloads {
 public:
  ParallelDownloads(std::vector<DumpFileRef> files, DownloadOptions options, int threads, int window,
                    std::stop_token stop);
  ~ParallelDownloads();
  ParallelDownloads(const ParallelDownloads&) = delete;
  ParallelDownloads& operator=(const ParallelDownloads&) = delete;

  // The next file in order (waits for it); nullopt after the last one.
  std::optional<Result<DownloadedFile>> next();

 private:
  void work();
  const std::vector<DumpFileRef> files_;
  const DownloadOptions options_;
  const int window_;
  std::stop_source stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<DownloadedFile>>> results_;
  size_t next_to_start_ = 0;
  size_t next_to_return_ = 0;
  std::stop_callback<std::function<void()>> forward_stop_;  // after what it touches
  std::vector<std::thread> threads_;
};

}  // namespace sf::services::loaders::bulk
