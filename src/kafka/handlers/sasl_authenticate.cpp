// SaslAuthenticate v0..2 (KIP-152; v1 adds session_lifetime_ms, v2 is flexible): one token of the
// exchange each way. A failed authentication is answered with SASL_AUTHENTICATION_FAILED, after which the
// broker closes the connection (SaslSession::close_after_reply).
#include "kafka/handlers.h"
#include "kafka/sasl_session.h"

namespace sf::kafka {

HandleResult SaslAuthenticateHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const int16_t v = ctx.version();
  const bool flexible = v >= 2;
  std::string_view token;
  if (flexible) {
    token = in.compact_nullable_bytes().value_or(std::string_view());
    in.skip_tagged_fields();
  } else {
    token = in.bytes();
  }
  if (!in.ok()) return HandleResult::kMalformed;
  SaslSession::Reply reply;
  if (ctx.sasl == nullptr) {
    reply = {err::kIllegalSaslState, "SaslAuthenticate request received on a listener without SASL", {}};
  } else {
    reply = ctx.sasl->authenticate(token, ctx.client_address);
  }
  out.i16(reply.error_code);
  if (flexible) {
    out.compact_nullable_string(reply.error_message);
    out.uvarint(static_cast<uint32_t>(reply.auth_bytes.size() + 1));
    out.raw(reply.auth_bytes);
  } else {
    out.nullable_string(reply.error_message);
    out.bytes(reply.auth_bytes);
  }
  if (v >= 1) out.i64(0);  // session_lifetime_ms: no re-authentication required (KIP-368)
  if (flexible) out.empty_tagged_fields();
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
