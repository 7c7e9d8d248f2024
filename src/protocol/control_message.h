// `queue-control` commands: written only by the manager, read by every job (seed chapter 3).
// Wire form, fields in this order (the seed's), then any extra fields:
//   {"command":"start","queue_id":"wf-...","target":"loader-producer","symbol":"BTCUSDT",
//    "type":"api_candles_5m","time_range":"2024-08-01:2024-08-02","kafka_topic":"wf-...-data",
//    "collection_name":"btcusdt_api_candles_5m_2024_08_01","telemetry_id":"loader-producer__a1b2c3",
//    "image":"registry.../loader-producer:v0.2.0","timestamp":1722500000.123}
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "protocol/json_fields.h"

namespace sf::protocol {

enum class Command { kStart, kStop };
std::string_view command_name(Command command);  // "start", "stop"
Result<Command> parse_command(std::string_view text);

// Which fields a message must carry (a parse error names the first one missing, in wire order):
//   start: command, queue_id, target, symbol, type, time_range, kafka_topic, collection_name,
//          telemetry_id, timestamp. `image` is optional (the embedded launcher runs no images).
//   stop:  command, queue_id. Everything else is optional.
// Strings: "" means absent; absent (or null) optional fields stay absent when written back, and a
// required string must not be "". Unknown fields land in `extra`, in input order, and are written back
// after the known ones, so parse -> serialize loses nothing. Parameters that later services need and
// the seed has no field for (a candle `interval` override, graph/GNN settings) also ride in `extra`.
struct ControlMessage {
  Command command = Command::kStart;
  std::string queue_id;
  std::string target;
  std::string symbol;
  std::string type;
  std::string time_range;   // "START:END" (core/time_range.h); "START:" for live workflows
  std::string kafka_topic;  // the workflow's data topic, "<queue_id>-data"
  std::string collection_name;
  std::string telemetry_id;         // "<target>__<suffix>"
  std::string image;                // container image; optional
  std::optional<double> timestamp;  // when the manager sent it, epoch seconds (fractional)
  Json extra = Json::object();

  // Typed read of an extra field: nullopt when absent, an error naming the field when mistyped.
  template <typename T>
  Result<std::optional<T>> extra_field(std::string_view name) const {
    return protocol::extra_field<T>(extra, name, "queue-control message");
  }

  bool operator==(const ControlMessage&) const = default;
};

// Structural parse: JSON syntax, field presence and JSON types, the command's value. Errors are
// invalid_argument: "queue-control message: field 'queue_id' is missing",
// "queue-control message: field 'timestamp' must be a number, got string". Never throws.
Result<ControlMessage> parse_control_message(std::string_view text);
Result<ControlMessage> control_message_from_json(const Json& json);

Json to_json(const ControlMessage& message);
// Compact JSON (indent < 0) or pretty-printed with `indent` spaces; seed field order, then `extra`.
std::string serialize(const ControlMessage& message, int indent = -1);

// Semantic checks beyond the parse, for the manager before it sends and for a job before it acts:
// for start, `symbol` is a valid Binance symbol in upper case, `type` parses, `target` is known and can
// run the type (route()), and `time_range` parses. For stop, nothing beyond the parse.
Status validate(const ControlMessage& message);

}  // namespace sf::protocol
