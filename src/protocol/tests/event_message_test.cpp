#include "protocol/event_message.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "protocol/tests/json_text.h"

namespace sf::protocol {
namespace {

using testing::strip_json_whitespace;
using testing::top_level_keys;

// Verbatim from the seed, chapter 3, "Topic queue-events".
constexpr std::string_view kSeedEvent = R"({
  "queue_id": "wf-btcusdt-api_candles_5m-20240801-a1b2c3",
  "producer": "arango-connector__a1b2c3",
  "symbol": "BTCUSDT",
  "type": "api_candles_5m",
  "status": "loading",
  "message": "Saved 15000 records",
  "records_written": 15000,
  "finished": false,
  "timestamp": 1722500125.456
})";

const std::vector<std::string> kSeedOrder = {"queue_id", "producer",        "symbol",   "type",     "status",
                                             "message",  "records_written", "finished", "timestamp"};

Json seed_json() {
  return Json::parse(kSeedEvent);
}

TEST(EventMessage, SeedExampleParses) {
  auto m = parse_event_message(kSeedEvent);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(m->queue_id, "wf-btcusdt-api_candles_5m-20240801-a1b2c3");
  EXPECT_EQ(m->producer, "arango-connector__a1b2c3");
  EXPECT_EQ(m->symbol, "BTCUSDT");
  EXPECT_EQ(m->type, "api_candles_5m");
  EXPECT_EQ(m->status, WorkflowStatus::kLoading);
  EXPECT_EQ(m->message, "Saved 15000 records");
  EXPECT_EQ(m->records_written, 15000);
  EXPECT_EQ(m->finished, false);
  EXPECT_DOUBLE_EQ(m->timestamp, 1722500125.456);
  EXPECT_FALSE(m->is_finished());
  EXPECT_TRUE(m->extra.empty());
}

TEST(EventMessage, SeedExampleRoundTripsVerbatim) {
  auto m = parse_event_message(kSeedEvent);
  ASSERT_TRUE(m) << m.status().to_string();
  std::string compact = serialize(*m);
  EXPECT_EQ(compact, strip_json_whitespace(kSeedEvent));
  EXPECT_EQ(top_level_keys(compact), kSeedOrder);
  EXPECT_EQ(serialize(*m, 2), kSeedEvent);
  auto again = parse_event_message(compact);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
}

TEST(EventMessage, StatusNamesAndAliases) {
  const std::pair<std::string_view, WorkflowStatus> cases[] = {
      {"pending", WorkflowStatus::kPending},    {"started", WorkflowStatus::kStarted},
      {"loading", WorkflowStatus::kLoading},    {"completed", WorkflowStatus::kCompleted},
      {"error", WorkflowStatus::kError},        {"stopped", WorkflowStatus::kStopped},
      {"finished", WorkflowStatus::kCompleted}, {"interrupted", WorkflowStatus::kStopped},
  };
  for (auto [text, status] : cases) {
    auto parsed = parse_workflow_status(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(*parsed, status) << text;
  }
  for (auto status : {WorkflowStatus::kPending, WorkflowStatus::kStarted, WorkflowStatus::kLoading,
                      WorkflowStatus::kCompleted, WorkflowStatus::kError, WorkflowStatus::kStopped}) {
    auto back = parse_workflow_status(status_name(status));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, status);
  }
  EXPECT_EQ(status_name(WorkflowStatus::kCompleted), "completed");
  EXPECT_EQ(status_name(WorkflowStatus::kStopped), "stopped");
  for (std::string_view bad : {"", "Loading", "done", "failed", "running"}) {
    auto parsed = parse_workflow_status(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.status().message().find("valid statuses"), std::string::npos);
  }
}

TEST(EventMessage, AliasesAreNormalisedOnTheWire) {
  Json j = seed_json();
  j["status"] = "finished";
  j["finished"] = true;
  auto m = event_message_from_json(j);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(m->status, WorkflowStatus::kCompleted);
  EXPECT_NE(serialize(*m).find(R"("status":"completed")"), std::string::npos);

  j["status"] = "interrupted";
  m = event_message_from_json(j);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, WorkflowStatus::kStopped);
  EXPECT_NE(serialize(*m).find(R"("status":"stopped")"), std::string::npos);
}

