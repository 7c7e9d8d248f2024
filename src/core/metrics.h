// The Prometheus registry shared by the components of one process, and its text exposition.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace sf {

// Components receive a registry from their owner (never a global) and register their families on it.
// prometheus::Registry is thread-safe.
using MetricsRegistry = prometheus::Registry;

std::shared_ptr<MetricsRegistry> make_metrics_registry();

// The Prometheus text format (version 0.0.4) of everything in `registry`, as served on GET /metrics.
std::string render_metrics(const MetricsRegistry& registry);

}  // namespace sf
