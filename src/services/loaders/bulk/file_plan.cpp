// Monthly/daily dump files covering a range (see file_plan.h).
#include "services/loaders/bulk/file_plan.h"

#include <fmt/format.h>

#include <chrono>

namespace sf::services::loaders::bulk {
namespace {

namespace chr = std::chrono;
constexpr int64_t kDayMs = 86'400'000;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

chr::year_month_day day_of(int64_t ms) {
  return chr::year_month_day(chr::sys_days(chr::days(floor_div(ms, kDayMs))));
}

int64_t ms_of(chr::year_month_day ymd) {
  return static_cast<int64_t>(chr::sys_days(ymd).time_since_epoch().count()) * kDayMs;
}

int64_t month_start(int64_t ms) {
  auto d = day_of(ms);
  return ms_of(d.year() / d.month() / 1);
}

int64_t next_month(int64_t month_start_ms) {
  auto d = day_of(month_start_ms);
  return ms_of(chr::year_month_day(d.year() / d.month() / 1) + chr::months(1));
}

std::string period_text(int64_t ms, bool monthly) {
  auto d = day_of(ms);
  const int y = static_cast<int>(d.year());
  const auto m = static_cast<unsigned>(d.month());
  if (monthly) return fmt::format("{:04}-{:02}", y, m);
  return fmt::format("{:04}-{:02}-{:02}", y, m, static_cast<unsigned>(d.day()));
}

}  // namespace

Result<std::vector<DumpFileRef>> plan_dump_files(std::string_view symbol, const protocol::WorkflowType& type,
                                                 int64_t start_ms, int64_t end_ms) {
  if (type.source != protocol::Source::kBulk ||
      (type.kind != protocol::DataKind::kCandles && type.kind != protocol::DataKind::kTrades &&
       type.kind != protocol::DataKind::kAggTrades)) {
    return Status::invalid_argument(fmt::format(
        "loader-producer (bulk) loads bulk_candles_<interval>, bulk_trades and bulk_agg_trades, not '{}'",
        type.name()));
  }
  if (end_ms <= start_ms) return Status::invalid_argument("the time range is empty");

  std::string dir_kind, file_kind, iv_dir;
  bool daily_allowed = true;
  switch (type.kind) {
    case protocol::DataKind::kCandles: {
      const protocol::Interval iv = *type.interval;
      const std::string iv_name =
          iv == protocol::Interval::k1M ? "1mo" : std::string(protocol::interval_name(iv));
      dir_kind = "klines";
      file_kind = iv_name;
      iv_dir = "/" + iv_name;
      daily_allowed =
          iv != protocol::Interval::k3d && iv != protocol::Interval::k1w && iv != protocol::Interval::k1M;
      break;
    }
    case protocol::DataKind::kAggTrades:
      dir_kind = file_kind = "aggTrades";
      break;
    default:
      dir_kind = file_kind = "trades";
      break;
  }
  auto make = [&](int64_t from, int64_t to, bool monthly) {
    DumpFileRef f;
    f.monthly = monthly;
    f.start_ms = from;
    f.end_ms = to;
    f.name = fmt::format("{}-{}-{}.zip", symbol, file_kind, period_text(from, monthly));
    f.path = fmt::format("/data/spot/{}/{}/{}{}/{}", monthly ? "monthly" : "daily", dir_kind, symbol, iv_dir,
                         f.name);
    return f;
  };

  std::vector<DumpFileRef> files;
  for (int64_t m = month_start(start_ms); m < end_ms; m = next_month(m)) {
    const int64_t m_end = next_month(m);
    if (!daily_allowed || (start_ms <= m && m_end <= end_ms)) {
      files.push_back(make(m, m_end, true));
      continue;
    }
    const int64_t from = std::max(m, floor_div(start_ms, kDayMs) * kDayMs);
    for (int64_t d = from; d < std::min(m_end, end_ms); d += kDayMs)
      files.push_back(make(d, d + kDayMs, false));
  }
  return files;
}

}  // namespace sf::services::loaders::bulk
