// The bulk file tree (see bulk_files.h): path parsing, CSV generation, zip building and serving.
#include "exchange/sim/bulk_files.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zip.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace sf::exchange::sim {
namespace {

namespace chr = std::chrono;

constexpr size_t kChunkBytes = 1 << 20;

int64_t day_start_ms(chr::year_month_day ymd) {
  return static_cast<int64_t>(chr::sys_days(ymd).time_since_epoch().count()) * kDayMs;
}

std::optional<int> parse_digits(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "2024-08" (monthly) or "2024-08-01" (daily) -> the period.
bool parse_period(std::string_view text, bool monthly, DumpFile& f) {
  if (text.size() != (monthly ? 7u : 10u) || text[4] != '-' || (!monthly && text[7] != '-')) return false;
  auto y = parse_digits(text.substr(0, 4));
  auto m = parse_digits(text.substr(5, 2));
  auto d = monthly ? std::optional<int>(1) : parse_digits(text.substr(8, 2));
  if (!y || !m || !d) return false;
  chr::year_month_day ymd{chr::year(*y), chr::month(static_cast<unsigned>(*m)),
                          chr::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return false;
  f.start_ms = day_start_ms(ymd);
  if (monthly) {
    f.end_ms = day_start_ms(chr::year_month_day(ymd.year() / ymd.month() / 1) + chr::months(1));
  } else {
    f.end_ms = f.start_ms + kDayMs;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t from = 0;
  for (;;) {
    size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 0xF];
  }
  return out;
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("open {}", path.string()));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(kChunkBytes);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      ::close(fd);
      return Status::io_error(fmt::format("read {}", path.string()));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return hex(md, len);
}

// The generator as a libzip source: the CSV is produced chunk by chunk while libzip deflates it.
struct CsvSource {
  const SymbolMarket* market;
  DumpFile file;
  int64_t now_ms;
  std::string chunk;  // produced, not yet read
  size_t pos = 0;
  bool done = false;
  // Generation cursor
  int64_t next_time = 0;  // klines: the next open time
  int64_t next_id = 0;    // trades: the next id
  int64_t end_id = 0;
  zip_error_t error;

  void open() {
    chunk.clear();
    pos = 0;
    done = false;
    next_time = file.start_ms;
    if (file.kind == DumpKind::kAggTrades) {
      next_id = market->agg_trades_before(file.start_ms, now_ms);
      end_id = market->agg_trades_before(file.end_ms, now_ms);
    } else if (file.kind == DumpKind::kTrades) {
      next_id = market->trades_before(file.start_ms, now_ms);
      end_id = market->trades_before(file.end_ms, now_ms);
    }
  }

  // Refills `chunk` with the next rows; sets done when there are none.
  void produce() {
    chunk.clear();
    pos = 0;
    const bool micros = file.start_ms >= kDumpMicrosFromMs;
    constexpr int kBatch = 20'000;
    while (chunk.size() < kChunkBytes) {
      if (file.kind == DumpKind::kKlines) {
        if (next_time >= file.end_ms) break;
        KlineQuery q;
        q.interval = file.interval;
        q.start_time = next_time;
        q.end_time = file.end_ms - 1;
        q.limit = kBatch / 10;
        auto rows = market->klines(q, now_ms);
        if (rows.empty()) {
          next_time = file.end_ms;
          break;
        }
        for (const auto& k : rows) market->append_kline_csv(chunk, k, micros);
        next_time = interval_next(file.interval, rows.back().open_time);
      } else {
        if (next_id >= end_id) break;
        const int n = static_cast<int>(std::min<int64_t>(kBatch, end_id - next_id));
        if (file.kind == DumpKind::kAggTrades) {
          auto rows = market->agg_trades_from_id(next_id, n, now_ms);
          if (rows.empty()) {
            next_id = end_id;
            break;
          }
          for (const auto& a : rows) market->append_agg_trade_csv(chunk, a, micros);
          next_id = rows.back().id + 1;
        } else {
          auto rows = market->trades_from_id(next_id, n, now_ms);
          if (rows.empty()) {
            next_id = end_id;
            break;
          }
          for (const auto& t : rows) market->append_trade_csv(chunk, t, micros);
          next_id = rows.back().id + 1;
        }
      }
    }
    if (chunk.empty()) done = true;
  }

  static zip_int64_t callback(void* user, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    auto* self = static_cast<CsvSource*>(user);
    switch (cmd) {
      case ZIP_SOURCE_OPEN:
        self->open();
        return 0;
      case ZIP_SOURCE_READ: {
        try {
          if (self->pos >= self->chunk.size() && !self->done) self->produce();
        } catch (const std::exception& e) {
          spdlog::error("exchange-sim: generating {} failed: {}", self->file.name, e.what());
          zip_error_set(&self->error, ZIP_ER_INTERNAL, 0);
          return -1;
        }
        const size_t n = std::min<size_t>(len, self->chunk.size() - self->pos);
        std::memcpy(data, self->chunk.data() + self->pos, n);
        self->pos += n;
        return static_cast<zip_int64_t>(n);
      }
      case ZIP_SOURCE_CLOSE:
        return 0;
      case ZIP_SOURCE_STAT: {
        auto* st = static_cast<zip_stat_t*>(data);
        zip_stat_init(st);
        st->valid = ZIP_STAT_MTIME;
        st->mtime = static_cast<time_t>(self->file.end_ms / 1000);
        return sizeof(*st);
      }
      case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&self->error, data, len);
      case ZIP_SOURCE_FREE:
        return 0;
      case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
      default:
        zip_error_set(&self->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
  }
};

Status build_zip(const SymbolMarket& market, const DumpFile& file, int64_t now_ms, int level,
                 const std::filesystem::path& out) {
  int err = 0;
  zip_t* za = zip_open(out.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (za == nullptr) return Status::io_error(fmt::format("zip_open {}: error {}", out.string(), err));
  CsvSource src{&market, file, now_ms};
  zip_error_init(&src.error);
  zip_source_t* s = zip_source_function(za, &CsvSource::callback, &src);
  auto fail = [&](std::string what) {
    std::string msg = fmt::format("{} {}: {}", what, out.string(), zip_strerror(za));
    zip_discard(za);
    zip_error_fini(&src.error);
    return Status::io_error(std::move(msg));
  };
  if (s == nullptr) return fail("zip_source_function");
  const std::string entry = file.name + ".csv";
  zip_int64_t idx = zip_file_add(za, entry.c_str(), s, ZIP_FL_ENC_UTF_8);
  if (idx < 0) {
    zip_source_free(s);
    return fail("zip_file_add");
  }
  if (zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE,
                               static_cast<zip_uint32_t>(std::clamp(level, 1, 9))) < 0) {
    return fail("zip_set_file_compression");
  }
  if (zip_close(za) < 0) return fail("zip_close");
  zip_error_fini(&src.error);
  return Status::ok();
}

constexpr std::string_view kNoSuchKey =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key "
    "does not exist.</Message><Key>{}</Key></Error>";

net::HttpResponse not_found(std::string_view key) {
  net::HttpResponse res;
  res.set(404, "application/xml", fmt::format(fmt::runtime(kNoSuchKey), key));
  return res;
}

// Parses "bytes=A-B", "bytes=A-", "bytes=-N" against a file of `size` bytes into [first, last].
enum class RangeResult { kNone, kOk, kUnsatisfiable };
RangeResult parse_range(std::string_view header, uint64_t size, uint64_t& first, uint64_t& last) {
  constexpr std::string_view kPrefix = "bytes=";
  if (!header.starts_with(kPrefix) || header.find(',') != std::string_view::npos) return RangeResult::kNone;
  header.remove_prefix(kPrefix.size());
  size_t dash = header.find('-');
  if (dash == std::string_view::npos) return RangeResult::kNone;
  std::string_view a = header.substr(0, dash), b = header.substr(dash + 1);
  auto num = [](std::string_view s, uint64_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  uint64_t x = 0, y = 0;
  if (a.empty()) {
    if (!num(b, y) || y == 0) return RangeResult::kNone;
    if (size == 0) return RangeResult::kUnsatisfiable;
    first = size - std::min(y, size);
    last = size - 1;
    return RangeResult::kOk;
  }
  if (!num(a, x)) return RangeResult::kNone;
  if (b.empty()) {
    y = size == 0 ? 0 : size - 1;
  } else if (!num(b, y) || y < x) {
    return RangeResult::kNone;
  }
  if (x >= size) return RangeResult::kUnsatisfiable;
  first = x;
  last = std::min(y, size - 1);
  return RangeResult::kOk;
}

Status read_slice(const std::filesystem::path& path, uint64_t offset, uint64_t n, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("open {}", path.string()));
  out.resize(n);
  uint64_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r <= 0) {
      ::close(fd);
      return Status::io_error(fmt::format("read {}", path.string()));
    }
    done += static_cast<uint64_t>(r);
  }
  ::close(fd);
  return Status::ok();
}

}  // namespace

