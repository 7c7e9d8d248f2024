// Streams the lines of a dump file - a zip holding one CSV (libzip, inflated in memory chunk by chunk, never
// unpacked to disk) or a plain CSV - to a callback, a block of whole lines at a time.
//
// verify_zip() reads the whole entry once and checks its CRC-32 without handing anything out: the loader
// runs it before publishing a file it has no verified SHA-256 for, so a corrupt zip is reported before any
// of its rows is published. (A file whose SHA-256 matched its CHECKSUM is what the server published; the
// CRC is still checked at the end of the streaming pass.)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

#include "core/status.h"

namespace sf::services::loaders::bulk {

struct CsvSourceStats {
  uint64_t compressed_bytes = 0;    // the file's size
  uint64_t uncompressed_bytes = 0;  // CSV bytes read
};

// Lines without their '\n' (a final line without one included); empty lines are skipped. Returning an
// error from `on_lines` stops the read with that error.
using LineBlockHandler = std::function<Status(std::string_view block_of_whole_lines)>;

// True for a ".zip" file name.
bool is_zip_path(const std::filesystem::path& path);

// Reads a .zip (its first entry whose name ends in .csv, else the first entry) or any other file as CSV.
// Corruption names the file and what libzip reported (bad CRC, not a zip, truncated).
Status read_csv_blocks(const std::filesystem::path& path, const LineBlockHandler& on_lines,
                       CsvSourceStats* stats = nullptr);

// Reads the zip's CSV entry through, checking its CRC; nothing is handed out. OK for a non-zip file.
Status verify_zip(const std::filesystem::path& path);

}  // namespace sf::services::loaders::bulk
