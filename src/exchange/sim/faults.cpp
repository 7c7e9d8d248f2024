// Seeded fault decisions.
#include "exchange/sim/faults.h"

namespace sf::exchange::sim {

FaultInjector::Plan FaultInjector::next() {
  std::lock_guard lk(mu_);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Plan plan;
  plan.latency_ms = options_.latency_ms;
  double drop = u(rng_), error = u(rng_), malformed = u(rng_), pick = u(rng_);
  if (drop < options_.drop_rate) {
    plan.kind = Kind::kDrop;
  } else if (error < options_.error_rate) {
    plan.kind = Kind::kError;
    plan.error = pick < 0.6    ? api_errors::disconnected()
                 : pick < 0.85 ? api_errors::unknown()
                               : api_errors::backend_timeout();
  } else if (malformed < options_.malformed_rate) {
    plan.kind = Kind::kMalformed;
    plan.cut = pick;
  }
  return plan;
}

void FaultInjector::set(const FaultOptions& options) {
  std::lock_guard lk(mu_);
  options_ = options;
  rng_.seed(options.seed);
}

FaultOptions FaultInjector::options() const {
  std::lock_guard lk(mu_);
  return options_;
}

std::string FaultInjector::malform(const std::string& body, double cut) {
  if (body.size() <= 1) return {};
  // Any proper prefix of a JSON array/object is unbalanced, hence invalid.
  auto keep = static_cast<size_t>(cut * static_cast<double>(body.size() - 1));
  return body.substr(0, std::min(keep, body.size() - 1));
}

}  // namespace sf::exchange::sim
