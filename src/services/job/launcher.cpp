// The in-process JobLauncher: one thread per job, bounded, abandoned and joined on shutdown.
#include "services/job/launcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <list>
#include <thread>

namespace sf::services {

struct InProcessLauncher::Impl {
  struct Running {
    JobSpec spec;
    std::stop_source stop;
    std::stop_source abandon;
    bool done = false;
    std::thread thread;
  };

  JobEnvironment env;
  InProcessLauncherOptions options;
  mutable std::mutex mu;
  std::condition_variable changed;
  std::list<Running> jobs;  // guarded by mu; done entries are joined and removed by reap()
  bool shut_down = false;   // guarded by mu

  Impl(JobEnvironment e, InProcessLauncherOptions o) : env(std::move(e)), options(o) {}

  // Joins and removes finished jobs. Called with `lock` held; the joins are instant (the threads are done).
  void reap(std::unique_lock<std::mutex>& lock) {
    std::list<Running> finished;
    for (auto it = jobs.begin(); it != jobs.end();) {
      if (it->done) {
        auto next = std::next(it);
        finished.splice(finished.end(), jobs, it);
        it = next;
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (auto& job : finished) job.thread.join();
    lock.lock();
  }

  size_t live() const {
    size_t n = 0;
    for (const auto& job : jobs) n += job.done ? 0 : 1;
    return n;
  }
};

InProcessLauncher::InProcessLauncher(JobEnvironment env, InProcessLauncherOptions options)
    : impl_(std::make_unique<Impl>(std::move(env), options)) {}

InProcessLauncher::~InProcessLauncher() {
  shutdown();
}

Status InProcessLauncher::launch(const JobSpec& spec) {
  Impl& s = *impl_;
  std::unique_lock lock(s.mu);
  if (s.shut_down) return Status::failed_precondition("the job launcher is shut down");
  s.reap(lock);
  for (const auto& job : s.jobs) {
    if (!job.done && job.spec.queue_id == spec.queue_id && job.spec.telemetry_id == spec.telemetry_id &&
        job.spec.target == spec.target) {
      return Status::ok();  // already running: a relaunch after a manager restart must not double it
    }
  }
  if (s.live() >= s.options.max_jobs) {
    return Status::unavailable(
        fmt::format("the in-process launcher already runs {} jobs (max_jobs); cannot start {}", s.live(),
                    spec.telemetry_id.empty() ? spec.target : spec.telemetry_id));
  }
  auto& job = s.jobs.emplace_back();
  job.spec = spec;
  Impl::Running* entry = &job;
  job.thread = std::thread([&s, entry] {
    Status result;
    try {
      result = run_job(s.env, entry->spec, {entry->stop.get_token(), entry->abandon.get_token()});
    } catch (const std::exception& e) {  // run_job does not throw; a last guard for the host
      spdlog::error("job {}: escaped exception: {}", entry->spec.telemetry_id, e.what());
    }
    std::lock_guard lock(s.mu);
    entry->done = true;
    s.changed.notify_all();
  });
  return Status::ok();
}

Status InProcessLauncher::stop(std::string_view queue_id) {
  std::lock_guard lock(impl_->mu);
  size_t stopped = 0;
  for (auto& job : impl_->jobs) {
    if (!job.done && job.spec.queue_id == queue_id) {
      job.stop.request_stop();
      ++stopped;
    }
  }
  if (stopped == 0) return Status::not_found(fmt::format("no job of workflow '{}' is running", queue_id));
  return Status::ok();
}

bool InProcessLauncher::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  bool idle = impl_->changed.wait_for(lock, timeout, [&] { return impl_->live() == 0; });
  if (idle) impl_->reap(lock);
  return idle;
}

void InProcessLauncher::shutdown() {
  std::unique_lock lock(impl_->mu);
  impl_->shut_down = true;
  for (auto& job : impl_->jobs) job.abandon.request_stop();
  impl_->changed.wait(lock, [&] { return impl_->live() == 0; });
  impl_->reap(lock);
}

std::vector<JobSpec> InProcessLauncher::running() const {
  std::lock_guard lock(impl_->mu);
  std::vector<JobSpec> out;
  for (const auto& job : impl_->jobs) {
    if (!job.done) out.push_back(job.spec);
  }
  return out;
}

}  // namespace sf::services
