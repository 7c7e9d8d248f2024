// The queue-manager core (`streamforge serve` minus HTTP): starts workflows, tracks them from `queue-events`,
// stops them, and resumes in-flight ones after a restart. The public header of src/services/manager/.
// Seed §2.2, steps 1-5 and 11: validate -> register `pending` in `queue_state` -> one `start` per service on
// `queue-control` -> launch the jobs (JobLauncher) -> follow `queue-events` and keep `queue_state` current.
// The manager never calls a job: commands go out on `queue-control`, news comes in on `queue-events`.
//
// Each REST endpoint is one call (the routes and their answers: http_api.h):
//   POST /queues/start                     start(parse_api_start_request(body))  InvalidArgument -> 400
//   POST /queues/stop?queue_id=ID          stop(id)    NotFound -> 404, FailedPrecondition (finished) -> 409
//   GET  /queues, /queues/{id}, .../events list(), get(id), events(id)
//   WS   /ws/topic                         subscribe(listener) / unsubscribe(token)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "core/metrics.h"
#include "core/status.h"
#include "protocol/event_message.h"
#include "services/job/job.h"
#include "services/job/launcher.h"
#include "services/manager/start_request.h"
#include "services/manager/workflow_state.h"
#include "store/store.h"

namespace sf::services {

inline constexpr std::string_view kStateCollection = "queue_state";    // one document per workflow
inline constexpr std::string_view kEventsCollection = "queue_events";  // the event log, "<queue_id>-<offset>"
inline constexpr std::string_view kManagerGroup = "queue-manager";     // consumer group on queue-events

struct QueueManagerOptions {
  std::string
      default_image;  // `image` of start commands when a service names none; "" = "streamforge:<version>"
  int32_t data_partitions = 1;  // partitions of each workflow's data topic
  ServiceTopicsConfig topics;   // partitions of queue-control / queue-events when they are created
  std::chrono::milliseconds poll_timeout{100};  // one wait of the event follower
  std::chrono::milliseconds catch_up_timeout{
      10000};                                // open(): how long to fold in the events missed while down
  std::function<std::string()> make_suffix;  // workflow id suffixes; default protocol::random_workflow_suffix
  std::shared_ptr<MetricsRegistry> metrics;  // optional
};

// One entry of a workflow's event log: the event as folded in, and its queue-events offset.
struct StoredEvent {
  int64_t offset = 0;
  protocol::EventMessage event;
};

// Called after every change of a workflow (start, an event, stop), from the thread that made it, outside
// the manager's locks: keep it short; it may call get()/list()/events() but not unsubscribe() itself.
using WorkflowListener = std::function<void(const WorkflowState&)>;

// Thread-safe: every method may be called from any thread.
class QueueManager {
 public:
  // Creates the service topics and collections if missing, reloads the workflows still in flight from
  // `queue_state`, folds in the events published while no manager ran, relaunches every service that has not
  // ended (jobs resume from their committed offsets), then follows `queue-events` on a background thread.
  // `bus`, `store` and `launcher` must outlive the manager.
  static Result<std::unique_ptr<QueueManager>> open(bus::Bus& bus, store::Store& store, JobLauncher& launcher,
                                                    QueueManagerOptions options = {});
  // Stops following events. Running jobs are left to the launcher (destroy it to abandon them).
  ~QueueManager();
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  // Validates the request (InvalidArgument naming the field), names the workflow, creates its data topic,
  // registers it `pending`, publishes one `start` per service and launches the jobs. Returns the state.
  // A launch that fails marks its service (and the workflow) `error` and stops the others: the state says so.
  Result<WorkflowState> start(const StartRequest& request);

  // Publishes `stop` for the workflow on queue-control and marks it stop_requested; the jobs report
  // `stopped`. NotFound for an unknown workflow, FailedPrecondition when it has already finished.
  Result<WorkflowState> stop(std::string_view queue_id);

  // Every workflow, newest first.
  Result<std::vector<WorkflowState>> list();
  // NotFound for an unknown workflow.
  Result<WorkflowState> get(std::string_view queue_id);
  // The workflow's events in order (a range scan of `queue_events`). NotFound for an unknown workflow.
  Result<std::vector<StoredEvent>> events(std::string_view queue_id);

  // Registers a listener; returns a token for unsubscribe().
  uint64_t subscribe(WorkflowListener listener);
  void unsubscribe(uint64_t token);

  // Waits until every service of the workflow has ended; Timeout with the last state's status otherwise.
  Result<WorkflowState> wait_finished(std::string_view queue_id, std::chrono::milliseconds timeout);

  // The image start commands get by default.
  const std::string& default_image() const;

 private:
  struct Impl;
  explicit QueueManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf::services
