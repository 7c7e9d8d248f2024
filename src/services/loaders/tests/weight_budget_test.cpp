// The weight budget on an accelerated clock: pacing keeps every window within the limit yet near it, the
// exchange's header stops a full window, a 429 pauses everyone, and a stop ends a wait at once.
#include "services/loaders/weight_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace sf::services::loaders {
namespace {

using namespace std::chrono_literals;

// A clock running `rate` times faster than real time, starting at a window boundary.
LoaderClock fast_clock(double rate) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t base = 1'735'689'600'000;  // 2025-01-01T00:00:00Z
  LoaderClock c;
  c.rate = rate;
  c.now_ms = [t0, base, rate] {
    const auto real =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return base + static_cast<int64_t>(real * rate);
  };
  return c;
}

TEST(WeightBudgetTest, PacingFillsEachWindowNearTheShareNeverAbove) {
  // 120 weight per minute; the clock runs 300x, so a minute lasts 200 ms.
  WeightBudget budget({.limit = 120, .window_ms = 60'000, .share = 0.95}, fast_clock(300));
  std::map<int64_t, int> per_window;
  const int64_t first = budget.clock().now() / 60'000;
  while (budget.clock().now() / 60'000 < first + 4) {
    auto at = budget.acquire(2, {});
    ASSERT_TRUE(at);
    per_window[*at / 60'000] += 2;
    // The exchange would answer with its count of the window.
    budget.release(2, *at, per_window[*at / 60'000]);
  }
  int full_windows = 0;
  for (const auto& [window, used] : per_window) {
    EXPECT_LE(used, 120) << "window " << window;
    if (window > first && window < first + 4) {
      ++full_windows;
      EXPECT_GE(used, 100) << "window " << window;  // >= 83%: pacing at 95% on a loaded 2-core machine
    }
  }
  EXPECT_GE(full_windows, 2);
  EXPECT_EQ(budget.used_by_window().size(), per_window.size());
}

TEST(WeightBudgetTest, AFullHeaderWaitsForTheNextWindow) {
  WeightBudget budget({.limit = 100, .window_ms = 60'000, .share = 1.0}, fast_clock(600));  // 100 ms minutes
  auto at = budget.acquire(1, {});
  ASSERT_TRUE(at);
  budget.release(1, *at, 100);  // someone else on the IP used the whole window
  auto next = budget.acquire(1, {});
  ASSERT_TRUE(next);
  EXPECT_GT(*next / 60'000, *at / 60'000);
}

TEST(WeightBudgetTest, APauseHoldsEveryoneUntilRetryAfter) {
  WeightBudget budget({.limit = 6000}, fast_clock(100));
  auto at = budget.acquire(1, {});
  ASSERT_TRUE(at);
  budget.release(1, *at, 1);
  budget.pause(30);  // 30 clock seconds = 300 ms real
  auto next = budget.acquire(1, {});
  ASSERT_TRUE(next);
  EXPECT_GE(*next - *at, 30'000);
}

TEST(WeightBudgetTest, StopEndsAWaitPromptly) {
  WeightBudget budget({.limit = 10}, LoaderClock{});  // a real minute
  auto at = budget.acquire(1, {});
  ASSERT_TRUE(at);
  budget.release(1, *at, 10);  // full until the next real minute
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto next = budget.acquire(1, stop.get_token());
  stopper.join();
  EXPECT_FALSE(next);
  EXPECT_EQ(next.status().code(), ErrorCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(WeightBudgetTest, SharedBudgetIsOnePerExchange) {
  static int run = 0;  // a fresh URL per run (--gtest_repeat): the shared budgets live as long as the process
  const std::string url = "http://shared-budget-test-" + std::to_string(++run);
  auto a = shared_weight_budget(url);
  auto b = shared_weight_budget(url);
  auto c = shared_weight_budget(url + "0");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_FALSE(a->limit_known());
  a->set_limit(1200, 60'000);
  EXPECT_TRUE(b->limit_known());
  EXPECT_EQ(b->limit(), 1200);
}

TEST(WeightBudgetTest, SleepUnlessStopped) {
  EXPECT_TRUE(sleep_unless_stopped(1ms, {}));
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(sleep_unless_stopped(10s, stop.get_token()));
}

}  // namespace
}  // namespace sf::services::loaders
