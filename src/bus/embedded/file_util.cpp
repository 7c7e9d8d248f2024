// POSIX file helpers (see file_util.h).
#include "bus/embedded/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace sf::bus::embedded {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Status errno_status(std::string_view what, const std::filesystem::path& path, int err) {
  return Status::io_error(fmt::format("{} {}: {}", what, path.string(), std::strerror(err)));
}

Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT)
      return Status::not_found(fmt::format("open {}: {}", path.string(), std::strerror(err)));
    return errno_status("open", path, err);
  }
  return UniqueFd(fd);
}

Result<uint64_t> file_size(int fd, const std::filesystem::path& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_status("fstat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("write", path, errno);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Result<std::size_t> pread_full(int fd, void* data, std::size_t size, uint64_t offset,
                               const std::filesystem::path& path) {
  char* p = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("pread", path, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status sync_data(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) return errno_status("fdatasync", path, errno);
  return Status::ok();
}

Status sync_dir(const std::filesystem::path& dir) {
  auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.status();
  if (::fsync(fd->get()) != 0) return errno_status("fsync", dir, errno);
  return Status::ok();
}

Status truncate_file(int fd, uint64_t size, const std::filesystem::path& path) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return errno_status("ftruncate", path, errno);
  return Status::ok();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd) return fd.status();
    SF_RETURN_IF_ERROR(write_all(fd->get(), content.data(), content.size(), tmp));
    SF_RETURN_IF_ERROR(sync_data(fd->get(), tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_status("rename to " + path.string(), tmp, errno);
  return sync_dir(path.parent_path());
}

Result<std::string> read_file(const std::filesystem::path& path) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return fd.status();
  auto size = file_size(fd->get(), path);
  if (!size) return size.status();
  std::string content(*size, '\0');
  auto n = pread_full(fd->get(), content.data(), content.size(), 0, path);
  if (!n) return n.status();
  content.resize(*n);
  return content;
}

Status create_dirs(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error(fmt::format("create directory {}: {}", dir.string(), ec.message()));
  return Status::ok();
}

Status remove_tree(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::io_error(fmt::format("remove {}: {}", path.string(), ec.message()));
  return Status::ok();
}

}  // namespace sf::bus::embedded
