// The simulator's bulk file tree: Binance's public data dumps (data.binance.vision) under /data/, generated
// on demand from the same market data as the REST endpoints.
//
//   GET /data/spot/monthly/klines/<SYMBOL>/<iv>/<SYMBOL>-<iv>-<YYYY>-<MM>.zip      (iv "1mo" for 1M)
//   GET /data/spot/daily/klines/<SYMBOL>/<iv>/<SYMBOL>-<iv>-<YYYY>-<MM>-<DD>.zip   (intervals up to 1d)
//   GET /data/spot/{monthly,daily}/aggTrades/<SYMBOL>/<SYMBOL>-aggTrades-<period>.zip
//   GET /data/spot/{monthly,daily}/trades/<SYMBOL>/<SYMBOL>-trades-<period>.zip
//   ... and every one of them + ".CHECKSUM": "<sha256 hex>  <file name>\n".
// A zip holds one CSV (<name>.csv, no header line) of the period's rows, exactly the values REST returns for
// the same times; times are milliseconds before 2025-01-01 and microseconds from then on, as on Binance.
// A file exists once its period is over (a day's file the next day, a month's the next month) and not
// before the symbol's listing day: otherwise 404 with S3's NoSuchKey XML, as data.binance.vision answers.
// `Range: bytes=A-B` (also `A-` and `-N`) is answered 206 with Content-Range; 416 beyond the end.
//
// Zips are built once per file (deflate, streamed from the generator: no CSV on disk) into a cache
// directory on a worker thread, then served from there; concurrent requests for a file wait for one build.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "exchange/sim/intervals.h"
#include "exchange/sim/market_data.h"
#include "net/http_server.h"

namespace sf::exchange::sim {

enum class DumpKind { kKlines, kAggTrades, kTrades };

// One file of the tree, parsed from its path.
struct DumpFile {
  std::string symbol;
  DumpKind kind = DumpKind::kKlines;
  Interval interval = Interval::k1m;  // klines only
  bool monthly = true;
  int64_t start_ms = 0;  // the period [start_ms, end_ms), UTC
  int64_t end_ms = 0;
  std::string name;  // "BTCUSDT-1m-2024-08" (the zip is name + ".zip", the CSV inside name + ".csv")
};

// "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08.zip" (without ".CHECKSUM"); nullopt when the
// path is not a well-formed dump path.
std::optional<DumpFile> parse_dump_path(std::string_view path);

// The first instant from which the spot dumps give microseconds (2025-01-01 00:00 UTC).
inline constexpr int64_t kDumpMicrosFromMs = 1'735'689'600'000;

// Writes the CSV of `file` (rows of its period visible at `now_ms`) through `sink`, in chunks of ~1 MiB.
Status write_dump_csv(const SymbolMarket& market, const DumpFile& file, int64_t now_ms,
                      const std::function<Status(std::string_view)>& sink);

// Fault injection for the loader's tests. `corrupt_zip`: zips are served with bytes flipped in the middle
// (the CHECKSUM file still names the good file's hash); `wrong_checksum`: CHECKSUM files name another hash.
struct BulkFaults {
  bool corrupt_zip = false;
  bool wrong_checksum = false;
};

struct BulkFileOptions {
  std::filesystem::path cache_dir;  // built zips; empty: a fresh temporary directory, removed at destruction
  int compression_level = 1;        // deflate level 1..9 (1: fastest; Binance's files are level ~6)
  int builder_threads = 2;          // zips built at once
  BulkFaults faults;                // none by default (set_faults changes them while serving)
};

// Thread-safe. Destruction waits for builds in progress.
class BulkFileTree {
 public:
  BulkFileTree(const SimMarket& market, std::function<int64_t()> clock, BulkFileOptions options);
  ~BulkFileTree();
  BulkFileTree(const BulkFileTree&) = delete;
  BulkFileTree& operator=(const BulkFileTree&) = delete;

  // Adds GET /data/{path*} to `server` (before it listens).
  void install(net::HttpServer& server);
  void set_faults(const BulkFaults& faults);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sf::exchange::sim
