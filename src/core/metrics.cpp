// Prometheus text exposition for the process registry.
#include "core/metrics.h"

#include <prometheus/text_serializer.h>

namespace sf {

std::shared_ptr<MetricsRegistry> make_metrics_registry() {
  return std::make_shared<MetricsRegistry>();
}

std::string render_metrics(const MetricsRegistry& registry) {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry.Collect());
}

}  // namespace sf
