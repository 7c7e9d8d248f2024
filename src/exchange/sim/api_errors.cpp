// Binance error bodies.
#include "exchange/sim/api_errors.h"

namespace sf::exchange::sim {
namespace {

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string ApiError::body() const {
  return "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + json_escape(msg) + "\"}";
}

namespace api_errors {

ApiError unknown() {
  return {500, -1000, "An unknown error occurred while processing the request."};
}
ApiError disconnected() {
  return {503, -1001, "Internal error; unable to process your request. Please try again."};
}
ApiError backend_timeout() {
  return {504, -1007,
          "Timeout waiting for response from backend server. Send status unknown; execution status unknown."};
}
ApiError too_much_weight(int limit) {
  return {429, -1003,
          "Too much request weight used; current limit is " + std::to_string(limit) +
              " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
              "the API."};
}
ApiError ip_banned(int64_t until_ms) {
  return {418, -1003,
          "Way too much request weight used; IP banned until " + std::to_string(until_ms) +
              ". Please use WebSocket Streams for live updates to avoid bans."};
}
ApiError illegal_chars(std::string_view param, std::string_view legal_range) {
  return {400, -1100,
          "Illegal characters found in parameter '" + std::string(param) + "'; legal range is '" +
              std::string(legal_range) + "'."};
}
ApiError duplicate_parameter() {
  return {400, -1101, "Duplicate values for a parameter detected."};
}
ApiError mandatory_missing(std::string_view param) {
  return {400, -1102,
          "Mandatory parameter '" + std::string(param) + "' was not sent, was empty/null, or malformed."};
}
ApiError unread_parameters(size_t read, size_t sent) {
  return {400, -1104,
          "Not all sent parameters were read; read '" + std::to_string(read) +
              "' parameter(s) but was sent '" + std::to_string(sent) + "'."};
}
ApiError parameter_empty(std::string_view param) {
  return {400, -1105, "Parameter '" + std::string(param) + "' was empty."};
}
ApiError invalid_interval() {
  return {400, -1120, "Invalid interval."};
}
ApiError invalid_symbol() {
  return {400, -1121, "Invalid symbol."};
}
ApiError more_than_hours(int64_t hours) {
  return {400, -1127, "More than " + std::to_string(hours) + " hours between startTime and endTime."};
}
ApiError bad_parameter_combination() {
  return {400, -1128, "Combination of optional parameters invalid."};
}
ApiError invalid_parameter_data(std::string_view param) {
  return {400, -1130, "Data sent for parameter '" + std::string(param) + "' is not valid."};
}

}  // namespace api_errors
}  // namespace sf::exchange::sim
