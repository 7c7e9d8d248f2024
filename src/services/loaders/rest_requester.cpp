// Budgeted, retried REST calls (see rest_requester.h).
#include "services/loaders/rest_requester.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sf::services::loaders {
namespace {

prometheus::Counter* counter(const std::shared_ptr<MetricsRegistry>& metrics, const std::string& name,
                             const std::string& help) {
  if (!metrics) return nullptr;
  return &prometheus::BuildCounter().Name(name).Help(help).Register(*metrics).Add({{"loader", "api"}});
}

void add(prometheus::Counter* c, double n = 1) {
  if (c != nullptr) c->Increment(n);
}

}  // namespace

RestRequester::RestRequester(WeightBudget& budget, RetryOptions retry, std::stop_token stop,
                             const std::shared_ptr<MetricsRegistry>& metrics)
    : budget_(budget), retry_(retry), stop_(std::move(stop)), rng_(std::random_device{}()) {
  retry_.max_attempts = std::max(1, retry_.max_attempts);
  counters_.requests =
      counter(metrics, "streamforge_loader_requests_total", "REST requests sent to the exchange by loaders");
  counters_.weight = counter(metrics, "streamforge_loader_request_weight_total",
                             "Request weight used by loaders (the endpoints' documented weights)");
  counters_.rate_limited =
      counter(metrics, "streamforge_loader_rate_limited_total", "429 answers received by loaders");
  counters_.banned = counter(metrics, "streamforge_loader_banned_total", "418 answers received by loaders");
  counters_.retries = counter(metrics, "streamforge_loader_retries_total",
                              "Requests retried by loaders (5xx, transport errors, malformed bodies, 429)");
  counters_.records = counter(metrics, "streamforge_loader_records_published_total",
                              "Records published to data topics by loaders");
}

void RestRequester::count_records(int64_t n) {
  add(counters_.records, static_cast<double>(n));
}

bool RestRequester::backoff(int attempt) {
  const int64_t initial = std::max<int64_t>(1, retry_.initial_backoff.count());
  const int64_t cap = std::max<int64_t>(initial, retry_.max_backoff.count());
  const int shift = std::min(attempt - 1, 30);
  const int64_t d = std::min(cap, initial << shift);
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return sleep_unless_stopped(std::chrono::milliseconds(jitter(rng_)), stop_);
}

Status RestRequester::call(std::string_view what, int weight,
                           const std::function<exchange::BinanceResponse()>& send,
                           const std::function<Status(const exchange::BinanceResponse&)>& parse) {
  Status last;
  for (int attempt = 1; attempt <= retry_.max_attempts; ++attempt) {
    if (attempt > 1) {
      ++stats_.retries;
      add(counters_.retries);
    }
    auto admitted = budget_.acquire(weight, stop_);
    if (!admitted) return admitted.status();
    exchange::BinanceResponse res = send();
    ++stats_.requests;
    add(counters_.requests);
    budget_.release(weight, *admitted, res.used_weight);
    if (res.http_status != 0) {
      stats_.weight += weight;
      add(counters_.weight, weight);
    }
    if (stop_.stop_requested()) return Status::cancelled("stopped");

    if (res.ok()) {
      Status parsed = parse(res);
      if (parsed) return parsed;
      ++stats_.malformed;
      last = Status(parsed.code(), fmt::format("malformed answer to {}: {}", what, parsed.message()));
      spdlog::warn("loader: {} (attempt {}/{})", last.message(), attempt, retry_.max_attempts);
      if (attempt < retry_.max_attempts && !backoff(attempt)) return Status::cancelled("stopped");
      continue;
    }

    last = res.status;
    if (res.status.code() == ErrorCode::kRateLimited) {
      const bool ban = res.http_status == 418;
      if (ban) {
        ++stats_.banned;
        add(counters_.banned);
      } else {
        ++stats_.rate_limited;
        add(counters_.rate_limited);
      }
      const int64_t retry_after = res.retry_after_s.value_or(0);
      if (retry_after > retry_.max_retry_after.count()) {
        return Status(ErrorCode::kRateLimited,
                      fmt::format("{} ({}): the exchange asks to wait {} s, more than the {} s allowed",
                                  ban ? "IP banned by the exchange" : "rate limited by the exchange",
                                  res.status.message(), retry_after, retry_.max_retry_after.count()));
      }
      spdlog::warn("loader: HTTP {} on {}, waiting {} s as told (Retry-After)", res.http_status, what,
                   retry_after);
      budget_.pause(res.retry_after_s);
      continue;  // the next acquire() waits out the pause
    }
    // 5xx and 504, and anything that went wrong before an answer arrived (refused, reset, closed, timed out,
    // an unparsable HTTP response) may work next time.
    const ErrorCode code = res.status.code();
    const bool transient =
        code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout ||
        (res.http_status == 0 && (code == ErrorCode::kCorruption || code == ErrorCode::kIoError));
    if (!transient) return res.status;  // the exchange refused the request: its message says why
    if (res.http_status >= 500) {
      ++stats_.server_errors;
    } else {
      ++stats_.transport_errors;
    }
    spdlog::warn("loader: {} failed: {} (attempt {}/{})", what, res.status.to_string(), attempt,
                 retry_.max_attempts);
    if (attempt < retry_.max_attempts && !backoff(attempt)) return Status::cancelled("stopped");
  }
  return Status(last.code(), fmt::format("{}: giving up after {} attempts: {}", what, retry_.max_attempts,
                                         last.message()));
}

}  // namespace sf::services::loaders
