// The bulk loader through the real manager (QueueManager + InProcessLauncher + the built-in jobs) against a
// real ExchangeSim on 127.0.0.1:0 serving the dump file tree, with the embedded bus and RocksDB in a
// temporary directory. Stored documents are compared with what the REST loader stores for the same range.
#include "services/loaders/bulk/bulk_loader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "exchange/sim/bulk_files.h"
#include "exchange/sim/exchange_sim.h"
#include "net/http_client.h"
#include "protocol/records.h"
#include "services/job/catalog.h"
#include "services/job/launcher.h"
#include "services/loaders/bulk/downloader.h"
#include "services/loaders/tests/loader_test_util.h"
#include "services/manager/queue_manager.h"

namespace sf::services {
namespace {

using namespace std::chrono_literals;
using protocol::WorkflowStatus;
namespace sim = exchange::sim;
namespace fs = std::filesystem;

class BulkLoaderTest : public testing::LoaderTest {
 protected:
  void SetUp() override {
    next_suffix_ = 1;
    sim::ExchangeSimOptions o;
    o.listen = "127.0.0.1:0";
    o.bulk.cache_dir = env_.dir() / "sim-cache";
    sim_ = std::make_unique<sim::ExchangeSim>(std::move(o));
    ASSERT_TRUE(sim_->start());
    BulkLoaderOptions bulk;
    bulk.download_dir = env_.dir() / "downloads";
    bulk.chunk_bytes = 64 * 1024;  // several Range requests per file
    bulk.download_threads = 3;
    bulk.batch_records = 5000;
    registry_.add(protocol::Worker::kBulkLoader, [bulk] { return std::make_unique<BulkLoaderJob>(bulk); });
    open_manager([this](JobEnvironment& e) {
      e.settings.exchange_rest_url = sim_->base_url();
      e.settings.bulk_url = sim_->base_url();
    });
  }

  // Bulk and REST workflows over one range must store the same documents.
  void expect_same_as_rest(const WorkflowState& bulk, const std::string& api_type, const std::string& range) {
    auto rest = run(bulk.symbol, api_type, range);
    ASSERT_EQ(rest.status, WorkflowStatus::kCompleted) << rest.error;
    auto want = stored(rest.collection_name);
    auto got = stored(bulk.collection_name);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "bulk and REST documents differ, e.g. " << got.begin()->second << " vs "
                             << want.begin()->second;
  }
  // Downloads a dump file from the simulator into `dir` (for --from-files tests).
  fs::path fetch(const std::string& path, const fs::path& dir) {
    auto res = net::http_get(sim_->base_url() + path);
    EXPECT_TRUE(res && res->status == 200) << path;
    fs::create_directories(dir);
    fs::path out = dir / path.substr(path.rfind('/') + 1);
    std::ofstream(out, std::ios::binary) << (res ? res->body : "");
    return out;
  }

