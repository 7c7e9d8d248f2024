// Per-IP weight accounting by calendar minute.
#include "exchange/sim/rate_limiter.h"

#include <algorithm>

namespace sf::exchange::sim {
namespace {

constexpr int64_t kMinute = 60'000;

int64_t ceil_seconds(int64_t ms) {
  return std::max<int64_t>(1, (ms + 999) / 1000);
}

}  // namespace

RateLimiter::Decision RateLimiter::charge(const std::string& ip, int weight, int64_t now_ms) {
  std::lock_guard lk(mu_);
  IpState& st = ips_[ip];
  int64_t minute = now_ms / kMinute;
  if (minute != st.minute) {
    st.minute = minute;
    st.used = 0;
    st.rejected = 0;
  }
  st.used += weight;
  Decision d;
  d.used_weight = st.used;
  if (now_ms < st.banned_until) {
    d.verdict = Verdict::kBanned;
    d.banned_until_ms = st.banned_until;
    d.retry_after_s = ceil_seconds(st.banned_until - now_ms);
    return d;
  }
  if (st.used <= options_.weight_limit) return d;
  if (st.rejected >= options_.rejections_before_ban) {
    int64_t duration = options_.first_ban_ms;
    for (int i = 0; i < st.bans && duration < options_.max_ban_ms; ++i) duration *= 2;
    duration = std::min(duration, options_.max_ban_ms);
    ++st.bans;
    st.banned_until = now_ms + duration;
    d.verdict = Verdict::kBanned;
    d.banned_until_ms = st.banned_until;
    d.retry_after_s = ceil_seconds(duration);
    return d;
  }
  ++st.rejected;
  d.verdict = Verdict::kTooMuchWeight;
  d.retry_after_s = ceil_seconds((minute + 1) * kMinute - now_ms);
  return d;
}

int RateLimiter::used(const std::string& ip, int64_t now_ms) const {
  std::lock_guard lk(mu_);
  auto it = ips_.find(ip);
  if (it == ips_.end() || it->second.minute != now_ms / kMinute) return 0;
  return it->second.used;
}

void RateLimiter::set_weight_limit(int limit) {
  std::lock_guard lk(mu_);
  options_.weight_limit = limit;
}

int RateLimiter::weight_limit() const {
  std::lock_guard lk(mu_);
  return options_.weight_limit;
}

void RateLimiter::reset() {
  std::lock_guard lk(mu_);
  ips_.clear();
}

}  // namespace sf::exchange::sim
