// GET /api/v3/time: the simulator's clock.
#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {

RestReply ServerTime::handle(const SimContext& ctx, RestParams&) {
  return RestReply::ok("{\"serverTime\":" + std::to_string(ctx.now_ms) + "}");
}

}  // namespace sf::exchange::sim
