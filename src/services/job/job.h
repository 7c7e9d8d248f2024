// The job runtime shared by every worker (loaders, arango-connector, graph/GNN, dummy): how a job finds its
// `start` command on `queue-control`, reports its lifecycle on `queue-events` in the seed's shape, honours
// `stop`, and how job kinds are registered. The public header of src/services/job/ (with launcher.h).
//
// Lifecycle (run_job): find the `start` addressed to the job (queue_id + telemetry id / target) on the
// queue_id's partition of `queue-control` -> publish `started` -> Job::run() while a watcher follows
// `queue-control` for a `stop` of the workflow -> publish exactly one terminal event: `completed` (run
// returned OK), `stopped` (Cancelled, or any failure after a stop was requested) or `error` (anything else,
// exceptions included), each with finished=true. A job abandoned by its host (the host shuts down, see
// JobHostSignals::abandon) publishes no terminal event: the workflow stays in flight and the job is
// relaunched later, resuming from its committed offsets (idempotent upserts make the replay harmless).
//
// Services never call each other: a job learns everything from its `start` command and the topics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "bus/bus.h"
#include "core/metrics.h"
#include "core/status.h"
#include "protocol/control_message.h"
#include "protocol/event_message.h"
#include "protocol/workflow_type.h"
#include "store/store.h"

namespace sf::services {

// ---------------------------------------------------------------------------------------------------------
// Service topics

inline constexpr std::string_view kControlTopic = "queue-control";  // commands, written only by the manager
inline constexpr std::string_view kEventsTopic = "queue-events";    // telemetry, written by every job

struct ServiceTopicsConfig {
  int32_t control_partitions = 1;  // partitions of `queue-control` when it is created
  int32_t events_partitions = 1;   // partitions of `queue-events` when it is created
};

// Creates `queue-control` and `queue-events` unless they exist (then OK, whatever their partitions).
Status ensure_service_topics(bus::Bus& bus, const ServiceTopicsConfig& config = {});

// The partition a record keyed `key` lands in on `topic` (Kafka's partitioner on the topic's partition
// count). NotFound for an unknown topic.
Result<int32_t> partition_for_key(bus::Bus& bus, std::string_view topic, std::string_view key);

// Reads one partition forward from an offset with Bus::fetch, remembering where it got to. A position below
// the log start (retention) moves to the log start. Not thread-safe.
class PartitionTail {
 public:
  PartitionTail(bus::Bus& bus, std::string topic, int32_t partition, int64_t offset);

  // The next records (replacing `out`), waiting up to `timeout` at the log end; advances the position.
  Status next(std::chrono::milliseconds timeout, bus::FetchBatch& out);
  int64_t position() const { return offset_; }
  int32_t partition() const { return partition_; }

 private:
  bus::Bus& bus_;
  std::string topic_;
  int32_t partition_;
  int64_t offset_;
};

// ---------------------------------------------------------------------------------------------------------
// Telemetry

struct TelemetryIdentity {
  std::string queue_id;
  std::string producer;  // the job's telemetry id, "arango-connector__a1b2c3"
  std::string symbol;
  std::string type;
};

struct TelemetryOptions {
  std::chrono::milliseconds loading_interval{1000};  // progress() publishes `loading` at most this often
};

// Publishes the job's EventMessages on `queue-events`, keyed by queue_id (one partition per workflow, so its
// events stay ordered), in the seed's shape: every field present (queue_id, producer, symbol, type, status,
// message, records_written, finished, timestamp). Remembers the last records_written so terminal events carry
// the final count. Thread-safe.
class TelemetryPublisher {
 public:
  TelemetryPublisher(bus::Bus& bus, TelemetryIdentity identity, TelemetryOptions options = {});

  // Publishes one event now. An empty message becomes the status name (the seed always has one);
  // `records_written` defaults to the last count set. `finished` defaults to is_terminal(status).
  Status publish(protocol::WorkflowStatus status, std::string message = {},
                 std::optional<int64_t> records_written = std::nullopt,
                 std::optional<bool> finished = std::nullopt);

