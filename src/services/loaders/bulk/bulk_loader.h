// The bulk loader (`streamforge job loader-producer` for bulk_ types): loads a workflow's time range from
// Binance's public data dumps (data.binance.vision, or exchange-sim's /data/ tree) into its data topic.
// The public header of src/services/loaders/bulk/.
//
// For bulk_candles_<interval>, bulk_agg_trades and bulk_trades over [START, END):
//   1. file_plan.h: monthly files for whole months, daily files for the rest;
//   2. downloader.h: several files at once, a few ahead of the one being published, each in HTTP Range
//      chunks into `<download_dir>/<queue_id>/` (a broken connection or a relaunch resumes), its SHA-256
//      checked against the `.CHECKSUM` file before any of its rows is published;
//   3. csv_source.h: the CSV streamed out of the zip in memory (never unpacked to disk);
//   4. csv_rows.h: rows parsed (milliseconds or microseconds), trimmed to [START, END);
//   5. published in batches of `batch_records` (one produce() each), keyed by the natural key, the value the
//      stored document (protocol/records.h) - the same records the REST loader publishes for that range.
// A file the server does not have (404: before the listing, or not published yet) is skipped and named in
// the final message; when none of the files exists the workflow ends `error`. A checksum mismatch, a corrupt
// zip or a download that keeps failing ends it `error` naming the file; nothing of that file is published
// (files before it are: they are valid, and a relaunch continues after them). A row that does not parse is
// counted, logged and dead-lettered to `<queue_id>-dlq` with the file, line and reason; the rows around it
// are published.
//
// `from_files` (a start-command extra: an array of paths; `workflow start --from-files`): load zip or CSV
// files already on disk instead (a directory means its *.zip and *.csv files), in name order (dump names
// sort by date). A `<file>.CHECKSUM` beside a file is checked; a zip without one has its CRC checked in a
// first pass before anything of it is published. Rows are trimmed to the range all the same.
//
// Relaunched on a topic that already holds records, it continues after the last complete batch (the header
// `sf-page-last` on each partition's last record of a batch, as the REST loader writes it): rows up to that
// key are skipped, files already downloaded and verified are reused. The download directory of a workflow
// is removed when it completes.
//
// Telemetry: `loading` with the record count, files done and bytes downloaded; the final message repeats
// them. Other start-command extras: download_threads (1..16), batch_records (1000..1000000).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "net/http_client.h"
#include "services/job/job.h"

namespace sf::services {

struct BulkLoaderOptions {
  std::filesystem::path download_dir;  // empty: <system temp dir>/streamforge-bulk
  int download_threads = 2;            // files downloaded at once
  int download_window = 3;             // files downloaded ahead of the one being published (disk bound)
  uint64_t chunk_bytes = 4u << 20;     // bytes per HTTP Range request (one is in memory per download)
  size_t batch_records = 16'384;       // records per produce() (its documents are in memory at once)
  bool keep_files = false;             // keep the downloaded files after a completed workflow
  net::HttpClientOptions http = [] {
    net::HttpClientOptions o;
    o.request_timeout = std::chrono::seconds(300);
    return o;
  }();
};

class BulkLoaderJob final : public Job {
 public:
  BulkLoaderJob() = default;
  explicit BulkLoaderJob(BulkLoaderOptions options) : options_(std::move(options)) {}
  Status run(JobContext& ctx) override;

 private:
  BulkLoaderOptions options_;
};

std::unique_ptr<Job> make_bulk_loader_job();

}  // namespace sf::services
