// The seed's names: workflow ids, data and dead-letter topics, collection names, telemetry ids.
//   workflow id  wf-btcusdt-api_candles_5m-20240801-a1b2c3  (lower-case symbol, type, start date, 6 hex)
//   data topic   <queue_id>-data        dead-letter topic  <queue_id>-dlq
//   collection   btcusdt_api_candles_5m_2024_08_01          (lower-case symbol, type, start date)
//   telemetry    loader-producer__a1b2c3                    (target, "__", the id's random suffix)
// Randomness comes from the caller (an RNG or the suffix itself) so ids are reproducible in tests.
// All functions are thread-safe.
#pragma once

#include <concepts>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time_range.h"
#include "protocol/workflow_type.h"

namespace sf::protocol {

inline constexpr std::size_t kWorkflowSuffixLength = 6;

// True for exactly 6 lower-case hex digits.
bool is_valid_workflow_suffix(std::string_view suffix);

// 6 lower-case hex digits drawn from `rng`.
template <std::uniform_random_bit_generator Rng>
std::string random_workflow_suffix(Rng& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uniform_int_distribution<int> digit(0, 15);
  std::string out(kWorkflowSuffixLength, '0');
  for (char& c : out) c = kHex[digit(rng)];
  return out;
}
// Same, from a per-thread generator seeded by std::random_device.
std::string random_workflow_suffix();

// "wf-btcusdt-api_candles_5m-20240801-a1b2c3". The symbol is validated (any case accepted) and written in
// lower case; the type in its canonical name; the date is the UTC day containing `start`.
// Errors: invalid symbol or suffix.
Result<std::string> make_workflow_id(std::string_view symbol, const WorkflowType& type, TimestampMs start,
                                     std::string_view suffix);

// The parts of a workflow id made by make_workflow_id.
struct WorkflowIdParts {
  std::string symbol;      // upper case, as Binance spells it: "BTCUSDT"
  WorkflowType type;       // parsed, so it is valid
  TimestampMs start_date;  // midnight UTC of the id's date
  std::string suffix;      // "a1b2c3"
};
// Rejects anything make_workflow_id could not have produced, naming the bad part.
Result<WorkflowIdParts> parse_workflow_id(std::string_view id);

// "<queue_id>-data" and "<queue_id>-dlq".
std::string data_topic(std::string_view queue_id);
std::string dead_letter_topic(std::string_view queue_id);

// "btcusdt_api_candles_5m_2024_08_01". Errors: invalid symbol.
Result<std::string> collection_name(std::string_view symbol, const WorkflowType& type, TimestampMs start);

// "loader-producer__a1b2c3": the target, "__", and the text after the id's last '-' (the whole id if it
// has none), so ids not made by make_workflow_id still give a stable telemetry id.
std::string telemetry_id(std::string_view target, std::string_view queue_id);

}  // namespace sf::protocol
