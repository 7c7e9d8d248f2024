// The OpenAPI 3 description of the queue-manager REST API (served at /openapi.json). Internal to the API.
#pragma once

#include <string_view>

#include "protocol/json_fields.h"

namespace sf::services {

// Every route of HttpApi::routes(), with parameters, request bodies, responses and schemas.
protocol::Json openapi_document(std::string_view version);

}  // namespace sf::services
