// Binance's IP request-weight limit: weight per IP per calendar minute, 429 + Retry-After over the
// budget, an automatic 418 ban (2 minutes, doubling per repeat offence up to 3 days) for clients that keep
// sending after 429s. The clock is passed in, so tests can jump a minute without waiting.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sf::exchange::sim {

struct RateLimitOptions {
  int weight_limit = 6000;         // REQUEST_WEIGHT per 1 MINUTE, per IP
  int rejections_before_ban = 5;   // 429s answered in one minute before the next request is banned (418)
  int64_t first_ban_ms = 120'000;  // first ban: 2 minutes; each further ban doubles
  int64_t max_ban_ms = 3 * 86'400'000LL;  // up to 3 days
};

class RateLimiter {
 public:
  enum class Verdict { kAllow, kTooMuchWeight /* 429 */, kBanned /* 418 */ };
  struct Decision {
    Verdict verdict = Verdict::kAllow;
    int used_weight = 0;          // X-MBX-USED-WEIGHT-1M after this request
    int64_t retry_after_s = 0;    // Retry-After for 429/418
    int64_t banned_until_ms = 0;  // for 418
  };

  explicit RateLimiter(RateLimitOptions options = {}) : options_(options) {}

  // Charges `weight` to `ip` at `now_ms` and says whether to serve the request. Thread-safe.
  Decision charge(const std::string& ip, int weight, int64_t now_ms);
  // The current used weight of `ip` (0 in a new minute).
  int used(const std::string& ip, int64_t now_ms) const;

  void set_weight_limit(int limit);
  int weight_limit() const;
  void reset();

 private:
  struct IpState {
    int64_t minute = -1;
    int used = 0;
    int rejected = 0;
    int64_t banned_until = 0;
    int bans = 0;
  };
  mutable std::mutex mu_;
  RateLimitOptions options_;
  std::unordered_map<std::string, IpState> ips_;
};

}  // namespace sf::exchange::sim
