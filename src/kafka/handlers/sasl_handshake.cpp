// SaslHandshake v0..1 (KIP-43, KIP-152): the client names a mechanism; the answer lists the enabled ones.
// v0 means the tokens that follow are bare size-prefixed frames, v1 that they come in SaslAuthenticate.
#include "kafka/handlers.h"
#include "kafka/sasl_session.h"

namespace sf::kafka {

HandleResult SaslHandshakeHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const std::string_view mechanism = in.string();
  if (!in.ok()) return HandleResult::kMalformed;
  if (ctx.sasl == nullptr) {
    // A listener without SASL (or a request after authentication): Kafka's KafkaApis answers so.
    out.i16(err::kIllegalSaslState);
    out.array_length(0);
    return HandleResult::kRespond;
  }
  const int16_t error = ctx.sasl->handshake(mechanism, ctx.version());
  out.i16(error);
  if (error == err::kIllegalSaslState) {
    out.array_length(0);
    return HandleResult::kRespond;
  }
  const auto mechanisms = ctx.sasl->mechanisms();
  out.array_length(static_cast<int32_t>(mechanisms.size()));
  for (const auto& m : mechanisms) out.string(m);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
