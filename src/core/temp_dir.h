// A private temporary directory that is removed, with everything in it, when its owner goes away. For tests,
// benchmarks and scratch space (e.g. building files before they are renamed into place).
#pragma once

#include <filesystem>
#include <string_view>

namespace sf {

class TempDir {
 public:
  // Creates <system temp dir>/<prefix>XXXXXX (mkdtemp: unique, mode 0700). Throws std::filesystem_error when
  // the directory cannot be created: nothing useful can run without it.
  explicit TempDir(std::string_view prefix = "streamforge-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;

  const std::filesystem::path& path() const { return path_; }

 private:
  void remove() noexcept;
  std::filesystem::path path_;
};

}  // namespace sf
