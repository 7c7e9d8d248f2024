// What the Kafka backend's bus and consumer share: librdkafka configuration from KafkaBusOptions, error
// mapping onto Status, logging through spdlog, and copying consumed messages into a FetchBatch.
// Internal to bus/kafka/.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "core/status.h"

namespace sf::bus::kafka {

// `what` says what failed ("produce to 't' partition 3"); the message adds librdkafka's reason.
Status status_from(RdKafka::ErrorCode code, std::string_view what);

// librdkafka's log lines and client errors, through spdlog (rather than librdkafka's stderr).
// It also keeps the last authentication or TLS failure: librdkafka retries those like any disconnection,
// so a call would otherwise only time out, with no word of the cause.
class LogBridge final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override;
  // "Local: Authentication failure: SASL authentication error: ..." once one happened.
  std::optional<std::string> security_failure() const;

 private:
  mutable std::mutex mu_;
  std::optional<std::string> security_failure_;
};

enum class ClientRole { kProducer, kConsumer };

// The client configuration of `options` (bootstrap, security, producer or consumer defaults, then the
// passthrough properties). InvalidArgument names a property librdkafka refuses.
Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaBusOptions& options, ClientRole role,
                                                 RdKafka::EventCb* events);
Status set_property(RdKafka::Conf& conf, const std::string& key, const std::string& value);

// Topic names pinned for the RecordViews of FetchBatches (one shared string per topic, not per record).
class TopicNames {
 public:
  const std::shared_ptr<const std::string>& get(const std::string& topic);

 private:
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> names_;
};

// Replaces `out`'s records with copies of `messages` (all without error): one buffer sized up front holds
// every key, value and header, so the views stay put and nothing is allocated per record once warm.
void fill_batch(FetchBatch& out, const std::vector<std::unique_ptr<RdKafka::Message>>& messages,
                TopicNames& names);

int timeout_ms(std::chrono::milliseconds timeout);

}  // namespace sf::bus::kafka
