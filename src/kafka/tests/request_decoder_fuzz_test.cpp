// The request decoder: ApiVersions/errors answered as Kafka does, malformed requests close the connection,
// and the fuzz target (request_decoder_fuzz.cpp) fed mutated valid requests of every API for a bounded time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "bus/byte_buffer.h"
#include "bus/record_batch.h"
#include "kafka/dispatch.h"
#include "kafka/group_coordinator.h"
#include "kafka/handlers.h"
#include "kafka/tests/test_util.h"
#include "kafka/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace sf::kafka {
namespace {

using testing::TempDir;

std::string request(int16_t key, int16_t version, const std::function<void(Writer&)>& body) {
  std::string s;
  Writer w(s);
  w.i16(key);
  w.i16(version);
  w.i32(42);
  w.nullable_string("test-client");
  if (is_flexible_request(key, version)) w.empty_tagged_fields();
  body(w);
  return s;
}

std::string record_batch() {
  bus::ByteBuffer buf;
  bus::Header h{"h", "v", false};
  bus::OutgoingRecord r;
  r.key = "key";
  r.value = "value";
  r.headers = std::span<const bus::Header>(&h, 1);
  auto info = bus::encode_batch(std::span<const bus::OutgoingRecord>(&r, 1), {}, 1700000000000, {}, buf);
  EXPECT_TRUE(info.has_value());
  return std::string(buf.view());
}

// A valid request of every API at its highest (and some lower) versions.
std::vector<std::string> seeds() {
  std::vector<std::string> s;
  const std::string batch = record_batch();
  s.push_back(request(api::kApiVersions, 3, [](Writer& w) {
    w.compact_string("sf");
    w.compact_string("1");
    w.empty_tagged_fields();
  }));
  s.push_back(request(api::kApiVersions, 0, [](Writer&) {}));
  for (int16_t v : {0, 1, 4, 5}) {
    s.push_back(request(api::kMetadata, v, [v](Writer& w) {
      w.array_length(1);
      w.string("t");
      if (v >= 4) w.boolean(true);
    }));
  }
  for (int16_t v : {0, 3, 7}) {
    s.push_back(request(api::kProduce, v, [&](Writer& w) {
      if (v >= 3) w.nullable_string(std::nullopt);
      w.i16(-1);
      w.i32(1000);
      w.array_length(1);
      w.string("t");
      w.array_length(1);
      w.i32(1);
      w.bytes(batch);
    }));
  }
  for (int16_t v : {0, 4, 11}) {
    s.push_back(request(api::kFetch, v, [v](Writer& w) {
      w.i32(-1);
      w.i32(0);
      w.i32(1);
      if (v >= 3) w.i32(1 << 20);
      if (v >= 4) w.i8(0);
      if (v >= 7) {
        w.i32(0);
        w.i32(-1);
      }
      w.array_length(1);
      w.string("t");
      w.array_length(1);
      w.i32(1);
      if (v >= 9) w.i32(-1);
      w.i64(0);
      if (v >= 5) w.i64(0);
      w.i32(1 << 20);
      if (v >= 7) w.array_length(0);
      if (v >= 11) w.string("");
    }));
  }
  for (int16_t v : {0, 2}) {
    s.push_back(request(api::kListOffsets, v, [v](Writer& w) {
      w.i32(-1);
      if (v >= 2) w.i8(0);
      w.array_length(1);
      w.string("t");
      w.array_length(2);
      for (int64_t ts : {-1, -2}) {
        w.i32(0);
        w.i64(ts);
        if (v == 0) w.i32(1);
      }
    }));
  }
  s.push_back(request(api::kCreateTopics, 4, [](Writer& w) {
    w.array_length(1);
    w.string("new-topic");
    w.i32(2);
    w.i16(1);
    w.array_length(0);
    w.array_length(1);
    w.string("retention.ms");
    w.nullable_string("1000");
    w.i32(1000);
    w.boolean(true);
  }));
  s.push_back(request(api::kDeleteTopics, 3, [](Writer& w) {
    w.array_length(2);
    w.string("new-topic");
    w.string("no-such-topic");
    w.i32(1000);
  }));
  s.push_back(request(api::kFindCoordinator, 2, [](Writer& w) {
    w.string("g");
    w.i8(0);
  }));
  for (int16_t v : {0, 5}) {
    s.push_back(request(api::kJoinGroup, v, [v](Writer& w) {
      w.string("g");
      w.i32(10);
      if (v >= 1) w.i32(10);
      w.string("");
      if (v >= 5) w.nullable_string(std::nullopt);
      w.string("consumer");
      w.array_length(1);
      w.string("range");
      w.bytes("meta");
    }));
  }
  s.push_back(request(api::kSyncGroup, 3, [](Writer& w) {
    w.string("g");
    w.i32(1);
    w.string("m");
    w.nullable_string(std::nullopt);
    w.array_length(1);
    w.string("m");
    w.bytes("assignment");
  }));
  s.push_back(request(api::kHeartbeat, 3, [](Writer& w) {
    w.string("g");
    w.i32(1);
    w.string("m");
    w.nullable_string(std::nullopt);
  }));
  s.push_back(request(api::kLeaveGroup, 1, [](Writer& w) {
    w.string("g");
    w.string("m");
  }));
  for (int16_t v : {0, 2, 7}) {
    s.push_back(request(api::kOffsetCommit, v, [v](Writer& w) {
      w.string("g");
      if (v >= 1) {
        w.i32(-1);
        w.string("");
      }
      if (v >= 2 && v <= 4) w.i64(-1);
      if (v >= 7) w.nullable_string(std::nullopt);
      w.array_length(1);
      w.string("t");
      w.array_length(1);
      w.i32(0);
      w.i64(1);
      if (v >= 6) w.i32(-1);
      w.nullable_string(std::nullopt);
    }));
  }
  for (int16_t v : {1, 5}) {
    s.push_back(request(api::kOffsetFetch, v, [](Writer& w) {
      w.string("g");
      w.array_length(1);
      w.string("t");
      w.array_length(1);
      w.i32(0);
    }));
  }
  s.push_back(request(api::kListGroups, 2, [](Writer&) {}));
  s.push_back(request(api::kDescribeGroups, 4, [](Writer& w) {
    w.array_length(2);
    w.string("g");
    w.string("none");
    w.boolean(false);
  }));
  for (int16_t v : {0, 2}) {
    s.push_back(request(api::kDescribeConfigs, v, [v](Writer& w) {
      w.array_length(2);
      w.i8(2);
      w.string("t");
      w.array_length(-1);
      w.i8(4);
      w.string("1");
      w.array_length(1);
      w.string("num.partitions");
      if (v >= 1) w.boolean(false);
    }));
  }
  for (int16_t v : {0, 1}) s.push_back(request(api::kSaslHandshake, v, [](Writer& w) { w.string("SCRAM-SHA-512"); }));
  for (int16_t v : {0, 1}) {
    s.push_back(request(api::kSaslAuthenticate, v, [](Writer& w) { w.bytes("n,,n=u,r=clientnonce"); }));
  }
  s.push_back(request(api::kSaslAuthenticate, 2, [](Writer& w) {
    const std::string plain("\0u\0pw", 5);
    w.uvarint(static_cast<uint32_t>(plain.size() + 1));
    w.raw(plain);
    w.empty_tagged_fields();
  }));
  return s;
}

struct DirectBroker {
  explicit DirectBroker(const std::filesystem::path& dir) {
    bus::EmbeddedBusOptions o;
    o.dir = dir;
    auto opened = bus::open_embedded_bus(o);
    EXPECT_TRUE(opened.has_value());
    bus = std::move(*opened);
    EXPECT_TRUE(bus->create_topic("t", bus::TopicConfig{.partitions = 2}));
    options.max_fetch_wait_ms = 0;
    groups = std::make_unique<GroupCoordinator>(*bus, options);
    state = std::make_unique<BrokerState>(BrokerState{*bus, options, *groups, "127.0.0.1", 9092});
  }
  DispatchResult send(std::string frame, std::string& response) {
    return dispatch_request(*state, frame, "test", response);
  }
  std::unique_ptr<bus::Bus> bus;
  BrokerOptions options;
  std::unique_ptr<GroupCoordinator> groups;
  std::unique_ptr<BrokerState> state;
};

TEST(RequestDecoderTest, ApiVersionsV3AdvertisesEveryHandlerAndNoMore) {
  TempDir tmp;
  DirectBroker b(tmp.path());
  std::string response;
  ASSERT_EQ(b.send(seeds()[0], response), DispatchResult::kRespond);
  Reader r(response);
  EXPECT_EQ(r.i32(), static_cast<int32_t>(response.size() - 4));
  EXPECT_EQ(r.i32(), 42);  // correlation id; the response header carries no tagged fields
  EXPECT_EQ(r.i16(), err::kNone);
  const int32_t n = r.compact_array_length();
  ASSERT_EQ(n, static_cast<int32_t>(handler_table().size()));
  std::map<int16_t, std::pair<int16_t, int16_t>> versions;
  for (int32_t i = 0; i < n; ++i) {
    const int16_t key = r.i16(), min = r.i16(), max = r.i16();
    r.skip_tagged_fields();
    versions[key] = {min, max};
  }
  EXPECT_EQ(r.i32(), 0);
  r.skip_tagged_fields();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(versions[api::kProduce], (std::pair<int16_t, int16_t>(0, 7)));
  EXPECT_EQ(versions[api::kFetch], (std::pair<int16_t, int16_t>(0, 11)));
  EXPECT_EQ(versions[api::kMetadata], (std::pair<int16_t, int16_t>(0, 5)));
  EXPECT_EQ(versions[api::kApiVersions], (std::pair<int16_t, int16_t>(0, 3)));
  EXPECT_EQ(versions[api::kJoinGroup], (std::pair<int16_t, int16_t>(0, 5)));
  EXPECT_EQ(versions[api::kDeleteTopics], (std::pair<int16_t, int16_t>(0, 3)));
  EXPECT_EQ(versions[api::kSaslHandshake], (std::pair<int16_t, int16_t>(0, 1)));
  EXPECT_EQ(versions[api::kSaslAuthenticate], (std::pair<int16_t, int16_t>(0, 2)));
}

TEST(RequestDecoderTest, NewerApiVersionsGetsV0UnsupportedVersionOthersClose) {
  TempDir tmp;
  DirectBroker b(tmp.path());
  std::string response;
  ASSERT_EQ(b.send(request(api::kApiVersions, 9, [](Writer& w) { w.raw("whatever"); }), response),
            DispatchResult::kRespond);
  Reader r(response);
  r.i32();
  r.i32();
  EXPECT_EQ(r.i16(), err::kUnsupportedVersion);
  EXPECT_EQ(r.array_length(), static_cast<int32_t>(handler_table().size()));
  EXPECT_EQ(b.send(request(api::kMetadata, 12, [](Writer&) {}), response), DispatchResult::kClose);
  EXPECT_EQ(b.send(request(999, 0, [](Writer&) {}), response), DispatchResult::kClose);
  EXPECT_EQ(b.send(std::string("\x00\x03", 2), response), DispatchResult::kClose);
}

TEST(RequestDecoderTest, EveryTruncationOfEverySeedClosesOrAnswersAndAppendsNothingPartial) {
  TempDir tmp;
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);
  DirectBroker b(tmp.path());
  std::string response;
  for (const auto& seed : seeds()) {
    EXPECT_NE(b.send(seed, response), DispatchResult::kClose) << "a valid request";
    for (std::size_t len = 0; len < seed.size(); ++len) {
      const auto r = b.send(seed.substr(0, len), response);
      if (r == DispatchResult::kRespond) {
        EXPECT_GE(response.size(), 8u);
      }
    }
  }
  // The valid Produce seeds appended one record each (acks=-1, then the truncated copies appended nothing).
  spdlog::set_level(level);
  EXPECT_EQ(b.bus->describe_topic("t")->partitions[1].log_end_offset, 3);
}

