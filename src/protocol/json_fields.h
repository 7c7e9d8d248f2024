// Shared rules for the JSON messages on `queue-control` and `queue-events` (nlohmann/json, insertion
// order kept): typed reading of known fields with errors that name the field, and of the unknown fields
// that ride along in a message's `extra` object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sf::protocol {

// Objects keep their fields in input order, so a parsed message is written back the way it came.
using Json = nlohmann::ordered_json;

// Reads `extra[name]` as T, one of std::string, bool, int64_t, double or Json.
// Absent or null -> nullopt; present with another JSON type -> invalid_argument
// "<context>: field 'name' must be a <type>, got <json type>". An integer is accepted as a double;
// a double is not accepted as an int64_t.
template <typename T>
Result<std::optional<T>> extra_field(const Json& extra, std::string_view name, std::string_view context) {
  if (!extra.is_object()) return std::optional<T>{};
  auto it = extra.find(name);
  if (it == extra.end() || it->is_null()) return std::optional<T>{};
  const Json& v = *it;
  auto wrong = [&](std::string_view want) {
    return Status::invalid_argument(
        fmt::format("{}: field '{}' must be {}, got {}", context, name, want, v.type_name()));
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return wrong("a string");
    return std::optional<T>{v.template get<std::string>()};
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return wrong("a boolean");
    return std::optional<T>{v.template get<bool>()};
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (v.is_number_unsigned()) {
      if (v.template get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return wrong("a 64-bit integer");
      return std::optional<T>{static_cast<int64_t>(v.template get<uint64_t>())};
    }
    if (!v.is_number_integer()) return wrong("an integer");
    return std::optional<T>{v.template get<int64_t>()};
  } else if constexpr (std::is_same_v<T, double>) {
    if (!v.is_number()) return wrong("a number");
    return std::optional<T>{v.template get<double>()};
  } else {
    static_assert(std::is_same_v<T, Json>, "extra_field supports std::string, bool, int64_t, double, Json");
    return std::optional<T>{v};
  }
}

namespace detail {

// Reads the known fields of one JSON object. Each call names a field; absent and null both count as
// absent. An error names the field ("<context>: field 'queue_id' is missing"). Not thread-safe.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string_view context) : object_(object), context_(context) {}

  // Strings: absent -> "" unless required; required also rejects "" (empty means absent in the structs).
  Status string(std::string_view name, bool required, std::string& out);
  Status number(std::string_view name, bool required, std::optional<double>& out);
  // A non-negative integer that fits int64_t.
  Status count(std::string_view name, bool required, std::optional<int64_t>& out);
  Status boolean(std::string_view name, bool required, std::optional<bool>& out);

  // The fields no call above named, in input order (an object, possibly empty).
  Json unknown_fields() const;

  Status missing(std::string_view name) const;
  Status wrong_type(std::string_view name, std::string_view want, const Json& got) const;

 private:
  const Json* find(std::string_view name);

  const Json& object_;
  std::string_view context_;
  std::vector<std::string_view> known_;
};

// Parses `text` into an object, or an invalid_argument error starting with `context`. Never throws.
Result<Json> parse_object(std::string_view text, std::string_view context);
// Compact single-line JSON; invalid UTF-8 in strings is replaced rather than thrown on.
std::string dump(const Json& json, int indent);

}  // namespace detail
}  // namespace sf::protocol
