// The bulk loader job: plan, download, verify, stream, parse, trim, publish (see bulk_loader.h).
#include "services/loaders/bulk/bulk_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/json_fields.h"
#include "protocol/records.h"
#include "protocol/workflow_type.h"
#include "services/loaders/bulk/csv_rows.h"
#include "services/loaders/bulk/csv_source.h"
#include "services/loaders/bulk/downloader.h"
#include "services/loaders/bulk/file_plan.h"
#include "services/loaders/page_publisher.h"

namespace sf::services {
namespace {

using namespace loaders::bulk;
using loaders::find_resume_point;
using loaders::PagePublisher;
using loaders::ResumePoint;

constexpr double kMiB = 1024.0 * 1024.0;

struct Plan {
  std::string symbol;
  protocol::WorkflowType type;
  std::string interval;
  int64_t start = 0;
  int64_t end = 0;
  std::string topic;
  std::string dlq_topic;
  std::vector<std::filesystem::path> local_files;  // from_files
  bool from_files = false;
  int download_threads = 2;
  size_t batch_records = 16'384;
};

Result<std::vector<std::filesystem::path>> expand_paths(const protocol::Json& list) {
  if (!list.is_array()) return Status::invalid_argument("from_files must be an array of paths");
  std::vector<std::filesystem::path> out;
  for (const auto& item : list) {
    if (!item.is_string()) return Status::invalid_argument("from_files must be an array of paths");
    std::filesystem::path p(item.get<std::string>());
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> inside;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        const auto ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".zip" || ext == ".csv")) inside.push_back(e.path());
      }
      std::sort(inside.begin(), inside.end());
      out.insert(out.end(), inside.begin(), inside.end());
    } else if (std::filesystem::is_regular_file(p, ec)) {
      out.push_back(p);
    } else {
      return Status::not_found(fmt::format("from_files: '{}' is neither a file nor a directory", p.string()));
    }
  }
  if (out.empty()) return Status::invalid_argument("from_files names no .zip or .csv file");
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  return out;
}

