// The Kafka API handlers, one file each under handlers/ (decode, act, respond), registered in kHandlerList.
// A handler is a struct with its API key, the versions it implements (ApiVersions advertises exactly
// these), a name for logs, and handle(), which decodes the request body from `in` and writes the response
// body (after the response header) to `out`.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>

#include "kafka/protocol.h"
#include "kafka/wire.h"

namespace sf::kafka {

enum class HandleResult {
  kRespond,     // `out` holds the response body
  kNoResponse,  // nothing is sent (Produce with acks=0)
  kMalformed,   // the request could not be decoded: the connection is closed
};

template <typename H>
concept KafkaHandler = requires(RequestContext& ctx, Reader& in, Writer& out) {
  { H::kApiKey } -> std::convertible_to<int16_t>;
  { H::kMinVersion } -> std::convertible_to<int16_t>;
  { H::kMaxVersion } -> std::convertible_to<int16_t>;
  { H::kName } -> std::convertible_to<std::string_view>;
  { H::handle(ctx, in, out) } -> std::same_as<HandleResult>;
};

#define SF_KAFKA_HANDLER(Type, key, min, max)                                 \
  struct Type {                                                               \
    static constexpr int16_t kApiKey = key;                                   \
    static constexpr int16_t kMinVersion = min;                               \
    static constexpr int16_t kMaxVersion = max;                               \
    static constexpr std::string_view kName = #Type;                          \
    static HandleResult handle(RequestContext& ctx, Reader& in, Writer& out); \
  }

SF_KAFKA_HANDLER(ProduceHandler, api::kProduce, 0, 7);
SF_KAFKA_HANDLER(FetchHandler, api::kFetch, 0, 11);
SF_KAFKA_HANDLER(ListOffsetsHandler, api::kListOffsets, 0, 2);
SF_KAFKA_HANDLER(MetadataHandler, api::kMetadata, 0, 5);
SF_KAFKA_HANDLER(OffsetCommitHandler, api::kOffsetCommit, 0, 7);
SF_KAFKA_HANDLER(OffsetFetchHandler, api::kOffsetFetch, 0, 5);
SF_KAFKA_HANDLER(FindCoordinatorHandler, api::kFindCoordinator, 0, 2);
SF_KAFKA_HANDLER(JoinGroupHandler, api::kJoinGroup, 0, 5);
SF_KAFKA_HANDLER(HeartbeatHandler, api::kHeartbeat, 0, 3);
SF_KAFKA_HANDLER(LeaveGroupHandler, api::kLeaveGroup, 0, 1);
SF_KAFKA_HANDLER(SyncGroupHandler, api::kSyncGroup, 0, 3);
SF_KAFKA_HANDLER(ListGroupsHandler, api::kListGroups, 0, 2);
SF_KAFKA_HANDLER(ApiVersionsHandler, api::kApiVersions, 0, 3);
SF_KAFKA_HANDLER(CreateTopicsHandler, api::kCreateTopics, 0, 4);
SF_KAFKA_HANDLER(DeleteTopicsHandler, api::kDeleteTopics, 0, 3);
SF_KAFKA_HANDLER(DescribeGroupsHandler, api::kDescribeGroups, 0, 4);
SF_KAFKA_HANDLER(DescribeConfigsHandler, api::kDescribeConfigs, 0, 2);
SF_KAFKA_HANDLER(InitProducerIdHandler, api::kInitProducerId, 0, 1);
SF_KAFKA_HANDLER(SaslHandshakeHandler, api::kSaslHandshake, 0, 1);
SF_KAFKA_HANDLER(SaslAuthenticateHandler, api::kSaslAuthenticate, 0, 2);

#undef SF_KAFKA_HANDLER

// One row of the dispatch table.
struct HandlerEntry {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  std::string_view name;
  HandleResult (*handle)(RequestContext&, Reader&, Writer&);
};

template <KafkaHandler... H>
struct HandlerList {
  static constexpr HandlerEntry kEntries[] = {
      {H::kApiKey, H::kMinVersion, H::kMaxVersion, H::kName, &H::handle}...};
};

using kHandlerList =
    HandlerList<ProduceHandler, FetchHandler, ListOffsetsHandler, MetadataHandler, OffsetCommitHandler,
                OffsetFetchHandler, FindCoordinatorHandler, JoinGroupHandler, HeartbeatHandler,
                LeaveGroupHandler, SyncGroupHandler, DescribeGroupsHandler, ListGroupsHandler,
                ApiVersionsHandler, CreateTopicsHandler, DeleteTopicsHandler, DescribeConfigsHandler,
                InitProducerIdHandler, SaslHandshakeHandler, SaslAuthenticateHandler>;

// Every implemented API, in kHandlerList order.
inline std::span<const HandlerEntry> handler_table() {
  return kHandlerList::kEntries;
}
// The handler of an API key, or nullptr.
const HandlerEntry* find_handler(int16_t api_key);

// Whether a request of this API and version uses the flexible (KIP-482) request header v2.
bool is_flexible_request(int16_t api_key, int16_t api_version);

}  // namespace sf::kafka
