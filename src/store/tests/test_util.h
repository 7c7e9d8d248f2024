// Shared helpers of the store tests: a private temporary directory and realistic kline documents.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

namespace sf::store::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sf_store_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A 5m BTCUSDT candle as the arango-connector writes it (~350 bytes); `_key` is the open time in ms.
inline std::string candle_json(int64_t open_time_ms, std::string_view close = "64523.10000000") {
  return fmt::format(
      R"({{"_key":"{0}","open_time":{0},"open":"64500.00000000","high":"64600.50000000",)"
      R"("low":"64480.20000000","close":"{1}","volume":"123.45678000","close_time":{2},)"
      R"("quote_asset_volume":"7965432.12345678","number_of_trades":4321,)"
      R"("taker_buy_base_asset_volume":"61.72839000","taker_buy_quote_asset_volume":"3982716.06172839",)"
      R"("symbol":"BTCUSDT","interval":"5m"}})",
      open_time_ms, close, open_time_ms + 299999);
}

}  // namespace sf::store::testing