Result<Plan> make_plan(const protocol::ControlMessage& c, const BulkLoaderOptions& options) {
  Plan p;
  p.symbol = c.symbol;
  if (!protocol::is_valid_symbol(p.symbol)) {
    return Status::invalid_argument(fmt::format("loader-producer: invalid symbol '{}'", c.symbol));
  }
  auto type = protocol::parse_workflow_type(c.type);
  if (!type) return type.status();
  p.type = *type;
  auto probe = plan_dump_files(p.symbol, p.type, 0, 1);  // validates the type
  if (!probe) return probe.status();
  if (p.type.interval) p.interval = std::string(protocol::interval_name(*p.type.interval));
  auto range = parse_time_range(c.time_range);
  if (!range) return range.status();
  if (!range->end_ms) {
    return Status::invalid_argument(
        fmt::format("loader-producer (bulk) needs a time range with an end, got '{}'", c.time_range));
  }
  p.start = range->start_ms;
  p.end = *range->end_ms;
  p.topic = c.kafka_topic;
  p.dlq_topic = c.queue_id + "-dlq";
  p.download_threads = options.download_threads;
  p.batch_records = options.batch_records;
  auto threads = c.extra_field<int64_t>("download_threads");
  auto batch = c.extra_field<int64_t>("batch_records");
  if (!threads) return threads.status();
  if (!batch) return batch.status();
  if (threads->has_value()) p.download_threads = static_cast<int>(std::clamp<int64_t>(**threads, 1, 16));
  if (batch->has_value())
    p.batch_records = static_cast<size_t>(std::clamp<int64_t>(**batch, 1000, 1'000'000));
  if (auto it = c.extra.find("from_files"); it != c.extra.end()) {
    auto files = expand_paths(*it);
    if (!files) return files.status();
    p.local_files = std::move(files).value();
    p.from_files = true;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// One run: records are published in batches of plan.batch_records, each marked as the REST loader marks its
// pages (page_publisher.h), so a relaunched loader resumes after the last complete batch.

class Run {
 public:
  Run(JobContext& ctx, Plan plan, const BulkLoaderOptions& options, const ResumePoint& resume)
      : ctx_(ctx),
        plan_(std::move(plan)),
        options_(options),
        publisher_(ctx.bus, plan_.topic, resume.partitions),
        last_key_(resume.last_key.value_or(std::numeric_limits<int64_t>::min())),
        before_(resume.last_key ? resume.records : 0) {
    kline_.symbol = agg_.symbol = trade_.symbol = plan_.symbol;
    kline_.interval = plan_.interval;
  }

  int64_t total() const { return before_ + publisher_.published(); }

  std::filesystem::path download_dir() const {
    std::filesystem::path root = options_.download_dir.empty()
                                     ? std::filesystem::temp_directory_path() / "streamforge-bulk"
                                     : options_.download_dir;
    return root / ctx_.command().queue_id;
  }

  Status load() {
    ctx_.telemetry.set_records_written(total());
    if (plan_.from_files) return load_local();
    return load_remote();
  }

  std::string summary() const {
    std::string s = fmt::format("Published {} records from {} files", total(), files_done_);
    if (!plan_.from_files) {
      s += fmt::format(" ({} monthly, {} daily; {:.1f} MiB downloaded, {} reused, {} retries)", monthly_,
                       daily_, static_cast<double>(bytes_downloaded_) / kMiB, reused_, retries_);
    }
    if (bad_rows_ > 0) s += fmt::format("; {} bad rows dead-lettered to {}", bad_rows_, plan_.dlq_topic);
    if (!missing_.empty()) {
      s += fmt::format(
          "; {} files not on the server (404: before the symbol's listing, or not published yet): ",
          missing_.size());
      for (size_t i = 0; i < missing_.size() && i < 10; ++i) s += (i ? ", " : "") + missing_[i];
      if (missing_.size() > 10) s += fmt::format(", ... ({} more)", missing_.size() - 10);
    }
    return s;
  }

  size_t missing() const { return missing_.size(); }
  size_t files_done() const { return files_done_; }

 private:
  Status stopped() const { return Status::cancelled(fmt::format("stopped after {} records", total())); }

  Status load_remote() {
    auto files = plan_dump_files(plan_.symbol, plan_.type, plan_.start, plan_.end);
    if (!files) return files.status();
    planned_ = files->size();
    spdlog::info("loader-producer {}: {} dump files for {} {} {}..{} from {}",
                 ctx_.telemetry.identity().producer, files->size(), plan_.symbol, ctx_.command().type,
                 format_utc_iso(plan_.start), format_utc_iso(plan_.end), ctx_.settings.bulk_url);
    DownloadOptions d;
    d.base_url = ctx_.settings.bulk_url;
    d.dir = download_dir();
    d.chunk_bytes = options_.chunk_bytes;
    d.http = options_.http;
    ParallelDownloads downloads(*files, d, plan_.download_threads, options_.download_window, ctx_.stop);
    while (auto next = downloads.next()) {
      if (ctx_.stop_requested()) return stopped();
      if (!*next) {
        if (next->status().code() == ErrorCode::kCancelled) return stopped();
        return next->status();
      }
      DownloadedFile& f = next->value();
      retries_ += f.retries;
      bytes_downloaded_ += f.bytes_downloaded;
      if (f.missing) {
        spdlog::warn("loader-producer: {} is not on the server (404)", f.ref.path);
        missing_.push_back(f.ref.name);
        continue;
      }
      if (f.bytes_downloaded == 0) ++reused_;
      (f.ref.monthly ? monthly_ : daily_)++;
      SF_RETURN_IF_ERROR(publish_file(f.path, f.ref.name));
      if (!options_.keep_files) {
        std::error_code ec;
        std::filesystem::remove(f.path, ec);
      }
    }
    if (missing_.size() == planned_) {
      return Status::not_found(fmt::format(
          "none of the {} dump files for {} {} in {} exists on {} (404: unknown symbol, before its listing, "
          "or not published yet), e.g. {}",
          planned_, plan_.symbol, ctx_.command().type, ctx_.command().time_range, ctx_.settings.bulk_url,
          (*files)[0].path));
    }
    if (!options_.keep_files) {
      std::error_code ec;
      std::filesystem::remove_all(download_dir(), ec);
    }
    return Status::ok();
  }

  Status load_local() {
    planned_ = plan_.local_files.size();
    for (const auto& path : plan_.local_files) {
      if (ctx_.stop_requested()) return stopped();
      // Verify the whole file before publishing any of it: its CHECKSUM if one lies beside it, otherwise
      // (zips) the CRC in a first pass.
      std::filesystem::path checksum_path = path;
      checksum_path += ".CHECKSUM";
      std::error_code ec;
      if (std::filesystem::exists(checksum_path, ec)) {
        std::string text;
        {
          std::FILE* cf = std::fopen(checksum_path.c_str(), "rb");
          if (cf == nullptr) return Status::io_error(fmt::format("cannot read {}", checksum_path.string()));
          char buf[512];
          text.assign(buf, std::fread(buf, 1, sizeof buf, cf));
          std::fclose(cf);
        }
        auto expected = parse_checksum_line(text);
        if (!expected)
          return Status::corruption(
              fmt::format("{}: {}", checksum_path.string(), expected.status().message()));
        auto got = sha256_of_file(path);
        if (!got) return got.status();
        if (*got != *expected) {
          return Status::corruption(fmt::format(
              "checksum mismatch for {}: {} says {}, the file hashes to {}; nothing of it was published",
              path.string(), checksum_path.filename().string(), *expected, *got));
        }
      } else if (is_zip_path(path)) {
        Status s = verify_zip(path);
        if (!s) return Status(s.code(), s.message() + "; nothing of it was published");
      }
      SF_RETURN_IF_ERROR(publish_file(path, path.filename().string()));
    }
    return Status::ok();
  }

  // Streams one verified file into the topic. A corrupt zip found mid-stream (only possible when the
  // SHA-256 matched a corrupt file, or the file changed on disk) drops the rows of the batch in progress.
  Status publish_file(const std::filesystem::path& path, const std::string& name) {
    file_name_ = name;
    line_no_ = 0;
    Status s = read_csv_blocks(path, [&](std::string_view block) { return publish_block(block); });
    if (!s) return s;
    SF_RETURN_IF_ERROR(publisher_.publish().status());
    ++files_done_;
    report();
    return Status::ok();
  }

  Status publish_block(std::string_view block) {
    if (ctx_.stop_requested()) return stopped();
    size_t pos = 0;
    while (pos <= block.size()) {
      size_t nl = block.find('\n', pos);
      if (nl == std::string_view::npos) nl = block.size();
      std::string_view line = block.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no_;
      if (line.empty() || line == "\r") continue;
      SF_RETURN_IF_ERROR(publish_line(line));
    }
    report();
    return Status::ok();
  }

  Status publish_line(std::string_view line) {
    switch (plan_.type.kind) {
      case protocol::DataKind::kCandles:
        if (!parse_kline_row(line, kline_, why_)) return bad_row(line);
        if (kline_.open_time < plan_.start || kline_.open_time >= plan_.end || kline_.open_time <= last_key_)
          return Status::ok();
        return add(kline_);
      case protocol::DataKind::kAggTrades:
        if (!parse_agg_trade_row(line, agg_, why_)) return bad_row(line);
        if (agg_.trade_time < plan_.start || agg_.trade_time >= plan_.end || agg_.agg_trade_id <= last_key_)
          return Status::ok();
        return add(agg_);
      default:
        if (!parse_trade_row(line, trade_, why_)) return bad_row(line);
        if (trade_.trade_time < plan_.start || trade_.trade_time >= plan_.end || trade_.trade_id <= last_key_)
          return Status::ok();
        return add(trade_);
    }
  }

  // A header line is skipped; any other unparsable row is dead-lettered with where it came from.
  template <typename Record>
  Status add(const Record& r) {
    publisher_.add(r);
    if (publisher_.pending() < plan_.batch_records) return Status::ok();
    return publisher_.publish().status();
  }

  Status bad_row(std::string_view line) {
    if (line_no_ == 1 && is_header_row(line)) return Status::ok();
    ++bad_rows_;
    if (bad_rows_ <= 10) spdlog::warn("loader-producer: {} line {}: {}", file_name_, line_no_, why_);
    if (!dlq_ready_) {
      SF_RETURN_IF_ERROR(ctx_.bus.ensure_topic(plan_.dlq_topic, bus::TopicConfig{}));
      dlq_ready_ = true;
    }
    protocol::Json doc = {{"queue_id", ctx_.command().queue_id},
                          {"producer", ctx_.telemetry.identity().producer},
                          {"file", file_name_},
                          {"line", line_no_},
                          {"error", why_},
                          {"row", std::string(line.substr(0, 4096))}};
    const std::string value = doc.dump();
    bus::OutgoingRecord r;
    r.key = file_name_;
    r.value = value;
    auto produced = ctx_.bus.produce(plan_.dlq_topic, std::span<const bus::OutgoingRecord>(&r, 1));
    return produced ? Status::ok() : produced.status();
  }

  void report() {
    (void)ctx_.telemetry.progress(
        total(), fmt::format("Published {} records; {} of {} files done, {:.1f} MiB downloaded", total(),
                             files_done_, planned_, static_cast<double>(bytes_downloaded_) / kMiB));
  }

  JobContext& ctx_;
  const Plan plan_;
  const BulkLoaderOptions& options_;
  PagePublisher publisher_;
  const int64_t last_key_;
  const int64_t before_;
  protocol::Kline kline_;
  protocol::AggTrade agg_;
  protocol::Trade trade_;
  std::string why_;
  std::string file_name_;
  int64_t line_no_ = 0;
  bool dlq_ready_ = false;
  int64_t bad_rows_ = 0;
  size_t planned_ = 0;
  size_t files_done_ = 0;
  size_t monthly_ = 0;
  size_t daily_ = 0;
  size_t reused_ = 0;
  int64_t retries_ = 0;
  uint64_t bytes_downloaded_ = 0;
  std::vector<std::string> missing_;
};

}  // namespace

Status BulkLoaderJob::run(JobContext& ctx) {
  auto plan = make_plan(ctx.command(), options_);
  if (!plan) return plan.status();
  SF_RETURN_IF_ERROR(ctx.bus.ensure_topic(plan->topic, bus::TopicConfig{}));
  auto resume = find_resume_point(ctx.bus, plan->topic);
  if (!resume) return resume.status();
  if (resume->last_key) {
    spdlog::info("loader-producer {}: {} records already on {}, continuing after {}",
                 ctx.telemetry.identity().producer, resume->records, plan->topic, *resume->last_key);
  }
  Run run(ctx, std::move(plan).value(), options_, *resume);
  Status status = run.load();
  ctx.telemetry.set_records_written(run.total());
  if (!status) {
    if (status.code() == ErrorCode::kCancelled) {
      return Status::cancelled(fmt::format("stopped: {}", run.summary()));
    }
    return Status(status.code(), fmt::format("{} ({})", status.message(), run.summary()));
  }
  ctx.result_message = run.summary();
  spdlog::info("loader-producer {}: {}", ctx.telemetry.identity().producer, ctx.result_message);
  return Status::ok();
}

std::unique_ptr<Job> make_bulk_loader_job() {
  return std::make_unique<BulkLoaderJob>();
}

}  // namespace sf::services
