// Request header decoding and dispatch to the handler table (see dispatch.h).
#include "kafka/dispatch.h"

#include <spdlog/spdlog.h>

#include "kafka/handlers.h"

namespace sf::kafka {

const HandlerEntry* find_handler(int16_t api_key) {
  for (const auto& entry : handler_table()) {
    if (entry.api_key == api_key) return &entry;
  }
  return nullptr;
}

bool is_flexible_request(int16_t api_key, int16_t api_version) {
  // Only the first flexible version of each implemented API matters: we never advertise beyond it,
  // except ApiVersions (flexible from v3).
  return (api_key == api::kApiVersions && api_version >= 3) ||
         (api_key == api::kSaslAuthenticate && api_version >= 2);
}

int16_t error_code_for(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return err::kNone;
    case ErrorCode::kNotFound:
      return err::kUnknownTopicOrPartition;
    case ErrorCode::kCorruption:
      return err::kCorruptMessage;
    case ErrorCode::kInvalidArgument:
      return err::kInvalidRequest;
    case ErrorCode::kAlreadyExists:
      return err::kTopicAlreadyExists;
    case ErrorCode::kIoError:
      return err::kKafkaStorageError;
    case ErrorCode::kFailedPrecondition:
      return status.message().find("compression") != std::string::npos ? err::kUnsupportedCompressionType
                                                                       : err::kInvalidRequest;
    default:
      return err::kUnknownServerError;
  }
}

DispatchResult dispatch_request(BrokerState& state, std::string_view frame, std::string_view client,
                                std::string& response, SaslSession* sasl) {
  response.clear();
  Reader in(frame);
  RequestHeader header;
  header.api_key = in.i16();
  header.api_version = in.i16();
  header.correlation_id = in.i32();
  header.client_id = in.nullable_string();
  if (!in.ok()) {
    spdlog::warn("kafka: {}: truncated request header ({} bytes): closing the connection", client,
                 frame.size());
    return DispatchResult::kClose;
  }
  const HandlerEntry* handler = find_handler(header.api_key);
  Writer out(response);
  const std::size_t size_at = out.reserve_i32();
  out.i32(header.correlation_id);
  if (handler == nullptr) {
    spdlog::warn("kafka: {}: unsupported API key {} (v{}): closing the connection", client, header.api_key,
                 header.api_version);
    return DispatchResult::kClose;
  }
  if (header.api_version < handler->min_version || header.api_version > handler->max_version) {
    if (header.api_key == api::kApiVersions) {
      // KIP-511: answer an unknown ApiVersions version with a v0 response carrying UNSUPPORTED_VERSION and
      // our versions, so the client can retry with one we speak.
      out.i16(err::kUnsupportedVersion);
      out.array_length(static_cast<int32_t>(handler_table().size()));
      for (const auto& e : handler_table()) {
        out.i16(e.api_key);
        out.i16(e.min_version);
        out.i16(e.max_version);
      }
      out.patch_i32(size_at, static_cast<int32_t>(response.size() - 4));
      return DispatchResult::kRespond;
    }
    spdlog::warn("kafka: {}: {} v{} is not supported (v{}..{}): closing the connection", client,
                 handler->name, header.api_version, handler->min_version, handler->max_version);
    return DispatchResult::kClose;
  }
  if (is_flexible_request(header.api_key, header.api_version)) {
    in.skip_tagged_fields();
    // Response header v1 (its tagged fields) for every flexible response but ApiVersions' (KIP-511).
    if (header.api_key != api::kApiVersions) out.empty_tagged_fields();
  }
  if (!in.ok()) {
    spdlog::warn("kafka: {}: malformed request header of {} v{}: closing the connection", client,
                 handler->name, header.api_version);
    return DispatchResult::kClose;
  }
  RequestContext ctx{state.bus, state.options, state.groups, state.advertised_host, state.advertised_port,
                     header,    client};
  ctx.sasl = sasl;
  ctx.producers = state.producers;
  const HandleResult result = handler->handle(ctx, in, out);
  if (result == HandleResult::kMalformed || !in.ok()) {
    spdlog::warn("kafka: {}: malformed {} v{} request (correlation id {}, {} bytes): closing the connection",
                 client, handler->name, header.api_version, header.correlation_id, frame.size());
    response.clear();
    return DispatchResult::kClose;
  }
  if (result == HandleResult::kNoResponse) {
    response.clear();
    return DispatchResult::kNoResponse;
  }
  out.patch_i32(size_at, static_cast<int32_t>(response.size() - 4));
  return DispatchResult::kRespond;
}

}  // namespace sf::kafka
