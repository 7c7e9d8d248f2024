// The job registry and the common lifecycle of every job: find start, started, run, one terminal event.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <thread>

#include "services/job/job.h"

namespace sf::services {

void JobRegistry::add(protocol::Worker worker, JobFactory factory) {
  factories_[worker] = std::move(factory);
}

Result<protocol::Worker> JobRegistry::worker_for(const protocol::ControlMessage& start) {
  auto target = protocol::parse_target(start.target);
  if (!target) return Status::invalid_argument(fmt::format("field 'target': {}", target.status().message()));
  auto type = protocol::parse_workflow_type(start.type);
  if (!type) return Status::invalid_argument(fmt::format("field 'type': {}", type.status().message()));
  return protocol::route(*target, *type);
}

Result<std::unique_ptr<Job>> JobRegistry::create(const protocol::ControlMessage& start) const {
  auto worker = worker_for(start);
  if (!worker) return worker.status();
  auto it = factories_.find(*worker);
  if (it == factories_.end()) {
    return Status::not_found(fmt::format("no job registered for worker '{}' (target '{}', type '{}')",
                                         protocol::worker_name(*worker), start.target, start.type));
  }
  std::unique_ptr<Job> job = it->second();
  if (!job)
    return Status::internal(
        fmt::format("the factory of worker '{}' made no job", protocol::worker_name(*worker)));
  return job;
}

// ---------------------------------------------------------------------------------------------------------

namespace {

// Terminal telemetry matters more than progress: retry a little before giving up (the manager would then
// only learn of the end through a relaunch).
void publish_terminal(TelemetryPublisher& telemetry, protocol::WorkflowStatus status,
                      const std::string& message) {
  Status published;
  for (int attempt = 0; attempt < 3; ++attempt) {
    published = telemetry.publish(status, message);
    if (published) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
  }
  spdlog::error("job {}: could not publish '{}' on {}: {}", telemetry.identity().producer,
                protocol::status_name(status), kEventsTopic, published.to_string());
}

void count_run(const JobEnvironment& env, std::string_view worker, std::string_view outcome) {
  if (!env.metrics) return;
  prometheus::BuildCounter()
      .Name("streamforge_job_runs_total")
      .Help("Jobs run by this process, by worker and outcome (completed, error, stopped, abandoned)")
      .Register(*env.metrics)
      .Add({{"worker", std::string(worker)}, {"outcome", std::string(outcome)}})
      .Increment();
}

}  // namespace

Status run_job(const JobEnvironment& env, const JobSpec& spec, const JobHostSignals& signals) {
  std::stop_source job_stop;
  std::atomic<bool> abandoned{false};
  std::mutex reason_mu;
  std::string stop_reason;  // guarded by reason_mu
  auto request_stop = [&](std::string reason) {
    {
      std::lock_guard lock(reason_mu);
      if (stop_reason.empty()) stop_reason = std::move(reason);
    }
    job_stop.request_stop();
  };
  std::stop_callback on_host_stop(signals.stop, [&] { request_stop("stop requested by the host"); });
  std::stop_callback on_abandon(signals.abandon, [&] {
    abandoned = true;
    request_stop("abandoned by the host");
  });

  const std::string producer = !spec.telemetry_id.empty() ? spec.telemetry_id : spec.target;
  auto found = find_start_command(env.bus, spec, env.start_timeout, job_stop.get_token());
  if (!found) {
    if (abandoned) return Status::cancelled("abandoned before the start command was found");
    TelemetryPublisher telemetry(env.bus, {spec.queue_id, producer, "", ""}, env.telemetry);
    const bool stopped = found.status().code() == ErrorCode::kCancelled;
    spdlog::error("job {}: {}", producer, found.status().to_string());
    publish_terminal(telemetry,
                     stopped ? protocol::WorkflowStatus::kStopped : protocol::WorkflowStatus::kError,
                     found.status().message());
    count_run(env, "unknown", stopped ? "stopped" : "error");
    return found.status();
  }
  const StartCommand& start = *found;
  const protocol::ControlMessage& command = start.message;
  TelemetryPublisher telemetry(
      env.bus,
      {command.queue_id, command.telemetry_id.empty() ? producer : command.telemetry_id, command.symbol,
       command.type},
      env.telemetry);
  const std::string& id = telemetry.identity().producer;

  auto worker = JobRegistry::worker_for(command);
  const std::string worker_label = worker ? std::string(protocol::worker_name(*worker)) : "unknown";
  auto fail = [&](const Status& status) {
    spdlog::error("job {}: {}", id, status.to_string());
    publish_terminal(telemetry, protocol::WorkflowStatus::kError, status.message());
    count_run(env, worker_label, "error");
    return status;
  };
  if (Status valid = protocol::validate(command); !valid) return fail(valid);
  auto job = env.registry.create(command);
  if (!job) return fail(job.status());

  // From here on a `stop` for the workflow (published after the start) stops the job.
  JobSpec watched = spec;
  watched.telemetry_id = command.telemetry_id;
  watched.target = command.target;
  StopWatcher watcher(
      env.bus, watched, start.partition, start.offset + 1,
      [&](const protocol::ControlMessage&) { request_stop("stop command on " + std::string(kControlTopic)); },
      env.settings.poll_interval);

  if (Status started = telemetry.started(fmt::format("{} started", command.target)); !started) {
    spdlog::warn("job {}: publishing 'started': {}", id, started.to_string());
  }
  spdlog::info("job {}: started ({} {} {})", id, command.queue_id, command.type, command.time_range);

  JobContext ctx{env.bus,     env.store,    start,        telemetry, job_stop.get_token(),
                 env.metrics, env.settings, std::string()};
  Status result;
  try {
    result = (*job)->run(ctx);
  } catch (const Error& e) {
    result = e.status();
  } catch (const std::exception& e) {
    result = Status::internal(fmt::format("job threw: {}", e.what()));
  } catch (...) {
    result = Status::internal("job threw a non-standard exception");
  }

  if (abandoned) {
    spdlog::info("job {}: abandoned by the host ({}); it resumes when relaunched", id, result.to_string());
    count_run(env, worker_label, "abandoned");
    return Status::cancelled("abandoned by the host");
  }
  if (result.is_ok()) {
    std::string message = ctx.result_message.empty()
                              ? fmt::format("completed: {} records", telemetry.records_written())
                              : ctx.result_message;
    publish_terminal(telemetry, protocol::WorkflowStatus::kCompleted, message);
    spdlog::info("job {}: completed ({})", id, message);
    count_run(env, worker_label, "completed");
    return result;
  }
  if (result.code() == ErrorCode::kCancelled || job_stop.stop_requested()) {
    std::string reason;
    {
      std::lock_guard lock(reason_mu);
      reason = stop_reason;
    }
    std::string message = result.message();
    if (message.empty()) message = reason.empty() ? "stopped" : fmt::format("stopped: {}", reason);
    publish_terminal(telemetry, protocol::WorkflowStatus::kStopped, message);
    spdlog::info("job {}: stopped ({})", id, message);
    count_run(env, worker_label, "stopped");
    return result.code() == ErrorCode::kCancelled ? result : Status::cancelled(message);
  }
  return fail(result);
}

}  // namespace sf::services
