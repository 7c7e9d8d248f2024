// Which dump files cover a range: monthly for whole months, daily for the rest, Binance's paths.
#include "services/loaders/bulk/file_plan.h"

#include <gtest/gtest.h>

namespace sf::services::loaders::bulk {
namespace {

protocol::WorkflowType type(std::string_view text) {
  return protocol::parse_workflow_type(text).value();
}
int64_t at(std::string_view text) {
  return parse_utc_time(text).value();
}
std::vector<std::string> names(const std::vector<DumpFileRef>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.name);
  return out;
}

TEST(FilePlan, WholeMonthIsOneMonthlyFileWithBinancePath) {
  auto files = plan_dump_files("BTCUSDT", type("bulk_candles_1m"), at("2024-08-01"), at("2024-09-01"));
  ASSERT_TRUE(files) << files.status().to_string();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-08.zip");
  EXPECT_TRUE((*files)[0].monthly);
  EXPECT_EQ((*files)[0].start_ms, at("2024-08-01"));
  EXPECT_EQ((*files)[0].end_ms, at("2024-09-01"));
}

TEST(FilePlan, PartialMonthsUseDailyFilesAroundWholeMonths) {
  auto files = plan_dump_files("ETHUSDT", type("bulk_agg_trades"), at("2024-07-30T12:00:00Z"),
                               at("2024-09-02T06:00:00Z"));
  ASSERT_TRUE(files) << files.status().to_string();
  EXPECT_EQ(names(*files),
            (std::vector<std::string>{"ETHUSDT-aggTrades-2024-07-30.zip", "ETHUSDT-aggTrades-2024-07-31.zip",
                                      "ETHUSDT-aggTrades-2024-08.zip", "ETHUSDT-aggTrades-2024-09-01.zip",
                                      "ETHUSDT-aggTrades-2024-09-02.zip"}));
  EXPECT_EQ((*files)[0].path, "/data/spot/daily/aggTrades/ETHUSDT/ETHUSDT-aggTrades-2024-07-30.zip");
  EXPECT_FALSE((*files)[0].monthly);
  EXPECT_TRUE((*files)[2].monthly);
}

TEST(FilePlan, YearOfTradesAndLongIntervals) {
  auto year = plan_dump_files("BTCUSDT", type("bulk_trades"), at("2024-01-01"), at("2025-01-01"));
  ASSERT_TRUE(year);
  ASSERT_EQ(year->size(), 12u);
  EXPECT_EQ(year->back().path, "/data/spot/monthly/trades/BTCUSDT/BTCUSDT-trades-2024-12.zip");
  // 1M is spelled 1mo; weeks and months have monthly files only, even for part of a month.
  auto months = plan_dump_files("BTCUSDT", type("bulk_candles_1M"), at("2024-08-15"), at("2024-09-02"));
  ASSERT_TRUE(months);
  EXPECT_EQ(names(*months), (std::vector<std::string>{"BTCUSDT-1mo-2024-08.zip", "BTCUSDT-1mo-2024-09.zip"}));
  EXPECT_EQ(months->front().path, "/data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-08.zip");
}

TEST(FilePlan, RejectsOtherTypesAndEmptyRanges) {
  EXPECT_FALSE(plan_dump_files("BTCUSDT", type("api_candles_1m"), at("2024-08-01"), at("2024-08-02")));
  EXPECT_FALSE(plan_dump_files("BTCUSDT", type("bulk_candles_1m"), at("2024-08-02"), at("2024-08-02")));
}

}  // namespace
}  // namespace sf::services::loaders::bulk
