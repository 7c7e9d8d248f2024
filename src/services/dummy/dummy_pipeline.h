// The diagnostic dummy service: synthetic candles through the bus into the store, then verified.
// It exercises the same path as a real backfill (producer → data topic → consumer group → idempotent
// upserts → committed offsets) without any exchange, so it checks a deployment and measures it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "bus/bus.h"
#include "core/status.h"
#include "core/time_range.h"
#include "store/store.h"

namespace sf::services {

struct DummyOptions {
  int64_t records = 1'000'000;  // candles to publish
  int32_t partitions = 4;       // partitions of the topic (when it is created)
  int32_t batch = 1000;         // records per produce() call
  std::string symbol = "BTCUSDT";
  std::string topic = "dummy-btcusdt-candles-1m";
  std::string collection = "dummy_btcusdt_candles_1m";
  std::string group = "dummy-sink";
  TimestampMs start_ms = 1704067200000;  // 2024-01-01T00:00:00Z; candle i opens at start + i minutes
  uint64_t seed = 42;                    // price path seed: the same seed gives the same candles
};

struct DummyProgress {
  std::atomic<int64_t> produced{0};
  std::atomic<int64_t> consumed{0};
  std::atomic<int64_t> written{0};
  std::atomic<bool> producing_done{false};
};

struct DummyReport {
  int64_t produced = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0, rejected = 0;
  uint64_t documents_in_range = 0;  // documents found in the candles' key range after the run
  double produce_seconds = 0;
  double total_seconds = 0;
  bool verified = false;     // every candle present once, contiguous in time order
  std::string verification;  // what was checked, or what was wrong
};

// Runs producer and sink concurrently, waits until the sink has committed everything produced, then
// verifies the collection. `progress` is updated live (read it from another thread).
Result<DummyReport> run_dummy_pipeline(bus::Bus& bus, store::Store& store, const DummyOptions& options,
                                       DummyProgress& progress);

}  // namespace sf::services
