// Interval table and calendar alignment.
#include "exchange/sim/intervals.h"

#include <array>

namespace sf::exchange::sim {
namespace {

struct IntervalRow {
  Interval interval;
  std::string_view name;
  int64_t ms;
};

constexpr std::array<IntervalRow, 16> kIntervals = {{
    {Interval::k1s, "1s", kSecondMs},
    {Interval::k1m, "1m", kMinuteMs},
    {Interval::k3m, "3m", 3 * kMinuteMs},
    {Interval::k5m, "5m", 5 * kMinuteMs},
    {Interval::k15m, "15m", 15 * kMinuteMs},
    {Interval::k30m, "30m", 30 * kMinuteMs},
    {Interval::k1h, "1h", kHourMs},
    {Interval::k2h, "2h", 2 * kHourMs},
    {Interval::k4h, "4h", 4 * kHourMs},
    {Interval::k6h, "6h", 6 * kHourMs},
    {Interval::k8h, "8h", 8 * kHourMs},
    {Interval::k12h, "12h", 12 * kHourMs},
    {Interval::k1d, "1d", kDayMs},
    {Interval::k3d, "3d", 3 * kDayMs},
    {Interval::k1w, "1w", 7 * kDayMs},
    {Interval::k1M, "1M", 0},
}};

constexpr int64_t kMondayOffsetMs = 4 * kDayMs;  // 1970-01-05 was the first Monday after the epoch

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Civil-from-days and days-from-civil (proleptic Gregorian), after H. Hinnant's algorithms.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t month_start(int64_t t) {
  int64_t y;
  unsigned m, d;
  civil_from_days(floor_div(t, kDayMs), y, m, d);
  return days_from_civil(y, m, 1) * kDayMs;
}

int64_t add_months(int64_t month_open, int delta) {
  int64_t y;
  unsigned m, d;
  civil_from_days(floor_div(month_open, kDayMs), y, m, d);
  int64_t idx = y * 12 + (m - 1) + delta;
  return days_from_civil(floor_div(idx, 12), static_cast<unsigned>(idx - floor_div(idx, 12) * 12) + 1, 1) *
         kDayMs;
}

}  // namespace

std::optional<Interval> parse_interval(std::string_view text) {
  for (const auto& row : kIntervals) {
    if (row.name == text) return row.interval;
  }
  return std::nullopt;
}

std::string_view interval_name(Interval interval) {
  return kIntervals[static_cast<size_t>(interval)].name;
}

int64_t interval_fixed_ms(Interval interval) {
  return kIntervals[static_cast<size_t>(interval)].ms;
}

int64_t interval_floor(Interval interval, int64_t t) {
  if (interval == Interval::k1M) return month_start(t);
  int64_t len = interval_fixed_ms(interval);
  if (interval == Interval::k1w) return floor_div(t - kMondayOffsetMs, len) * len + kMondayOffsetMs;
  return floor_div(t, len) * len;
}

int64_t interval_next(Interval interval, int64_t open_time) {
  if (interval == Interval::k1M) return add_months(open_time, 1);
  return open_time + interval_fixed_ms(interval);
}

int64_t interval_prev(Interval interval, int64_t open_time) {
  if (interval == Interval::k1M) return add_months(open_time, -1);
  return open_time - interval_fixed_ms(interval);
}

}  // namespace sf::exchange::sim
