// Shared helpers of the bus tests: a private temporary directory per test, record builders.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "core/temp_dir.h"

namespace sf::bus::testing {

using TempDir = sf::TempDir;  // removed with everything in it when the test ends

// Owns the bytes that OutgoingRecords view.
struct RecordSet {
  std::vector<std::string> keys, values;
  std::vector<OutgoingRecord> records;

  // n records "<prefix><i>" with key "k<i % key_mod>" (or null keys when key_mod == 0).
  static RecordSet make(int n, const std::string& prefix, int key_mod = 0) {
    RecordSet s;
    s.keys.reserve(n);
    s.values.reserve(n);
    for (int i = 0; i < n; ++i) {
      s.keys.push_back("k" + std::to_string(key_mod > 0 ? i % key_mod : i));
      s.values.push_back(prefix + std::to_string(i));
    }
    for (int i = 0; i < n; ++i) {
      OutgoingRecord r;
      if (key_mod > 0) r.key = s.keys[i];
      r.value = s.values[i];
      s.records.push_back(r);
    }
    return s;
  }
};

inline EmbeddedBusOptions options_for(const std::filesystem::path& dir) {
  EmbeddedBusOptions o;
  o.dir = dir;
  return o;
}

inline std::unique_ptr<Bus> open_or_die(const EmbeddedBusOptions& options) {
  auto bus = open_embedded_bus(options);
  if (!bus) {
    ADD_FAILURE() << bus.status().to_string();
    return nullptr;
  }
  return std::move(*bus);
}

inline TopicConfig partitions(int32_t n) {
  TopicConfig c;
  c.partitions = n;
  return c;
}

// Every value of `topic`/`partition` from `offset` to the log end.
inline std::vector<std::string> read_all(Bus& bus, const std::string& topic, int32_t partition,
                                         int64_t offset = 0) {
  std::vector<std::string> values;
  FetchBatch batch;
  FetchOptions options;
  for (;;) {
    Status s = bus.fetch(topic, partition, offset, options, batch);
    if (!s) {
      ADD_FAILURE() << s.to_string();
      break;
    }
    if (batch.empty()) break;
    for (const auto& r : batch) {
      EXPECT_EQ(r.offset, offset) << "offsets must be contiguous";
      values.emplace_back(r.value);
      offset = r.offset + 1;
    }
  }
  return values;
}

}  // namespace sf::bus::testing