std::optional<DumpFile> parse_dump_path(std::string_view path) {
  // /data/spot/<period>/<kind>/<SYMBOL>[/<iv>]/<file>.zip
  if (!path.starts_with("/data/spot/") || !path.ends_with(".zip")) return std::nullopt;
  auto parts = split(path.substr(11), '/');
  if (parts.size() < 4) return std::nullopt;
  DumpFile f;
  if (parts[0] == "monthly") {
    f.monthly = true;
  } else if (parts[0] == "daily") {
    f.monthly = false;
  } else {
    return std::nullopt;
  }
  f.symbol = std::string(parts[2]);
  std::string_view file_name = parts.back();
  file_name.remove_suffix(4);
  std::string prefix;
  if (parts[1] == "klines") {
    if (parts.size() != 5) return std::nullopt;
    f.kind = DumpKind::kKlines;
    std::string_view iv_text = parts[3];
    auto iv = iv_text == "1mo" ? std::optional<Interval>(Interval::k1M)
                               : (iv_text == "1M" ? std::nullopt : parse_interval(iv_text));
    if (!iv) return std::nullopt;
    // Daily files exist for intervals up to a day.
    if (!f.monthly && (*iv == Interval::k3d || *iv == Interval::k1w || *iv == Interval::k1M))
      return std::nullopt;
    f.interval = *iv;
    prefix = fmt::format("{}-{}-", f.symbol, iv_text);
  } else if (parts[1] == "aggTrades" || parts[1] == "trades") {
    if (parts.size() != 4) return std::nullopt;
    f.kind = parts[1] == "trades" ? DumpKind::kTrades : DumpKind::kAggTrades;
    prefix = fmt::format("{}-{}-", f.symbol, parts[1]);
  } else {
    return std::nullopt;
  }
  if (!file_name.starts_with(prefix)) return std::nullopt;
  if (!parse_period(file_name.substr(prefix.size()), f.monthly, f)) return std::nullopt;
  f.name = std::string(file_name);
  return f;
}

