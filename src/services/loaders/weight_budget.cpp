// The shared request-weight budget of the REST loaders (see weight_budget.h).
#include "services/loaders/weight_budget.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace sf::services::loaders {
namespace {

// How long one wait may last before the conditions are looked at again (the clock may be injected and
// move on its own; stop requests wake the wait at once).
constexpr auto kMaxWaitSlice = std::chrono::milliseconds(100);
constexpr size_t kWindowsKept = 256;
// How late a paced request may wake up and still keep its slot (real milliseconds).
constexpr std::chrono::duration<double, std::milli> kWakeUpTolerance(5);

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int64_t LoaderClock::now() const {
  return now_ms ? now_ms() : system_now_ms();
}

std::chrono::nanoseconds LoaderClock::real(int64_t clock_ms) const {
  if (clock_ms <= 0) return std::chrono::nanoseconds(0);
  const double r = rate > 0 ? rate : 1.0;
  return std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(static_cast<double>(clock_ms) * 1e6 / r)));
}

bool sleep_unless_stopped(std::chrono::nanoseconds duration, std::stop_token stop) {
  if (stop.stop_requested()) return false;
  if (duration <= std::chrono::nanoseconds(0)) return true;
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  return !cv.wait_for(lock, stop, duration, [] { return false; });
}

WeightBudget::WeightBudget(WeightBudgetOptions options, LoaderClock clock)
    : options_(options), clock_(std::move(clock)) {
  options_.limit = std::max(1, options_.limit);
  options_.window_ms = std::max<int64_t>(1, options_.window_ms);
  if (!(options_.share > 0 && options_.share <= 1)) options_.share = 0.95;
}

Result<int64_t> WeightBudget::acquire(int weight, std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop.stop_requested()) return Status::cancelled("stopped while waiting for request weight");
    const int64_t now = clock_.now();
    const int64_t window = now / options_.window_ms;
    // A clock that went back by more than a window (a different simulator, a test) invalidates the state.
    const double now_d = static_cast<double>(now);
    if (next_slot_ > now_d + static_cast<double>(options_.window_ms)) next_slot_ = now_d;
    if (paused_until_ > now + 7LL * 86'400'000) paused_until_ = now;

    int64_t wait_until = now;
    if (paused_until_ > now) {
      wait_until = paused_until_;
    } else {
      const int used = window == header_window_ ? header_used_ : 0;
      const bool idle = used == 0 && in_flight_ == 0;
      if (used + in_flight_ + weight > options_.limit && !idle) {
        wait_until = (window + 1) * options_.window_ms + options_.rollover_guard_ms;
      } else if (next_slot_ > now_d) {
        wait_until = static_cast<int64_t>(std::ceil(next_slot_));
      } else {
        // Admitted. The next slot follows this one by the request's share of the window. A loader that
        // woke a little late (a sleep overshoots by a few ms) keeps the slot it was given, so the late
        // wake-ups do not add up; one that was idle starts from now.
        const double spacing = static_cast<double>(weight) * static_cast<double>(options_.window_ms) /
                               (options_.share * static_cast<double>(options_.limit));
        const double tolerance = kWakeUpTolerance.count() * std::max(clock_.rate, 0.001);
        next_slot_ = (next_slot_ >= now_d - tolerance ? next_slot_ : now_d) + spacing;
        in_flight_ += weight;
        return now;
      }
    }
    const auto real = std::min<std::chrono::nanoseconds>(clock_.real(wait_until - now), kMaxWaitSlice);
    const uint64_t seen = generation_;
    changed_.wait_for(lock, stop, real, [&] { return generation_ != seen; });
  }
}

void WeightBudget::release(int weight, int64_t admitted_at, std::optional<int> used_weight) {
  {
    std::lock_guard lock(mu_);
    in_flight_ = std::max(0, in_flight_ - weight);
    if (used_weight) {
      // The answer counts in the window the request was admitted in (the exchange charged it then); an
      // answer about an older window than the one already known says nothing new.
      const int64_t window = admitted_at / options_.window_ms;
      if (window > header_window_) {
        header_window_ = window;
        header_used_ = *used_weight;
      } else if (window == header_window_) {
        header_used_ = std::max(header_used_, *used_weight);
      }
      if (window >= header_window_) {
        int& seen = used_by_window_[window];
        seen = std::max(seen, *used_weight);
        while (used_by_window_.size() > kWindowsKept) used_by_window_.erase(used_by_window_.begin());
      }
    }
    ++generation_;
  }
  changed_.notify_all();
}

void WeightBudget::pause(std::optional<int64_t> retry_after_s) {
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_.now();
    const int64_t window = now / options_.window_ms;
    const int64_t until = retry_after_s && *retry_after_s > 0
                              ? now + *retry_after_s * 1000
                              : (window + 1) * options_.window_ms + options_.rollover_guard_ms;
    paused_until_ = std::max(paused_until_, until);
    if (window >= header_window_) {
      header_window_ = window;
      header_used_ = std::max(header_used_, options_.limit);
    }
    ++generation_;
  }
  changed_.notify_all();
}

void WeightBudget::set_limit(int limit, int64_t window_ms) {
  {
    std::lock_guard lock(mu_);
    options_.limit = std::max(1, limit);
    if (window_ms > 0 && window_ms != options_.window_ms) {
      options_.window_ms = window_ms;
      header_window_ = -1;
      header_used_ = 0;
    }
    limit_known_ = true;
    ++generation_;
  }
  changed_.notify_all();
}

bool WeightBudget::limit_known() const {
  std::lock_guard lock(mu_);
  return limit_known_;
}

int WeightBudget::limit() const {
  std::lock_guard lock(mu_);
  return options_.limit;
}

int64_t WeightBudget::window_ms() const {
  std::lock_guard lock(mu_);
  return options_.window_ms;
}

std::map<int64_t, int> WeightBudget::used_by_window() const {
  std::lock_guard lock(mu_);
  return used_by_window_;
}

std::shared_ptr<WeightBudget> shared_weight_budget(std::string_view base_url) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<WeightBudget>> budgets;
  std::lock_guard lock(mu);
  auto& budget = budgets[std::string(base_url)];
  if (!budget) budget = std::make_shared<WeightBudget>();
  return budget;
}

}  // namespace sf::services::loaders
