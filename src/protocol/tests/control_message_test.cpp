#include "protocol/control_message.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "protocol/tests/json_text.h"

namespace sf::protocol {
namespace {

using testing::strip_json_whitespace;
using testing::top_level_keys;

// Verbatim from the seed, chapter 3, "Topic queue-control".
constexpr std::string_view kSeedStart = R"({
  "command": "start",
  "queue_id": "wf-btcusdt-api_candles_5m-20240801-a1b2c3",
  "target": "loader-producer",
  "symbol": "BTCUSDT",
  "type": "api_candles_5m",
  "time_range": "2024-08-01:2024-08-02",
  "kafka_topic": "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data",
  "collection_name": "btcusdt_api_candles_5m_2024_08_01",
  "telemetry_id": "loader-producer__a1b2c3",
  "image": "registry.dmz.home/streamforge/loader-producer:v0.2.0",
  "timestamp": 1722500000.123
})";

const std::vector<std::string> kSeedOrder = {"command",      "queue_id",   "target",      "symbol",
                                             "type",         "time_range", "kafka_topic", "collection_name",
                                             "telemetry_id", "image",      "timestamp"};

Json seed_json() {
  return Json::parse(kSeedStart);
}

std::string message_of(const Result<ControlMessage>& r) {
  return r ? std::string("(parsed)") : r.status().message();
}

TEST(ControlMessage, SeedExampleParses) {
  auto m = parse_control_message(kSeedStart);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(m->command, Command::kStart);
  EXPECT_EQ(m->queue_id, "wf-btcusdt-api_candles_5m-20240801-a1b2c3");
  EXPECT_EQ(m->target, "loader-producer");
  EXPECT_EQ(m->symbol, "BTCUSDT");
  EXPECT_EQ(m->type, "api_candles_5m");
  EXPECT_EQ(m->time_range, "2024-08-01:2024-08-02");
  EXPECT_EQ(m->kafka_topic, "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data");
  EXPECT_EQ(m->collection_name, "btcusdt_api_candles_5m_2024_08_01");
  EXPECT_EQ(m->telemetry_id, "loader-producer__a1b2c3");
  EXPECT_EQ(m->image, "registry.dmz.home/streamforge/loader-producer:v0.2.0");
  ASSERT_TRUE(m->timestamp.has_value());
  EXPECT_DOUBLE_EQ(*m->timestamp, 1722500000.123);
  EXPECT_TRUE(m->extra.empty());
  EXPECT_TRUE(validate(*m).is_ok()) << validate(*m).to_string();
}

TEST(ControlMessage, SeedExampleRoundTripsVerbatim) {
  auto m = parse_control_message(kSeedStart);
  ASSERT_TRUE(m) << m.status().to_string();
  std::string compact = serialize(*m);
  EXPECT_EQ(compact, strip_json_whitespace(kSeedStart));
  EXPECT_EQ(compact.find('\n'), std::string::npos);
  EXPECT_EQ(top_level_keys(compact), kSeedOrder);
  // Pretty-printed with two spaces it is the seed's text byte for byte.
  EXPECT_EQ(serialize(*m, 2), kSeedStart);
  auto again = parse_control_message(compact);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
}

TEST(ControlMessage, BuiltMessageSerialisesInSeedOrder) {
  ControlMessage m;
  m.timestamp = 1722500000.123;  // assigned out of order on purpose
  m.image = "registry.dmz.home/streamforge/loader-producer:v0.2.0";
  m.telemetry_id = "loader-producer__a1b2c3";
  m.collection_name = "btcusdt_api_candles_5m_2024_08_01";
  m.kafka_topic = "wf-btcusdt-api_candles_5m-20240801-a1b2c3-data";
  m.time_range = "2024-08-01:2024-08-02";
  m.type = "api_candles_5m";
  m.symbol = "BTCUSDT";
  m.target = "loader-producer";
  m.queue_id = "wf-btcusdt-api_candles_5m-20240801-a1b2c3";
  m.command = Command::kStart;
  EXPECT_EQ(serialize(m), strip_json_whitespace(kSeedStart));
}

TEST(ControlMessage, UnknownFieldsArePreservedInOrder) {
  Json j = seed_json();
  j["interval"] = "5m";
  j["graph"] = Json{{"window", 10}, {"features", {"close", "volume"}}};
  j["zeta"] = nullptr;
  auto m = control_message_from_json(j);
  ASSERT_TRUE(m) << m.status().to_string();
  ASSERT_EQ(m->extra.size(), 3u);
  std::string out = serialize(*m);
  EXPECT_EQ(out, strip_json_whitespace(j.dump()));
  auto keys = top_level_keys(out);
  std::vector<std::string> expected = kSeedOrder;
  expected.insert(expected.end(), {"interval", "graph", "zeta"});
  EXPECT_EQ(keys, expected);
  auto again = parse_control_message(out);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
}

