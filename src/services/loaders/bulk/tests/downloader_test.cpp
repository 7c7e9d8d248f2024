// The downloader against exchange-sim's dump file tree: Range answers, resume of a partial file, SHA-256,
// CHECKSUM format, 404.
#include "services/loaders/bulk/downloader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "exchange/sim/exchange_sim.h"
#include "services/job/tests/job_test_util.h"

namespace sf::services {
namespace {

namespace sim = exchange::sim;
namespace fs = std::filesystem;
using testing::TestEnv;

TEST(BulkDownloader, ResumesAPartialFileWithRangeRequests) {
  TestEnv env;
  sim::ExchangeSimOptions o;
  o.listen = "127.0.0.1:0";
  sim::ExchangeSim sim(o);
  ASSERT_TRUE(sim.start());
  const std::string path = "/data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2024-08-01.zip";
  auto whole = net::http_get(sim.base_url() + path);
  ASSERT_TRUE(whole && whole->status == 200);
  ASSERT_GT(whole->body.size(), 1000u);
  // A part file holding the first 1000 bytes, as a broken earlier download leaves it.
  const fs::path dir = env.dir() / "dl";
  fs::create_directories(dir);
  std::ofstream(dir / "ETHUSDT-1m-2024-08-01.zip.part", std::ios::binary) << whole->body.substr(0, 1000);
  loaders::bulk::DownloadOptions d;
  d.base_url = sim.base_url();
  d.dir = dir;
  d.chunk_bytes = 4096;
  loaders::bulk::Downloader downloader(d);
  auto got = downloader.fetch({path, "ETHUSDT-1m-2024-08-01.zip", 0, 0, false});
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_FALSE(got->missing);
  EXPECT_EQ(got->bytes, whole->body.size());
  EXPECT_EQ(got->bytes_downloaded, whole->body.size() - 1000);
  std::ifstream in(got->path, std::ios::binary);
  std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(on_disk == whole->body);
  // A second fetch reuses the verified file.
  auto again = downloader.fetch({path, "ETHUSDT-1m-2024-08-01.zip", 0, 0, false});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bytes_downloaded, 0u);
  // Range answers: 206 with Content-Range; beyond the end 416.
  net::Headers h;
  h.set("Range", "bytes=10-19");
  auto part = net::http_get(sim.base_url() + path);
  auto client = net::HttpClient::create(sim.base_url()).value();
  auto ranged = client->get(path, h);
  ASSERT_TRUE(ranged);
  EXPECT_EQ(ranged->status, 206);
  EXPECT_EQ(ranged->body, whole->body.substr(10, 10));
  EXPECT_EQ(*ranged->header("Content-Range"), fmt::format("bytes 10-19/{}", whole->body.size()));
  h.set("Range", fmt::format("bytes={}-", whole->body.size()));
  auto beyond = client->get(path, h);
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 416);
  // The checksum file: "<sha256>  <name>".
  auto sum = client->get(path + ".CHECKSUM");
  ASSERT_TRUE(sum && sum->status == 200);
  EXPECT_EQ(sum->body, got->sha256 + "  ETHUSDT-1m-2024-08-01.zip\n");
  auto missing = client->get("/data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2099-08-01.zip");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("NoSuchKey"), std::string::npos);
}

}  // namespace
}  // namespace sf::services
