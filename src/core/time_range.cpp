// Parsing and printing of UTC times without locale or time-zone state.
#include "core/time_range.h"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace sf {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

std::optional<TimestampMs> try_parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool all_digits = text.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits && text.size() > 10) {  // epoch milliseconds (dates are never only digits)
    TimestampMs ms = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return ms;
  }
  int y = 0, mo = 0, d = 0;
  if (text.size() < 10 || !parse_digits(text, 0, 4, y) || text[4] != '-' || !parse_digits(text, 5, 2, mo) ||
      text[7] != '-' || !parse_digits(text, 8, 2, d))
    return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  TimestampMs ms =
      static_cast<TimestampMs>(std::chrono::sys_days{ymd}.time_since_epoch().count()) * kMsPerDay;
  std::size_t pos = 10;
  if (pos == text.size()) return ms;
  if (text[pos] != 'T' && text[pos] != ' ') return std::nullopt;
  ++pos;
  int hh = 0, mm = 0, ss = 0, frac = 0;
  if (!parse_digits(text, pos, 2, hh) || pos + 2 >= text.size() || text[pos + 2] != ':' ||
      !parse_digits(text, pos + 3, 2, mm))
    return std::nullopt;
  pos += 5;
  if (pos < text.size() && text[pos] == ':') {
    if (!parse_digits(text, pos + 1, 2, ss)) return std::nullopt;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      std::size_t start = ++pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
      std::size_t n = pos - start;
      if (n == 0 || n > 9) return std::nullopt;
      int digits = 0;
      parse_digits(text, start, std::min<std::size_t>(n, 3), digits);
      for (std::size_t i = n; i < 3; ++i) digits *= 10;
      frac = digits;
    }
  }
  if (pos < text.size() && text[pos] == 'Z') ++pos;
  if (pos != text.size()) return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  return ms + ((hh * 60 + mm) * 60 + ss) * 1000LL + frac;
}

}  // namespace

Result<TimestampMs> parse_utc_time(std::string_view text) {
  if (auto t = try_parse(text)) return *t;
  return Status::invalid_argument(fmt::format(
      "invalid time '{}': expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]]Z or epoch milliseconds", text));
}

Result<TimeRange> parse_time_range(std::string_view text) {
  std::optional<TimeRange> found;
  int matches = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != ':') continue;
    auto start = try_parse(text.substr(0, i));
    if (!start) continue;
    std::optional<TimestampMs> end;
    if (i < text.size()) {
      std::string_view rest = text.substr(i + 1);
      if (!rest.empty()) {
        end = try_parse(rest);
        if (!end) continue;
      }
    }
    found = TimeRange{*start, end};
    ++matches;
  }
  if (matches == 0) {
    return Status::invalid_argument(
        fmt::format("invalid time_range '{}': expected START:END in UTC, e.g. 2024-08-01:2024-08-02 or "
                    "2024-08-01T12:00:00Z:2024-08-01T18:00:00Z",
                    text));
  }
  if (matches > 1) return Status::invalid_argument(fmt::format("ambiguous time_range '{}'", text));
  if (found->end_ms && *found->end_ms <= found->start_ms) {
    return Status::invalid_argument(fmt::format("invalid time_range '{}': END must be after START", text));
  }
  return *found;
}

std::string format_utc_date(TimestampMs t) {
  auto days = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds{t}});
  std::chrono::year_month_day ymd{days};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

std::string format_utc_iso(TimestampMs t) {
  int64_t in_day = ((t % kMsPerDay) + kMsPerDay) % kMsPerDay;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", format_utc_date(t), in_day / 3'600'000,
                     in_day / 60'000 % 60, in_day / 1000 % 60, in_day % 1000);
}

std::string format_time_range(const TimeRange& range) {
  auto on_midnight = [](TimestampMs t) { return t % kMsPerDay == 0; };
  bool dates = on_midnight(range.start_ms) && (!range.end_ms || on_midnight(*range.end_ms));
  auto fmt_one = [&](TimestampMs t) { return dates ? format_utc_date(t) : format_utc_iso(t); };
  return fmt_one(range.start_ms) + ":" + (range.end_ms ? fmt_one(*range.end_ms) : std::string());
}

}  // namespace sf