  Status started(std::string message = "started") {
    return publish(protocol::WorkflowStatus::kStarted, std::move(message));
  }
  // Records the count and publishes `loading` unless one went out less than loading_interval ago (then OK
  // without publishing). An empty message becomes "<n> records".
  Status progress(int64_t records_written, std::string message = {});
  // `loading` now, whatever the throttle.
  Status loading(int64_t records_written, std::string message = {});
  Status completed(std::string message) {
    return publish(protocol::WorkflowStatus::kCompleted, std::move(message));
  }
  Status error(std::string message) { return publish(protocol::WorkflowStatus::kError, std::move(message)); }
  Status stopped(std::string message) {
    return publish(protocol::WorkflowStatus::kStopped, std::move(message));
  }

  void set_records_written(int64_t records_written);
  int64_t records_written() const;
  const TelemetryIdentity& identity() const { return identity_; }
  // Events published so far (all statuses).
  int64_t published() const;

  // The EventMessage publish() would send; exposed for tests and for hosts that relay events.
  protocol::EventMessage make_event(protocol::WorkflowStatus status, std::string message,
                                    std::optional<int64_t> records_written,
                                    std::optional<bool> finished) const;

 private:
  bus::Bus& bus_;
  const TelemetryIdentity identity_;
  const TelemetryOptions options_;
  mutable std::mutex mu_;
  int64_t records_written_ = 0;
  int64_t published_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_loading_;
};

// Epoch seconds with a fraction, as the seed's `timestamp` fields.
double epoch_seconds_now();

// ---------------------------------------------------------------------------------------------------------
// Commands

// What a host knows when it starts a job: enough to find its `start` command. A Kubernetes backend passes
// the same fields as arguments of `streamforge job <target>`.
struct JobSpec {
  std::string queue_id;                      // required
  std::string target;                        // "arango-connector"; matched when telemetry_id is empty
  std::string telemetry_id;                  // "arango-connector__a1b2c3"; matched when set
  std::optional<int32_t> control_partition;  // default: the queue_id's partition of `queue-control`
  std::optional<int64_t> control_offset;     // offset of the start command; default: the log start
  std::string image;                         // container image (for container backends); optional
};

struct StartCommand {
  protocol::ControlMessage message;
  int32_t partition = 0;
  int64_t offset = 0;
};

// True when `message` is a `start` addressed to the job of `spec`.
bool is_start_for(const protocol::ControlMessage& message, const JobSpec& spec);
// True when `message` is a `stop` for the job of `spec`: same queue_id, and target / telemetry_id either
// absent (the whole workflow) or the job's.
bool is_stop_for(const protocol::ControlMessage& message, const JobSpec& spec);

// Reads `queue-control` from the spec's offset (or the log start) until the `start` addressed to the job
// appears, up to `timeout` or until `stop` is requested (Cancelled). NotFound when none came in time,
// InvalidArgument when the spec names neither target nor telemetry id. Unparsable records are skipped.
Result<StartCommand> find_start_command(bus::Bus& bus, const JobSpec& spec, std::chrono::milliseconds timeout,
                                        std::stop_token stop = {});

// Follows `queue-control` from `from_offset` on a background thread and calls `on_stop` once when a `stop`
// for the job appears (then stops reading). Destruction joins the thread (within ~poll_interval).
class StopWatcher {
 public:
  StopWatcher(bus::Bus& bus, JobSpec spec, int32_t partition, int64_t from_offset,
              std::function<void(const protocol::ControlMessage&)> on_stop,
              std::chrono::milliseconds poll_interval = std::chrono::milliseconds(100));
  ~StopWatcher();
  StopWatcher(const StopWatcher&) = delete;
  StopWatcher& operator=(const StopWatcher&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------------------
// Jobs

// Where the exchange lives, and other host-level settings every job may need. Plain strings for now; the
// defaults are Binance's real endpoints (DESIGN.md, "Command line and ports").
struct JobSettings {
  std::string exchange_rest_url = "https://api.binance.com";
  std::string exchange_ws_url = "wss://stream.binance.com:9443";
  std::string bulk_url = "https://data.binance.vision";
  std::string artifacts;  // where gnn-trainer stores models: a folder or s3://bucket/prefix; "" = the host's
                          // default (<data dir>/artifacts)
  std::chrono::milliseconds poll_interval{
      100};  // how long jobs block in one bus wait before re-checking stop
};

// Everything a running job gets. Valid for the duration of Job::run().
struct JobContext {
  bus::Bus& bus;
  store::Store& store;
  const StartCommand& start;  // the `start` command and where it was read
  TelemetryPublisher& telemetry;
  std::stop_token stop;  // requested on a `stop` command, a host stop, or the host abandoning the job
  std::shared_ptr<MetricsRegistry> metrics;  // may be null
  const JobSettings& settings;
  // The message of the terminal event when run() returns OK (default "completed: <n> records"). Set it
  // together with telemetry.set_records_written() for the final count.
  std::string result_message;

  const protocol::ControlMessage& command() const { return start.message; }
  bool stop_requested() const { return stop.stop_requested(); }
};

// One kind of work. run() returns OK when the work is done (-> `completed`), Cancelled when it honoured a
// stop (-> `stopped`), any other error (-> `error` with the message). It should check ctx.stop at least every
// ctx.settings.poll_interval or so and report progress through ctx.telemetry.progress(). It may throw: the
// runtime turns an exception into `error`. A Job object runs once.
class Job {
 public:
  virtual ~Job() = default;
  virtual Status run(JobContext& ctx) = 0;
};

using JobFactory = std::function<std::unique_ptr<Job>()>;

// Job kinds keyed by the protocol's Worker: a `start` command's (target, type) is routed with
// protocol::route(), so every loader-* target reaches the loader of its type's prefix. Registering a kind is
// one line: `registry.add(protocol::Worker::kRestLoader, [] { return std::make_unique<RestLoaderJob>(); });`
// (the built-in kinds are registered in job/catalog.cpp). Not thread-safe while add() runs; create() may be
// called concurrently once set up.
class JobRegistry {
 public:
  // Registers (or replaces) the factory of a worker.
  void add(protocol::Worker worker, JobFactory factory);
  bool contains(protocol::Worker worker) const { return factories_.count(worker) > 0; }

  // The worker that runs `start` (its target and type routed), or InvalidArgument naming the bad field.
  static Result<protocol::Worker> worker_for(const protocol::ControlMessage& start);
  // A new job for `start`; NotFound "no job registered for worker 'rest-loader' (target ..., type ...)".
  Result<std::unique_ptr<Job>> create(const protocol::ControlMessage& start) const;

 private:
  std::map<protocol::Worker, JobFactory> factories_;
};

// What a host provides to every job it runs. References must outlive the run.
struct JobEnvironment {
  bus::Bus& bus;
  store::Store& store;
  const JobRegistry& registry;
  JobSettings settings;
  TelemetryOptions telemetry;
  std::chrono::milliseconds start_timeout{30000};  // how long to look for the `start` command
  std::shared_ptr<MetricsRegistry> metrics;        // may be null; counter streamforge_job_runs_total
};

// How a host interrupts a job from outside the topics.
struct JobHostSignals {
  std::stop_token stop;     // like a `stop` command: the job stops and reports `stopped`
  std::stop_token abandon;  // the host is going away: the job stops and reports nothing terminal
};

// The common lifecycle (see the top of this file). Returns OK (completed), Cancelled (stopped or abandoned)
// or the job's error. Never throws. When the start command cannot be found or the job kind is unknown, an
// `error` event is still published under the spec's telemetry id so the manager learns about it.
Status run_job(const JobEnvironment& env, const JobSpec& spec, const JobHostSignals& signals = {});

}  // namespace sf::services
