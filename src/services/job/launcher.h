// JobLauncher: how `serve` (the queue-manager) gets jobs running. DESIGN.md, "Backends":
//   in-process  each job on its own thread of the serving process (this file; the embedded default)
//   kubernetes  a Kubernetes Job per spec, running `streamforge job <target> --queue-id .. --telemetry-id ..
//               --control-offset ..` in the spec's image (a later issue: implement JobLauncher in
//               job/kubernetes_launcher.{h,cpp}; nothing else changes, the manager only sees this interface)
// The launcher never talks to the manager: jobs report through `queue-events` only.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "services/job/job.h"

namespace sf::services {

// Thread-safe: every method may be called from any thread.
class JobLauncher {
 public:
  virtual ~JobLauncher() = default;

  // Starts the job of `spec`. OK (and nothing new started) when a job with the same queue_id and telemetry id
  // is already running. Unavailable when the launcher is at capacity, FailedPrecondition after shutdown().
  virtual Status launch(const JobSpec& spec) = 0;

  // Stops the workflow's running jobs as a `stop` command would (they report `stopped`). NotFound when none
  // runs.
  virtual Status stop(std::string_view queue_id) = 0;

  // Waits until no job runs; false on timeout.
  virtual bool wait_idle(std::chrono::milliseconds timeout) = 0;

  // Abandons every running job (they stop without a terminal event, so a restarted manager resumes them),
  // waits for them to end, and refuses later launches. Idempotent; the destructor calls it.
  virtual void shutdown() = 0;

  // Specs of the jobs running now.
  virtual std::vector<JobSpec> running() const = 0;
};

struct InProcessLauncherOptions {
  std::size_t max_jobs = 64;  // jobs running at once; launch() beyond it is Unavailable
};

// Runs each job with run_job() on its own thread. A job that throws or fails ends as `error` on queue-events
// and never takes the host down. `env`'s references (bus, store, registry) must outlive the launcher.
class InProcessLauncher final : public JobLauncher {
 public:
  InProcessLauncher(JobEnvironment env, InProcessLauncherOptions options = {});
  ~InProcessLauncher() override;

  Status launch(const JobSpec& spec) override;
  Status stop(std::string_view queue_id) override;
  bool wait_idle(std::chrono::milliseconds timeout) override;
  void shutdown() override;
  std::vector<JobSpec> running() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf::services
