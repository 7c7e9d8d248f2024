// Kafka protocol constants and the request context handlers receive. Internal to kafka/.
// Field-by-field behaviour follows Apache Kafka's message schemas (clients/src/main/resources/common/
// message/*.json) and librdkafka's mock broker (src/rdkafka_mock_handlers.c).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bus/bus.h"
#include "kafka/kafka.h"

namespace sf::kafka {

class GroupCoordinator;
class SaslSession;
class ProducerStateTable;

namespace api {
inline constexpr int16_t kProduce = 0, kFetch = 1, kListOffsets = 2, kMetadata = 3, kOffsetCommit = 8,
                         kOffsetFetch = 9, kFindCoordinator = 10, kJoinGroup = 11, kHeartbeat = 12,
                         kLeaveGroup = 13, kSyncGroup = 14, kDescribeGroups = 15, kListGroups = 16,
                         kApiVersions = 18, kCreateTopics = 19, kDeleteTopics = 20, kDescribeConfigs = 32;
inline constexpr int16_t kInitProducerId = 22;
inline constexpr int16_t kSaslHandshake = 17, kSaslAuthenticate = 36;
}  // namespace api

// Kafka error codes (org.apache.kafka.common.protocol.Errors).
namespace err {
inline constexpr int16_t kNone = 0, kUnknownServerError = -1, kOffsetOutOfRange = 1, kCorruptMessage = 2,
                         kUnknownTopicOrPartition = 3, kMessageTooLarge = 10, kCoordinatorNotAvailable = 15,
                         kNotCoordinator = 16, kInvalidTopic = 17, kIllegalGeneration = 22,
                         kInconsistentGroupProtocol = 23, kInvalidGroupId = 24, kUnknownMemberId = 25,
                         kInvalidSessionTimeout = 26, kRebalanceInProgress = 27, kUnsupportedVersion = 35,
                         kTopicAlreadyExists = 36, kInvalidPartitions = 37, kInvalidReplicationFactor = 38,
                         kInvalidRequest = 42, kKafkaStorageError = 56, kGroupIdNotFound = 69,
                         kUnsupportedCompressionType = 76, kMemberIdRequired = 79;
// Idempotent producers.
inline constexpr int16_t kOutOfOrderSequenceNumber = 45, kDuplicateSequenceNumber = 46,
                         kInvalidProducerEpoch = 47, kTransactionalIdAuthorizationFailed = 53,
                         kUnknownProducerId = 59;
inline constexpr int16_t kUnsupportedSaslMechanism = 33, kIllegalSaslState = 34, kSaslAuthenticationFailed = 58;
}  // namespace err

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string_view> client_id;
};

// What a handler may use. One per request; the references outlive it.
struct RequestContext {
  bus::Bus& bus;
  const BrokerOptions& options;
  GroupCoordinator& groups;
  const std::string& advertised_host;
  int32_t advertised_port = 0;
  RequestHeader header;
  std::string_view client_address;  // for logs
  SaslSession* sasl = nullptr;       // the connection's authentication; nullptr without SASL
  ProducerStateTable* producers = nullptr;  // idempotent producers; null: InitProducerId is refused
  int16_t version() const { return header.api_version; }
};

// Maps a bus Status onto the Kafka error code a client understands.
int16_t error_code_for(const Status& status);

}  // namespace sf::kafka