TEST(ControlMessage, UnknownFieldsInTheMiddleMoveAfterTheKnownOnes) {
  std::string text = R"({"command":"stop","x_custom":[1,2],"queue_id":"wf-1"})";
  auto m = parse_control_message(text);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(serialize(*m), R"({"command":"stop","queue_id":"wf-1","x_custom":[1,2]})");
}

TEST(ControlMessage, TypedExtraFieldAccessor) {
  Json j = seed_json();
  j["interval"] = "5m";
  j["epochs"] = 20;
  j["learning_rate"] = 0.01;
  j["dry_run"] = true;
  j["graph"] = Json{{"window", 10}};
  auto m = control_message_from_json(j);
  ASSERT_TRUE(m);

  auto interval = m->extra_field<std::string>("interval");
  ASSERT_TRUE(interval);
  EXPECT_EQ(interval->value(), "5m");
  auto epochs = m->extra_field<int64_t>("epochs");
  ASSERT_TRUE(epochs);
  EXPECT_EQ(epochs->value(), 20);
  auto lr = m->extra_field<double>("learning_rate");
  ASSERT_TRUE(lr);
  EXPECT_DOUBLE_EQ(lr->value(), 0.01);
  auto epochs_as_double = m->extra_field<double>("epochs");  // integers widen to double
  ASSERT_TRUE(epochs_as_double);
  EXPECT_DOUBLE_EQ(epochs_as_double->value(), 20.0);
  auto dry = m->extra_field<bool>("dry_run");
  ASSERT_TRUE(dry);
  EXPECT_TRUE(dry->value());
  auto graph = m->extra_field<Json>("graph");
  ASSERT_TRUE(graph);
  EXPECT_EQ((*graph)->at("window"), 10);

  auto absent = m->extra_field<std::string>("nope");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());

  auto wrong = m->extra_field<int64_t>("interval");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(),
            "queue-control message: field 'interval' must be an integer, got string");
  auto fraction = m->extra_field<int64_t>("learning_rate");
  ASSERT_FALSE(fraction);
  EXPECT_NE(fraction.status().message().find("'learning_rate'"), std::string::npos);
}

TEST(ControlMessage, EachRequiredFieldOfStartIsNamedWhenMissing) {
  for (const std::string& field : kSeedOrder) {
    Json j = seed_json();
    j.erase(field);
    auto m = control_message_from_json(j);
    if (field == "image") {
      ASSERT_TRUE(m) << "image is optional: " << m.status().to_string();
      EXPECT_EQ(serialize(*m), strip_json_whitespace(j.dump()));
      continue;
    }
    ASSERT_FALSE(m) << field;
    EXPECT_EQ(m.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(m.status().message(), fmt::format("queue-control message: field '{}' is missing", field));
  }
}

TEST(ControlMessage, NullCountsAsMissing) {
  Json j = seed_json();
  j["symbol"] = nullptr;
  EXPECT_EQ(message_of(control_message_from_json(j)), "queue-control message: field 'symbol' is missing");
  j = seed_json();
  j["image"] = nullptr;
  auto m = control_message_from_json(j);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->image.empty());
  EXPECT_EQ(top_level_keys(serialize(*m)).size(), kSeedOrder.size() - 1);
}

TEST(ControlMessage, EmptyRequiredStringIsAnError) {
  Json j = seed_json();
  j["queue_id"] = "";
  EXPECT_EQ(message_of(control_message_from_json(j)),
            "queue-control message: field 'queue_id' must not be empty");
}

TEST(ControlMessage, WrongTypesNameTheField) {
  for (const std::string& field : kSeedOrder) {
    Json j = seed_json();
    if (field == "timestamp") {
      j[field] = "1722500000.123";
    } else {
      j[field] = 42;
    }
    auto m = control_message_from_json(j);
    ASSERT_FALSE(m) << field;
    EXPECT_EQ(m.status().code(), ErrorCode::kInvalidArgument);
    std::string want =
        field == "timestamp"
            ? "queue-control message: field 'timestamp' must be a number, got string"
            : fmt::format("queue-control message: field '{}' must be a string, got number", field);
    EXPECT_EQ(m.status().message(), want);
  }
  Json j = seed_json();
  j["symbol"] = Json::array({"BTCUSDT"});
  EXPECT_EQ(message_of(control_message_from_json(j)),
            "queue-control message: field 'symbol' must be a string, got array");
}

