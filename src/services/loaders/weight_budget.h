// The client side of Binance's request-weight limit (REQUEST_WEIGHT per minute, per IP): paces the REST
// loaders' requests so they never earn a 429 in normal operation, and stops everyone sharing the budget when
// the exchange says 429/418 (never continue after a 429 without waiting: that is what earns the 418 ban).
//
// How a request is admitted (acquire), in this order:
//   1. pause     after a 429/418 nobody sends before the Retry-After the exchange gave (or the next window);
//   2. header    the exchange's own count for the current window (X-MBX-USED-WEIGHT-1M of the latest
//                answer) plus the weight of requests still in flight plus this one must fit in the limit,
//                else wait for the next window (+ rollover_guard_ms for clock skew);
//   3. pacing    requests are spaced evenly at `share` of the limit: a request of weight w occupies
//                w * window / (share * limit) of the clock, so a window holds about share * limit.
// The header check makes the budget exact when the window boundaries are known (the exchange counts per
// calendar minute of its clock); the pacing spreads the load and keeps the share below the limit even when
// the boundaries are a little off. Other clients on the same IP show up in the header and are respected.
//
// The windows are measured on a LoaderClock: the system clock for a real exchange; the simulator's clock
// (possibly accelerated, `rate` clock-ms per real ms) in tests and benchmarks.
//
// Thread-safe: every loader of a process talking to one exchange shares one budget
// (shared_weight_budget()), since the exchange counts per IP.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string_view>

#include "core/status.h"

namespace sf::services::loaders {

// The clock the exchange counts its windows on.
struct LoaderClock {
  std::function<int64_t()> now_ms;  // epoch milliseconds; empty = the system clock
  double rate = 1.0;                // clock milliseconds per real millisecond (> 1 for an accelerated sim)

  int64_t now() const;
  // How long to sleep, in real time, for `clock_ms` of this clock to pass.
  std::chrono::nanoseconds real(int64_t clock_ms) const;
};

// Sleeps `duration` of real time unless `stop` is requested first; false when stopped.
bool sleep_unless_stopped(std::chrono::nanoseconds duration, std::stop_token stop);

struct WeightBudgetOptions {
  int limit = 6000;                 // request weight per window (Binance spot: 6000 per minute)
  int64_t window_ms = 60'000;       // the exchange's window, clock milliseconds (1 minute)
  double share = 0.95;              // pace at this share of the limit (0 < share <= 1)
  int64_t rollover_guard_ms = 250;  // clock ms to wait past a window boundary when waiting for one
};

class WeightBudget {
 public:
  explicit WeightBudget(WeightBudgetOptions options = {}, LoaderClock clock = {});

  // Waits until a request of `weight` may be sent and reserves it; returns the clock time of admission
  // (pass it to release()). Cancelled when `stop` is requested while waiting.
  Result<int64_t> acquire(int weight, std::stop_token stop);
  // The answer (or failure) of a request admitted at `admitted_at`: `used_weight` is the exchange's
  // X-MBX-USED-WEIGHT-1M when the answer had one.
  void release(int weight, int64_t admitted_at, std::optional<int> used_weight);
  // A 429/418: nobody is admitted for `retry_after_s` seconds of the clock (until the next window + guard
  // when the exchange said nothing), and the current window counts as full.
  void pause(std::optional<int64_t> retry_after_s);

  // Replaces the limit and the window (from exchangeInfo or configuration).
  void set_limit(int limit, int64_t window_ms);
  // True once set_limit() was called (the process-wide budget asks exchangeInfo only once).
  bool limit_known() const;
  int limit() const;
  int64_t window_ms() const;
  const LoaderClock& clock() const { return clock_; }

  // The highest X-MBX-USED-WEIGHT-1M seen in each window (window index = clock ms / window_ms): the
  // exchange's own view of how much of the budget was used. For benchmarks and tests.
  std::map<int64_t, int> used_by_window() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  WeightBudgetOptions options_;
  const LoaderClock clock_;
  bool limit_known_ = false;
  int64_t paused_until_ = 0;    // clock ms
  double next_slot_ = 0;        // clock ms, fractional (a large limit spaces requests by less than 1 ms)
  int64_t header_window_ = -1;  // window of header_used_
  int header_used_ = 0;         // the exchange's count in header_window_
  int in_flight_ = 0;           // weight admitted, not yet released
  uint64_t generation_ = 0;     // bumped on every change, to wake waiting acquirers
  std::map<int64_t, int> used_by_window_;
};

// The budget every loader of this process shares for the exchange at `base_url` (created on first use with
// the default options and the system clock).
std::shared_ptr<WeightBudget> shared_weight_budget(std::string_view base_url);

}  // namespace sf::services::loaders
