// librdkafka configuration, error mapping, logging and message copying for the Kafka backend.
#include "bus/kafka/rdkafka_common.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "bus/fetch_batch_access.h"

namespace sf::bus::kafka {

Status status_from(RdKafka::ErrorCode code, std::string_view what) {
  const std::string message =
      fmt::format("{}: {} (Kafka error {})", what, RdKafka::err2str(code), static_cast<int>(code));
  switch (code) {
    case RdKafka::ERR_NO_ERROR:
      return Status::ok();
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR_GROUP_ID_NOT_FOUND:
      return Status::not_found(message);
    case RdKafka::ERR_TOPIC_ALREADY_EXISTS:
      return Status::already_exists(message);
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR_INVALID_PARTITIONS:
    case RdKafka::ERR_INVALID_REPLICATION_FACTOR:
    case RdKafka::ERR_INVALID_CONFIG:
    case RdKafka::ERR_INVALID_REQUEST:
    case RdKafka::ERR_INVALID_GROUP_ID:
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
      return Status::invalid_argument(message);
    case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
    case RdKafka::ERR__AUTO_OFFSET_RESET:
    case RdKafka::ERR__STATE:
    case RdKafka::ERR_ILLEGAL_GENERATION:
    case RdKafka::ERR_UNKNOWN_MEMBER_ID:
    case RdKafka::ERR_REBALANCE_IN_PROGRESS:
    case RdKafka::ERR__UNSUPPORTED_FEATURE:
    case RdKafka::ERR_UNSUPPORTED_VERSION:
    case RdKafka::ERR_UNSUPPORTED_COMPRESSION_TYPE:
      return Status::failed_precondition(message);
    case RdKafka::ERR_INVALID_MSG:
    case RdKafka::ERR__BAD_MSG:
    case RdKafka::ERR__BAD_COMPRESSION:
      return Status::corruption(message);
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT_QUEUE:
      return Status::timeout(message);
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__RESOLVE:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RdKafka::ERR__QUEUE_FULL:
      return Status::unavailable(message);
    case RdKafka::ERR_KAFKA_STORAGE_ERROR:
      return Status::io_error(message);
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_GROUP_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR__SSL:
      return Status::failed_precondition(message);
    default:
      return Status::internal(message);
  }
}

void LogBridge::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_LOG: {
      const int severity = static_cast<int>(event.severity());
      const auto level = severity <= RdKafka::Event::EVENT_SEVERITY_ERROR     ? spdlog::level::err
                         : severity <= RdKafka::Event::EVENT_SEVERITY_WARNING ? spdlog::level::warn
                         : severity <= RdKafka::Event::EVENT_SEVERITY_INFO    ? spdlog::level::info
                                                                              : spdlog::level::debug;
      spdlog::log(level, "librdkafka {}: {}", event.fac(), event.str());
      break;
    }
    case RdKafka::Event::EVENT_ERROR:
      // Disconnections are retried by librdkafka; they matter only when calls then fail (which say so).
      if (event.err() == RdKafka::ERR__AUTHENTICATION || event.err() == RdKafka::ERR__SSL) {
        std::lock_guard lock(mu_);
        security_failure_ = fmt::format("{}: {}", RdKafka::err2str(event.err()), event.str());
      }
      if (event.err() == RdKafka::ERR__TRANSPORT || event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) {
        spdlog::debug("librdkafka: {}: {}", RdKafka::err2str(event.err()), event.str());
      } else {
        spdlog::warn("librdkafka: {}: {}", RdKafka::err2str(event.err()), event.str());
      }
      break;
    default:
      break;
  }
}

std::optional<std::string> LogBridge::security_failure() const {
  std::lock_guard lock(mu_);
  return security_failure_;
}