TEST(ControlMessage, IntegerTimestampIsAccepted) {
  Json j = seed_json();
  j["timestamp"] = 1722500000;
  auto m = control_message_from_json(j);
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(*m->timestamp, 1722500000.0);
}

TEST(ControlMessage, StopNeedsOnlyCommandAndQueueId) {
  constexpr std::string_view text =
      R"({"command":"stop","queue_id":"wf-btcusdt-api_candles_5m-20240801-a1b2c3"})";
  auto m = parse_control_message(text);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(m->command, Command::kStop);
  EXPECT_FALSE(m->timestamp.has_value());
  EXPECT_TRUE(m->target.empty());
  EXPECT_EQ(serialize(*m), text);  // nothing invented on the way out
  EXPECT_TRUE(validate(*m).is_ok());

  EXPECT_EQ(message_of(parse_control_message(R"({"command":"stop"})")),
            "queue-control message: field 'queue_id' is missing");
  auto with_ts =
      parse_control_message(R"({"command":"stop","queue_id":"q","timestamp":1.5,"target":"loader-ws"})");
  ASSERT_TRUE(with_ts);
  EXPECT_EQ(serialize(*with_ts), R"({"command":"stop","queue_id":"q","target":"loader-ws","timestamp":1.5})");
  // Optional fields still have to have the right type.
  EXPECT_EQ(message_of(parse_control_message(R"({"command":"stop","queue_id":"q","timestamp":"now"})")),
            "queue-control message: field 'timestamp' must be a number, got string");
}

TEST(ControlMessage, CommandIsValidated) {
  EXPECT_EQ(message_of(parse_control_message(R"({"queue_id":"q"})")),
            "queue-control message: field 'command' is missing");
  EXPECT_EQ(message_of(parse_control_message(R"({"command":"pause","queue_id":"q"})")),
            "queue-control message: field 'command' must be one of start, stop, got 'pause'");
  EXPECT_EQ(message_of(parse_control_message(R"({"command":"START","queue_id":"q"})")),
            "queue-control message: field 'command' must be one of start, stop, got 'START'");
  EXPECT_EQ(message_of(parse_control_message(R"({"command":true,"queue_id":"q"})")),
            "queue-control message: field 'command' must be a string, got boolean");
}

TEST(ControlMessage, MalformedTextIsAnErrorNotACrash) {
  for (std::string_view text :
       {"", "{", "[]", "42", "null", "\"start\"", R"({"command":"start",})", "{\"command\":\"st\xff\"}",
        R"({"command":"stop","queue_id":"q"} trailing)"}) {
    auto m = parse_control_message(text);
    ASSERT_FALSE(m) << text;
    EXPECT_EQ(m.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(m.status().message().starts_with("queue-control message: ")) << m.status().message();
  }
  EXPECT_EQ(message_of(parse_control_message("[1]")),
            "queue-control message: expected a JSON object, got array");
}

TEST(ControlMessage, ValidateChecksValues) {
  auto base = parse_control_message(kSeedStart);
  ASSERT_TRUE(base);
  auto check = [&](auto mutate, std::string_view fragment) {
    ControlMessage m = *base;
    mutate(m);
    Status s = validate(m);
    ASSERT_FALSE(s.is_ok()) << fragment;
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
  };
  check([](ControlMessage& m) { m.symbol = "btcusdt"; }, "field 'symbol'");
  check([](ControlMessage& m) { m.type = "api_candles_7m"; }, "field 'type'");
  check([](ControlMessage& m) { m.target = "loader-xyz"; }, "field 'target'");
  check([](ControlMessage& m) { m.target = "gnn-trainer"; }, "cannot run workflow type 'api_candles_5m'");
  check([](ControlMessage& m) { m.time_range = "2024-08-02:2024-08-01"; }, "field 'time_range'");
  check([](ControlMessage& m) { m.timestamp.reset(); }, "field 'timestamp'");

  ControlMessage live = *base;
  live.type = "ws_trades";
  live.target = "loader-ws";
  live.time_range = "2024-08-01:";
  EXPECT_TRUE(validate(live).is_ok()) << validate(live).to_string();
}

}  // namespace
}  // namespace sf::protocol
