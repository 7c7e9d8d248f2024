// Binance's error answers, word for word (errors.md of binance-spot-api-docs): HTTP status + {code,msg}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sf::exchange::sim {

struct ApiError {
  int http_status = 400;
  int code = -1000;
  std::string msg;

  // {"code":-1121,"msg":"Invalid symbol."}
  std::string body() const;
};

namespace api_errors {

// -1000 UNKNOWN (HTTP 500), -1001 DISCONNECTED (503), -1007 TIMEOUT (504): the simulator's 5xx faults.
ApiError unknown();
ApiError disconnected();
ApiError backend_timeout();
// -1003 TOO_MANY_REQUESTS, HTTP 429: "Too much request weight used; current limit is 6000 request weight
// per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
ApiError too_much_weight(int limit);
// -1003, HTTP 418: "Way too much request weight used; IP banned until <ms>. Please use WebSocket Streams
// for live updates to avoid bans."
ApiError ip_banned(int64_t until_ms);
// -1100 ILLEGAL_CHARS: "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."
ApiError illegal_chars(std::string_view param, std::string_view legal_range);
// -1101 "Duplicate values for a parameter detected."
ApiError duplicate_parameter();
// -1102 "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
ApiError mandatory_missing(std::string_view param);
// -1104 "Not all sent parameters were read; read '2' parameter(s) but was sent '3'."
ApiError unread_parameters(size_t read, size_t sent);
// -1105 "Parameter 'startTime' was empty."
ApiError parameter_empty(std::string_view param);
// -1120 "Invalid interval."
ApiError invalid_interval();
// -1121 "Invalid symbol."
ApiError invalid_symbol();
// -1127 "More than 1 hours between startTime and endTime."
ApiError more_than_hours(int64_t hours);
// -1128 "Combination of optional parameters invalid."
ApiError bad_parameter_combination();
// -1130 "Data sent for parameter 'limit' is not valid."
ApiError invalid_parameter_data(std::string_view param);

}  // namespace api_errors

// The legal ranges Binance quotes in -1100 messages.
inline constexpr std::string_view kSymbolRange = "^[A-Z0-9-_.]{1,20}$";
inline constexpr std::string_view kNumberRange = "^[0-9]{1,20}$";

}  // namespace sf::exchange::sim