Status set_property(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string error;
  if (conf.set(key, value, error) != RdKafka::Conf::CONF_OK) {
    return Status::invalid_argument(fmt::format("Kafka property {}: {}", key, error));
  }
  return Status::ok();
}

Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaBusOptions& o, ClientRole role,
                                                 RdKafka::EventCb* events) {
  if (o.bootstrap.empty())
    return Status::invalid_argument("Kafka bootstrap servers (HOST:PORT) are required");
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", o.bootstrap},
      {"client.id", "streamforge"},
      {"security.protocol", o.security_protocol},
      {"socket.timeout.ms", std::to_string(std::max<int64_t>(10, o.request_timeout.count()))},
  };
  std::string protocol = o.security_protocol;
  std::transform(protocol.begin(), protocol.end(), protocol.begin(), ::tolower);
  if (protocol.starts_with("sasl")) {
    props.emplace_back("sasl.mechanisms", o.sasl_mechanism);
    if (!o.sasl_username.empty()) props.emplace_back("sasl.username", o.sasl_username);
    if (!o.sasl_password.empty()) props.emplace_back("sasl.password", o.sasl_password);
  }
  if (!o.ssl_ca_location.empty()) props.emplace_back("ssl.ca.location", o.ssl_ca_location);
  if (role == ClientRole::kProducer) {
    props.insert(props.end(), {{"acks", o.acks},
                               {"compression.codec", o.compression},
                               {"linger.ms", std::to_string(o.linger_ms)},
                               {"batch.size", std::to_string(o.batch_size)},
                               {"batch.num.messages", std::to_string(o.batch_num_messages)}});
  } else {
    // Offsets move only when the Bus's user commits (after its sink's write is durable): at-least-once.
    props.insert(props.end(), {{"enable.auto.commit", "false"},
                               {"enable.auto.offset.store", "false"},
                               {"enable.partition.eof", "false"},
                               {"partition.assignment.strategy", "range"}});
  }
  for (const auto& [key, value] : props) {
    if (Status s = set_property(*conf, key, value); !s) return s;
  }
  for (const auto& [key, value] : o.config) {
    if (Status s = set_property(*conf, key, value); !s) return s;
  }
  std::string error;
  if (events != nullptr && conf->set("event_cb", events, error) != RdKafka::Conf::CONF_OK)
    return Status::internal("event_cb: " + error);
  return conf;
}

const std::shared_ptr<const std::string>& TopicNames::get(const std::string& topic) {
  auto it = names_.find(topic);
  if (it == names_.end()) it = names_.emplace(topic, std::make_shared<const std::string>(topic)).first;
  return it->second;
}

void fill_batch(FetchBatch& out, const std::vector<std::unique_ptr<RdKafka::Message>>& messages,
                TopicNames& names) {
  out.clear();
  if (messages.empty()) return;
  // Pass 1: the bytes to keep, so that one reserve() fixes the buffer's address.
  std::size_t total = 0;
  for (const auto& m : messages) {
    total += m->key_len() + m->len();
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m->c_ptr(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      std::size_t size;
      for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0; ++i)
        total += std::strlen(name) + size;
    }
  }
  ByteBuffer& buffer = FetchBatchAccess::acquire_buffer(out);
  buffer.reserve(total);
  auto keep = [&buffer](const void* bytes, std::size_t n) {
    const std::size_t at = buffer.size();
    buffer.append(std::string_view(static_cast<const char*>(bytes), n));
    return std::string_view(buffer.data() + at, n);
  };
  std::vector<Header> headers;
  const std::string* last_topic = nullptr;
  const std::shared_ptr<const std::string>* pinned = nullptr;
  for (const auto& m : messages) {
    const std::string& topic = m->topic_name();
    if (last_topic == nullptr || *last_topic != topic) {
      pinned = &names.get(topic);
      last_topic = pinned->get();
    }
    RecordView r;
    r.partition = m->partition();
    r.offset = m->offset();
    r.timestamp_ms = m->timestamp().timestamp;
    r.key_is_null = m->key_pointer() == nullptr;
    if (!r.key_is_null) r.key = keep(m->key_pointer(), m->key_len());
    r.value_is_null = m->payload() == nullptr;
    if (!r.value_is_null) r.value = keep(m->payload(), m->len());
    headers.clear();
    rd_kafka_headers_t* raw_headers = nullptr;
    if (rd_kafka_message_headers(m->c_ptr(), &raw_headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      std::size_t size;
      for (std::size_t i = 0; rd_kafka_header_get_all(raw_headers, i, &name, &value, &size) == 0; ++i) {
        Header h;
        h.key = keep(name, std::strlen(name));
        h.value_is_null = value == nullptr;
        if (!h.value_is_null) h.value = keep(value, size);
        headers.push_back(h);
      }
    }
    FetchBatchAccess::add_record(out, *pinned, r, headers);
  }
  FetchBatchAccess::finish(out);
}

int timeout_ms(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, INT32_MAX));
}

}  // namespace sf::bus::kafka