TEST(RequestDecoderFuzzTest, MutatedRequestsNeverCrashHangOrLeak) {
  const auto corpus = seeds();
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);  // every malformed request logs a warning: keep the output short
  std::mt19937_64 rng(20261124);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  int runs = 0;
  for (; runs < 200000 && std::chrono::steady_clock::now() < deadline; ++runs) {
    std::string input = corpus[rng() % corpus.size()];
    const int ops = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < ops && !input.empty(); ++i) {
      const std::size_t at = rng() % input.size();
      switch (rng() % 6) {
        case 0:
          input[at] = static_cast<char>(input[at] ^ (1 << (rng() % 8)));
          break;
        case 1:
          input[at] = static_cast<char>(rng());
          break;
        case 2:
          input.resize(at);
          break;
        case 3:
          input.insert(at, std::string(1 + rng() % 8, static_cast<char>(rng())));
          break;
        case 4: {  // an "interesting" 16/32-bit value: lengths and counts
          static const uint32_t kValues[] = {0,      1,      0x7f,       0x80,       0xff,
                                             0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff};
          const uint32_t v = kValues[rng() % std::size(kValues)];
          for (int k = 0; k < 4 && at + k < input.size(); ++k)
            input[at + k] = static_cast<char>(v >> (8 * (3 - k)));
          break;
        }
        default:
          input.erase(at, 1 + rng() % 4);
          break;
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  spdlog::set_level(level);
  EXPECT_GT(runs, 1000);
  std::printf("fuzz: %d mutated requests\n", runs);
}

}  // namespace
}  // namespace sf::kafka