Status write_dump_csv(const SymbolMarket& market, const DumpFile& file, int64_t now_ms,
                      const std::function<Status(std::string_view)>& sink) {
  CsvSource src{&market, file, now_ms};
  src.open();
  for (;;) {
    src.produce();
    if (src.done) return Status::ok();
    SF_RETURN_IF_ERROR(sink(src.chunk));
  }
}

// ---------------------------------------------------------------------------------------------------------

struct BulkFileTree::Impl {
  const SimMarket& market;
  std::function<int64_t()> clock;
  BulkFileOptions options;
  bool own_cache_dir = false;

  struct Entry {
    bool ready = false;
    Status status;       // of the build, once ready
    std::string sha256;  // hex, once ready
    uint64_t size = 0;
    std::vector<net::Responder> waiting;  // requests (zip or CHECKSUM) that arrived during the build
    std::vector<std::string> waiting_targets;
  };
  std::mutex mu;
  std::map<std::string, Entry> entries;  // by zip path
  BulkFaults faults;
  bool stopping = false;
  // Builds run on a small pool: a month of a busy symbol's trades takes seconds, too long for a server
  // thread.
  std::condition_variable work_cv;
  std::vector<std::function<void()>> queue;
  std::vector<std::thread> builders;

  Impl(const SimMarket& m, std::function<int64_t()> c, BulkFileOptions o)
      : market(m), clock(std::move(c)), options(std::move(o)), faults(options.faults) {
    if (options.cache_dir.empty()) {
      std::string pattern = (std::filesystem::temp_directory_path() / "streamforge-sim-bulk-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw Error(Status::io_error("mkdtemp " + pattern));
      options.cache_dir = pattern;
      own_cache_dir = true;
    } else {
      std::filesystem::create_directories(options.cache_dir);
    }
    for (int i = 0; i < std::max(1, options.builder_threads); ++i) {
      builders.emplace_back([this] { work(); });
    }
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    work_cv.notify_all();
    for (auto& t : builders) t.join();
    if (own_cache_dir) {
      std::error_code ec;
      std::filesystem::remove_all(options.cache_dir, ec);
    }
  }

  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;  // queued requests are answered 500 by their Responders' destructors
        job = std::move(queue.front());
        queue.erase(queue.begin());
      }
      job();
    }
  }

  std::filesystem::path cache_path(const std::string& zip_path) const {
    return options.cache_dir / zip_path.substr(1);  // without the leading '/'
  }

  void serve(const net::HttpRequest& req, net::Responder responder) {
    std::string path = req.path;
    const bool checksum = path.ends_with(".zip.CHECKSUM");
    std::string zip_path = checksum ? path.substr(0, path.size() - 9) : path;
    auto file = parse_dump_path(zip_path);
    const SymbolMarket* sm = file ? market.find(file->symbol) : nullptr;
    const int64_t now = clock();
    if (file == std::nullopt || sm == nullptr || file->end_ms > now ||
        file->end_ms <= sm->spec().listing_ms()) {
      responder.send(not_found(path.substr(1)));
      return;
    }
    std::unique_lock lock(mu);
    Entry& e = entries[zip_path];
    if (!e.ready) {
      const bool start_build = e.waiting.empty();
      e.waiting.push_back(std::move(responder));
      e.waiting_targets.push_back(req.path + "\n" + std::string(req.header("Range").value_or("")));
      if (start_build) {
        queue.push_back([this, zip_path, f = *file, sm, now] { build(zip_path, f, *sm, now); });
        work_cv.notify_one();
      }
      return;
    }
    Entry copy{e.ready, e.status, e.sha256, e.size, {}, {}};
    const BulkFaults f = faults;
    lock.unlock();
    responder.send(answer(copy, f, zip_path, req.path, req.header("Range").value_or("")));
  }

  void build(const std::string& zip_path, const DumpFile& file, const SymbolMarket& sm, int64_t now) {
    const auto out = cache_path(zip_path);
    std::error_code ec;
    std::filesystem::create_directories(out.parent_path(), ec);
    const auto tmp = out.string() + ".tmp";
    const auto t0 = chr::steady_clock::now();
    // A zip already in the cache directory (an earlier run of the simulator) is complete - builds are renamed
    // into place - and the same: a file exists only for a finished period, whose data never changes.
    Status s = std::filesystem::exists(out, ec) ? Status::ok()
                                                : build_zip(sm, file, now, options.compression_level, tmp);
    std::string sha;
    uint64_t size = 0;
    if (s && !std::filesystem::exists(out, ec)) {
      std::filesystem::rename(tmp, out, ec);
      if (ec) s = Status::io_error(fmt::format("rename {}: {}", tmp, ec.message()));
    }
    if (s) {
      auto h = sha256_file(out);
      if (h) {
        sha = *h;
        size = std::filesystem::file_size(out, ec);
      } else {
        s = h.status();
      }
    }
    spdlog::info("exchange-sim: built {} ({} bytes) in {} ms{}", zip_path, size,
                 chr::duration_cast<chr::milliseconds>(chr::steady_clock::now() - t0).count(),
                 s ? "" : ": " + s.message());
    std::vector<net::Responder> waiting;
    std::vector<std::string> targets;
    Entry copy;
    BulkFaults f;
    {
      std::lock_guard lock(mu);
      Entry& e = entries[zip_path];
      e.ready = true;
      e.status = s;
      e.sha256 = sha;
      e.size = size;
      waiting.swap(e.waiting);
      targets.swap(e.waiting_targets);
      copy = Entry{e.ready, e.status, e.sha256, e.size, {}, {}};
      f = faults;
      if (!s) entries.erase(zip_path);  // a failed build is tried again by the next request
    }
    for (size_t i = 0; i < waiting.size(); ++i) {
      const std::string& t = targets[i];
      size_t nl = t.find('\n');
      waiting[i].send(answer(copy, f, zip_path, t.substr(0, nl), t.substr(nl + 1)));
    }
  }

  net::HttpResponse answer(const Entry& e, const BulkFaults& f, const std::string& zip_path,
                           const std::string& target_path, std::string_view range) const {
    net::HttpResponse res;
    if (!e.status) {
      res.set(500, "text/plain", e.status.message());
      return res;
    }
    if (target_path.ends_with(".CHECKSUM")) {
      std::string sha = e.sha256;
      if (f.wrong_checksum) std::reverse(sha.begin(), sha.end());
      const std::string name = zip_path.substr(zip_path.rfind('/') + 1);
      res.set(200, "application/octet-stream", fmt::format("{}  {}\n", sha, name));
      return res;
    }
    uint64_t first = 0, last = e.size == 0 ? 0 : e.size - 1;
    RangeResult r = range.empty() ? RangeResult::kNone : parse_range(range, e.size, first, last);
    if (r == RangeResult::kUnsatisfiable) {
      res.set(416, "application/xml", "<Error><Code>InvalidRange</Code></Error>");
      res.headers.set("Content-Range", fmt::format("bytes */{}", e.size));
      return res;
    }
    const uint64_t n = e.size == 0 ? 0 : last - first + 1;
    Status s = read_slice(cache_path(zip_path), first, n, res.body);
    if (!s) {
      res.set(500, "text/plain", s.message());
      return res;
    }
    if (f.corrupt_zip) {
      // Flip a run of bytes around the middle of the file (inside the deflate stream).
      const uint64_t mid = e.size / 2;
      for (uint64_t i = mid; i < std::min(e.size, mid + 64); ++i) {
        if (i >= first && i <= last) res.body[i - first] = static_cast<char>(~res.body[i - first]);
      }
    }
    res.status = r == RangeResult::kOk ? 206 : 200;
    res.headers.set("Content-Type", "application/zip");
    res.headers.set("Accept-Ranges", "bytes");
    res.headers.set("ETag", "\"" + e.sha256.substr(0, 32) + "\"");
    if (r == RangeResult::kOk)
      res.headers.set("Content-Range", fmt::format("bytes {}-{}/{}", first, last, e.size));
    return res;
  }
};

BulkFileTree::BulkFileTree(const SimMarket& market, std::function<int64_t()> clock, BulkFileOptions options)
    : impl_(std::make_shared<Impl>(market, std::move(clock), std::move(options))) {}

BulkFileTree::~BulkFileTree() = default;

void BulkFileTree::install(net::HttpServer& server) {
  std::weak_ptr<Impl> weak = impl_;
  server.route_async("GET", "/data/{path*}", [weak](const net::HttpRequest& req, net::Responder r) {
    if (auto impl = weak.lock()) {
      impl->serve(req, std::move(r));
    } else {
      net::HttpResponse res;
      res.set(503, "text/plain", "shutting down");
      r.send(std::move(res));
    }
  });
}

void BulkFileTree::set_faults(const BulkFaults& faults) {
  std::lock_guard lock(impl_->mu);
  impl_->faults = faults;
}

}  // namespace sf::exchange::sim