  std::unique_ptr<sim::ExchangeSim> sim_;
};

TEST_F(BulkLoaderTest, MonthOfMinuteCandlesEqualsRest) {
  auto w = run("BTCUSDT", "bulk_candles_1m", "2024-08-01:2024-09-01");
  ASSERT_EQ(w.status, WorkflowStatus::kCompleted) << w.error;
  EXPECT_EQ(docs(w.collection_name), 31u * 24 * 60);
  EXPECT_NE(loader(w).message.find("1 monthly, 0 daily"), std::string::npos) << loader(w).message;
  expect_same_as_rest(w, "api_candles_1m", "2024-08-01:2024-09-01");
}

TEST_F(BulkLoaderTest, RangeStartingAndEndingMidMonthMixesDailyAndMonthlyFiles) {
  const std::string range = "2024-07-30T12:00:00Z:2024-09-02T06:00:00Z";
  auto w = run("ETHUSDT", "bulk_candles_5m", range);
  ASSERT_EQ(w.status, WorkflowStatus::kCompleted) << w.error;
  EXPECT_EQ(docs(w.collection_name), (33u * 24 + 18) * 12);  // 12:00 Jul 30 .. 06:00 Sep 2, 5m candles
  EXPECT_NE(loader(w).message.find("1 monthly, 4 daily"), std::string::npos) << loader(w).message;
  expect_same_as_rest(w, "api_candles_5m", range);
}

TEST_F(BulkLoaderTest, AggTradesAcrossADayBoundaryEqualRest) {
  const std::string range = "2024-08-01T23:30:00Z:2024-08-02T00:30:00Z";
  auto w = run("BCHUSDT", "bulk_agg_trades", range);
  ASSERT_EQ(w.status, WorkflowStatus::kCompleted) << w.error;
  EXPECT_GT(docs(w.collection_name), 0u);
  expect_same_as_rest(w, "api_agg_trades", range);
}

TEST_F(BulkLoaderTest, TradesEqualRest) {
  const std::string range = "2024-08-01T10:00:00Z:2024-08-01T10:20:00Z";
  auto w = run("BCHUSDT", "bulk_trades", range);
  ASSERT_EQ(w.status, WorkflowStatus::kCompleted) << w.error;
  EXPECT_GT(docs(w.collection_name), 0u);
  expect_same_as_rest(w, "api_trades", range);
}

TEST_F(BulkLoaderTest, MicrosecondFilesFrom2025AreStoredInMillisecondsWithTheFullValueKept) {
  auto w = run("BTCUSDT", "bulk_candles_1h", "2025-01-01:2025-01-03");
  ASSERT_EQ(w.status, WorkflowStatus::kCompleted) << w.error;
  auto rest = run("BTCUSDT", "api_candles_1h", "2025-01-01:2025-01-03");
  ASSERT_EQ(rest.status, WorkflowStatus::kCompleted) << rest.error;
  auto got = stored(w.collection_name);
  auto want = stored(rest.collection_name);
  ASSERT_EQ(got.size(), 48u);
  ASSERT_EQ(want.size(), 48u);
  protocol::RecordParser parser;
  for (const auto& [key, doc] : got) {
    protocol::Kline k, r;
    ASSERT_TRUE(parser.parse_document(doc, k)) << doc;
    ASSERT_TRUE(parser.parse_document(want.at(key), r));
    EXPECT_EQ(k.open_time_us, k.open_time * 1000);
    EXPECT_EQ(k.close_time_us, k.close_time * 1000 + 999);
    k.open_time_us.reset();
    k.close_time_us.reset();
    EXPECT_EQ(k, r) << doc;
  }
}

TEST_F(BulkLoaderTest, WrongChecksumIsAnErrorAndNothingIsStored) {
  sim_->set_bulk_faults({.wrong_checksum = true});
  auto w = run("BTCUSDT", "bulk_candles_1m", "2024-08-01:2024-08-02");
  ASSERT_EQ(w.status, WorkflowStatus::kError);
  EXPECT_NE(loader(w).message.find("checksum mismatch for BTCUSDT-1m-2024-08-01.zip"), std::string::npos)
      << loader(w).message;
  EXPECT_EQ(docs(w.collection_name), 0u);
}

TEST_F(BulkLoaderTest, CorruptedZipFromTheServerIsAnErrorAndNothingIsStored) {
  sim_->set_bulk_faults({.corrupt_zip = true});
  auto w = run("BTCUSDT", "bulk_candles_1m", "2024-08-01:2024-08-02");
  ASSERT_EQ(w.status, WorkflowStatus::kError);
  EXPECT_NE(loader(w).message.find("checksum mismatch"), std::string::npos) << loader(w).message;
  EXPECT_EQ(docs(w.collection_name), 0u);
}

TEST_F(BulkLoaderTest, MissingFilesAreReportedAndAllMissingIsAnError) {
  // SOLUSDT is listed on 2020-08-11: nothing before.
  auto none = run("SOLUSDT", "bulk_candles_1h", "2019-01-01:2019-03-01");
  ASSERT_EQ(none.status, WorkflowStatus::kError);
  EXPECT_NE(loader(none).message.find("none of the 2 dump files"), std::string::npos) << loader(none).message;
  EXPECT_NE(loader(none).message.find("404"), std::string::npos);

  auto some = run("SOLUSDT", "bulk_candles_1h", "2020-08-09:2020-08-13");
  ASSERT_EQ(some.status, WorkflowStatus::kCompleted) << some.error;
  EXPECT_EQ(docs(some.collection_name), 48u);  // Aug 11 and 12
  EXPECT_NE(loader(some).message.find("2 files not on the server"), std::string::npos)
      << loader(some).message;
  EXPECT_NE(loader(some).message.find("SOLUSDT-1h-2020-08-09.zip"), std::string::npos);
}

TEST_F(BulkLoaderTest, FromFilesLoadsZipAndCsvAndDeadLettersBadRows) {
  const fs::path dir = env_.dir() / "mirror";
  fetch("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-01.zip", dir);
  // The next day as a plain CSV (written by the simulator's generator), with one bad row in the middle.
  auto file = sim::parse_dump_path("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-02.zip");
  ASSERT_TRUE(file);
  std::string csv;
  ASSERT_TRUE(
      sim::write_dump_csv(*sim_->market().find("BTCUSDT"), *file, sim_->now_ms(), [&](std::string_view s) {
        csv += s;
        return Status::ok();
      }));
  const size_t mid = csv.find('\n', csv.size() / 2) + 1;
  csv.insert(mid, "1722556800000,not-a-price,1,1,1,1,1722556859999,1,1,1,1,0\n");
  std::ofstream(dir / "BTCUSDT-1m-2024-08-02.csv", std::ios::binary) << csv;

  auto w = run("BTCUSDT", "bulk_candles_1m", "2024-08-01:2024-08-03", {{"from_files", {dir.string()}}});
  ASSERT_EQ(w.status, WorkflowStatus::kCompleted) << w.error;
  EXPECT_EQ(docs(w.collection_name), 2u * 1440);
  EXPECT_NE(loader(w).message.find("1 bad rows dead-lettered"), std::string::npos) << loader(w).message;
  auto dlq = testing::read_topic(env_.bus(), w.queue_id + "-dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(dlq[0].find("not-a-price"), std::string::npos) << dlq[0];
  expect_same_as_rest(w, "api_candles_1m", "2024-08-01:2024-08-03");
}

TEST_F(BulkLoaderTest, FromFilesRefusesACorruptZipOrAWrongChecksumBeforePublishing) {
  const fs::path dir = env_.dir() / "bad";
  fs::path zip = fetch("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-01.zip", dir);
  {
    // Flip bytes inside the compressed data: the CRC check fails.
    std::fstream f(zip, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(zip) / 2));
    f.write("garbage!garbage!", 16);
  }
  auto w = run("BTCUSDT", "bulk_candles_1m", "2024-08-01:2024-08-02", {{"from_files", {zip.string()}}});
  ASSERT_EQ(w.status, WorkflowStatus::kError);
  EXPECT_NE(loader(w).message.find("nothing of it was published"), std::string::npos) << loader(w).message;
  EXPECT_EQ(docs(w.collection_name), 0u);

  const fs::path dir2 = env_.dir() / "bad2";
  fs::path good = fetch("/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08-01.zip", dir2);
  std::ofstream(good.string() + ".CHECKSUM") << std::string(64, 'a') << "  BTCUSDT-1m-2024-08-01.zip\n";
  auto w2 = run("BTCUSDT", "bulk_candles_1m", "2024-08-01:2024-08-02", {{"from_files", {good.string()}}});
  ASSERT_EQ(w2.status, WorkflowStatus::kError);
  EXPECT_NE(loader(w2).message.find("checksum mismatch"), std::string::npos) << loader(w2).message;
  EXPECT_EQ(docs(w2.collection_name), 0u);
}

}  // namespace
}  // namespace sf::services
