// UTC timestamps and the half-open `START:END` time ranges of workflows (DESIGN.md, "Time ranges").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sf {

// Milliseconds since the Unix epoch, UTC.
using TimestampMs = int64_t;

// [start_ms, end_ms): end is exclusive; a live workflow has no end.
struct TimeRange {
  TimestampMs start_ms = 0;
  std::optional<TimestampMs> end_ms;

  bool contains(TimestampMs t) const { return t >= start_ms && (!end_ms || t < *end_ms); }
  bool operator==(const TimeRange&) const = default;
};

// Accepts `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]][Z]` (a space may replace the T) and plain
// epoch milliseconds. Everything is UTC.
Result<TimestampMs> parse_utc_time(std::string_view text);

// Parses `START:END` or `START:` / `START` (open-ended, for live workflows). Colons inside times are
// allowed: the split is the one colon where both sides parse. Requires START < END.
Result<TimeRange> parse_time_range(std::string_view text);

// "2024-08-01"
std::string format_utc_date(TimestampMs t);
// "2024-08-01T12:00:00.000Z"
std::string format_utc_iso(TimestampMs t);
// "2024-08-01:2024-08-02", using dates when both ends fall on midnight, ISO times otherwise.
std::string format_time_range(const TimeRange& range);

}  // namespace sf
