// The simulator's own table of Binance kline intervals (1s ... 1M) and their UTC alignment.
// Kept independent of protocol/ on purpose: the simulator must not change when the client side does.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sf::exchange::sim {

enum class Interval : uint8_t {
  k1s,
  k1m,
  k3m,
  k5m,
  k15m,
  k30m,
  k1h,
  k2h,
  k4h,
  k6h,
  k8h,
  k12h,
  k1d,
  k3d,
  k1w,
  k1M
};

inline constexpr int64_t kSecondMs = 1000;
inline constexpr int64_t kMinuteMs = 60 * kSecondMs;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;

// Binance's spelling, case-sensitive ("1m" is a minute, "1M" a month).
std::optional<Interval> parse_interval(std::string_view text);
std::string_view interval_name(Interval interval);

// Length in ms for fixed intervals; 0 for 1M (calendar months differ).
int64_t interval_fixed_ms(Interval interval);

// Open time of the candle containing `t`: multiples of the length since the epoch for 1s..3d, Mondays
// 00:00 UTC for 1w, the first of the month 00:00 UTC for 1M.
int64_t interval_floor(Interval interval, int64_t t);
// Open time of the candle after the one opening at `open_time` (an aligned value).
int64_t interval_next(Interval interval, int64_t open_time);
// Open time of the candle before the one opening at `open_time` (an aligned value).
int64_t interval_prev(Interval interval, int64_t open_time);

}  // namespace sf::exchange::sim
