// GET /api/v3/ping: connectivity check.
#include "exchange/sim/endpoints.h"

namespace sf::exchange::sim {

RestReply Ping::handle(const SimContext&, RestParams&) {
  return RestReply::ok("{}");
}

}  // namespace sf::exchange::sim
