// InitProducerId v0..1: a producer id for an idempotent producer (enable.idempotence=true). Transactions are
// not implemented, so a transactional id is refused (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, fatal to the
// client, which names it) rather than half-served.
#include <spdlog/spdlog.h>

#include "kafka/handlers.h"
#include "kafka/producer_state.h"

namespace sf::kafka {

HandleResult InitProducerIdHandler::handle(RequestContext& ctx, Reader& in, Writer& out) {
  const auto transactional_id = in.nullable_string();
  in.i32();  // transaction_timeout_ms: no transactions
  if (!in.ok()) return HandleResult::kMalformed;
  int16_t error = err::kNone;
  ProducerStateTable::ProducerIdAndEpoch assigned;
  if (transactional_id) {
    spdlog::warn("kafka: {}: InitProducerId for transactional id '{}': transactions are not supported",
                 ctx.client_address, *transactional_id);
    error = err::kTransactionalIdAuthorizationFailed;
  } else if (ctx.producers == nullptr) {
    error = err::kUnknownServerError;
  } else if (auto id = ctx.producers->new_producer_id(); !id) {
    spdlog::error("kafka: {}: InitProducerId: {}", ctx.client_address, id.status().to_string());
    error = error_code_for(id.status());
  } else {
    assigned = *id;
  }
  out.i32(0);  // throttle_time_ms
  out.i16(error);
  out.i64(assigned.producer_id);
  out.i16(assigned.producer_epoch);
  return HandleResult::kRespond;
}

}  // namespace sf::kafka
