// The workflow document and the fold of telemetry into it.
#include "services/manager/workflow_state.h"

#include <gtest/gtest.h>

namespace sf::services {
namespace {

using protocol::WorkflowStatus;

WorkflowState two_services() {
  WorkflowState w;
  w.queue_id = "wf-btcusdt-api_candles_5m-20240801-a1b2c3";
  w.symbol = "BTCUSDT";
  w.type = "api_candles_5m";
  w.time_range = "2024-08-01:2024-08-02";
  w.created_at = 100;
  w.collection_name = "btcusdt_api_candles_5m_2024_08_01";
  w.kafka_topic = w.queue_id + "-data";
  for (std::string target : {"loader-producer", "arango-connector"}) {
    ServiceState s;
    s.target = target;
    s.type = w.type;
    s.telemetry_id = target + "__a1b2c3";
    w.services.push_back(s);
  }
  return w;
}

protocol::EventMessage event(std::string producer, WorkflowStatus status, int64_t records = 0,
                             double t = 200) {
  protocol::EventMessage e;
  e.queue_id = "wf-btcusdt-api_candles_5m-20240801-a1b2c3";
  e.producer = std::move(producer);
  e.status = status;
  e.records_written = records;
  e.message = "m";
  e.timestamp = t;
  return e;
}

TEST(WorkflowStateTest, RoundTripsThroughItsDocument) {
  WorkflowState w = two_services();
  w.services[0].control_partition = 0;
  w.services[0].control_offset = 42;
  w.services[0].started_at = 150;
  w.services[1].extra = {{"upstream", {"loader-producer__a1b2c3"}}};
  w.stop_requested = true;
  w.error = "boom";
  w.last_event_offset = 7;
  auto json = w.to_json();
  EXPECT_EQ(json["status"], "pending");
  EXPECT_EQ(json["services"][0]["status"], "pending");
  EXPECT_TRUE(json["finished_at"].is_null());
  EXPECT_TRUE(json["services"][1]["started_at"].is_null());
  auto back = workflow_state_from_json(json);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->to_json(), json);
  EXPECT_EQ(workflow_state_from_json(protocol::Json::object()).status().code(), ErrorCode::kCorruption);
}

TEST(WorkflowStateTest, FoldsTheLifecycle) {
  WorkflowState w = two_services();
  recompute_status(w, 100);
  EXPECT_EQ(w.status, WorkflowStatus::kPending);
  ASSERT_TRUE(apply_event(w, event("loader-producer__a1b2c3", WorkflowStatus::kStarted), 0));
  recompute_status(w, 101);
  EXPECT_EQ(w.status, WorkflowStatus::kStarted);
  EXPECT_EQ(w.services[0].started_at, 200);
  ASSERT_TRUE(apply_event(w, event("arango-connector__a1b2c3", WorkflowStatus::kLoading, 50, 210), 1));
  recompute_status(w, 102);
  EXPECT_EQ(w.status, WorkflowStatus::kLoading);
  EXPECT_EQ(w.records_written, 50);
  ASSERT_TRUE(apply_event(w, event("loader-producer__a1b2c3", WorkflowStatus::kCompleted, 100, 220), 2));
  recompute_status(w, 103);
  EXPECT_EQ(w.status, WorkflowStatus::kLoading);
  EXPECT_FALSE(w.finished());
  EXPECT_EQ(w.services[0].finished, true);
  EXPECT_EQ(w.services[0].finished_at, 220);
  // A replay of an offset already folded in changes nothing.
  EXPECT_FALSE(apply_event(w, event("arango-connector__a1b2c3", WorkflowStatus::kStarted), 1));
  ASSERT_TRUE(apply_event(w, event("arango-connector__a1b2c3", WorkflowStatus::kCompleted, 100, 230), 3));
  recompute_status(w, 104);
  EXPECT_EQ(w.status, WorkflowStatus::kCompleted);
  EXPECT_TRUE(w.finished());
  EXPECT_EQ(w.finished_at, 104);
  EXPECT_EQ(w.records_written, 100);
  EXPECT_EQ(w.to_json()["duration_seconds"], 4.0);
  // Nothing moves a service after its first terminal status.
  apply_event(w, event("arango-connector__a1b2c3", WorkflowStatus::kError), 4);
  recompute_status(w, 105);
  EXPECT_EQ(w.status, WorkflowStatus::kCompleted);
  EXPECT_EQ(w.last_event_offset, 4);
}

TEST(WorkflowStateTest, ErrorWinsAndStoppedNeedsEveryServiceEnded) {
  WorkflowState w = two_services();
  apply_event(w, event("loader-producer__a1b2c3", WorkflowStatus::kError), 0);
  recompute_status(w, 1);
  EXPECT_EQ(w.status, WorkflowStatus::kError);
  EXPECT_EQ(w.error, "loader-producer__a1b2c3: m");
  EXPECT_FALSE(w.finished_at);

  WorkflowState s = two_services();
  apply_event(s, event("loader-producer__a1b2c3", WorkflowStatus::kStopped), 0);
  recompute_status(s, 1);
  EXPECT_EQ(s.status, WorkflowStatus::kLoading);
  apply_event(s, event("arango-connector__a1b2c3", WorkflowStatus::kCompleted), 1);
  recompute_status(s, 2);
  EXPECT_EQ(s.status, WorkflowStatus::kStopped);
  EXPECT_EQ(s.finished_at, 2);
}

TEST(WorkflowStateTest, OldStyleProducerNamesMatchByTarget) {
  WorkflowState w = two_services();
  auto status = protocol::parse_workflow_status("finished");
  ASSERT_TRUE(status);
  apply_event(w, event("loader-producer", *status, 10), 0);
  EXPECT_EQ(w.services[0].status, WorkflowStatus::kCompleted);
  apply_event(w, event("graph-builder__a1b2c3", WorkflowStatus::kStarted), 1);  // not a service of w
  EXPECT_EQ(w.last_event_offset, 1);
  EXPECT_EQ(w.services[1].status, WorkflowStatus::kPending);
}

}  // namespace
}  // namespace sf::services