TEST(EventMessage, TerminalStatuses) {
  EXPECT_FALSE(is_terminal(WorkflowStatus::kPending));
  EXPECT_FALSE(is_terminal(WorkflowStatus::kStarted));
  EXPECT_FALSE(is_terminal(WorkflowStatus::kLoading));
  EXPECT_TRUE(is_terminal(WorkflowStatus::kCompleted));
  EXPECT_TRUE(is_terminal(WorkflowStatus::kError));
  EXPECT_TRUE(is_terminal(WorkflowStatus::kStopped));

  EventMessage m;
  m.status = WorkflowStatus::kError;
  EXPECT_TRUE(m.is_finished());  // no `finished` sent: follows the status
  m.finished = false;
  EXPECT_FALSE(m.is_finished());  // what was sent wins
}

TEST(EventMessage, EachRequiredFieldIsNamedWhenMissing) {
  for (std::string field : {"queue_id", "producer", "status", "timestamp"}) {
    Json j = seed_json();
    j.erase(field);
    auto m = event_message_from_json(j);
    ASSERT_FALSE(m) << field;
    EXPECT_EQ(m.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(m.status().message(), fmt::format("queue-events message: field '{}' is missing", field));
  }
}

TEST(EventMessage, OptionalFieldsStayAbsent) {
  for (std::string field : {"symbol", "type", "message", "records_written", "finished"}) {
    Json j = seed_json();
    j.erase(field);
    auto m = event_message_from_json(j);
    ASSERT_TRUE(m) << field << ": " << m.status().to_string();
    EXPECT_EQ(serialize(*m), strip_json_whitespace(j.dump())) << field;
  }
  constexpr std::string_view minimal =
      R"({"queue_id":"q","producer":"p__1","status":"started","timestamp":1.0})";
  auto m = parse_event_message(minimal);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_FALSE(m->records_written.has_value());
  EXPECT_FALSE(m->finished.has_value());
  EXPECT_EQ(serialize(*m), minimal);
}

TEST(EventMessage, WrongTypesNameTheField) {
  auto check = [](const char* field, Json value, const std::string& want) {
    Json j = seed_json();
    j[field] = std::move(value);
    auto m = event_message_from_json(j);
    ASSERT_FALSE(m) << field;
    EXPECT_EQ(m.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(m.status().message(), want);
  };
  check("queue_id", 1, "queue-events message: field 'queue_id' must be a string, got number");
  check("producer", Json::object(), "queue-events message: field 'producer' must be a string, got object");
  check("symbol", false, "queue-events message: field 'symbol' must be a string, got boolean");
  check("status", 3, "queue-events message: field 'status' must be a string, got number");
  check("status", "done",
        "queue-events message: field 'status': invalid status 'done'; valid statuses: pending, "
        "started, loading, completed (or finished), error, stopped (or interrupted)");
  check("records_written", "15000",
        "queue-events message: field 'records_written' must be a non-negative integer, got string");
  check("records_written", 1.5,
        "queue-events message: field 'records_written' must be a non-negative integer, got number");
  check("records_written", -3,
        "queue-events message: field 'records_written' must be a non-negative integer, got -3");
  check("finished", "false", "queue-events message: field 'finished' must be a boolean, got string");
  check("finished", 0, "queue-events message: field 'finished' must be a boolean, got number");
  check("timestamp", "now", "queue-events message: field 'timestamp' must be a number, got string");
}

TEST(EventMessage, UnknownFieldsArePreserved) {
  Json j = seed_json();
  j["duration_ms"] = 1234;
  j["worker"] = Json{{"pod", "loader-abc"}};
  auto m = event_message_from_json(j);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->extra.size(), 2u);
  EXPECT_EQ(serialize(*m), strip_json_whitespace(j.dump()));
  auto duration = m->extra_field<int64_t>("duration_ms");
  ASSERT_TRUE(duration);
  EXPECT_EQ(duration->value(), 1234);
  auto bad = m->extra_field<std::string>("duration_ms");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().message(), "queue-events message: field 'duration_ms' must be a string, got number");
}

TEST(EventMessage, MalformedTextIsAnErrorNotACrash) {
  for (std::string_view text : {"", "{]", "[]", "true", R"({"queue_id":"q",)", "\x01\x02"}) {
    auto m = parse_event_message(text);
    ASSERT_FALSE(m) << text;
    EXPECT_TRUE(m.status().message().starts_with("queue-events message: ")) << m.status().message();
  }
}

}  // namespace
}  // namespace sf::protocol
