// POSIX file helpers for the embedded log: an owning fd, full reads/writes that retry short I/O and EINTR,
// fdatasync, directory fsync and atomic whole-file replacement. Errors are IoError naming the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sf::bus::embedded {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// "open /x/y: No such file or directory"
Status errno_status(std::string_view what, const std::filesystem::path& path, int err);

Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, int mode = 0644);
Result<uint64_t> file_size(int fd, const std::filesystem::path& path);
Status write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& path);
// Reads up to `size` bytes at `offset`; fewer only at end of file.
Result<std::size_t> pread_full(int fd, void* data, std::size_t size, uint64_t offset,
                               const std::filesystem::path& path);
Status sync_data(int fd, const std::filesystem::path& path);  // fdatasync
Status sync_dir(const std::filesystem::path& dir);
Status truncate_file(int fd, uint64_t size, const std::filesystem::path& path);
// Writes `content` to `path` atomically: tmp file, fsync, rename over `path`, fsync the directory.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content);
Result<std::string> read_file(const std::filesystem::path& path);
Status create_dirs(const std::filesystem::path& dir);
// Removes a file or tree; missing is fine.
Status remove_tree(const std::filesystem::path& path);

}  // namespace sf::bus::embedded
