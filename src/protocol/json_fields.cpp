// Field reading for the control and event messages.
#include "protocol/json_fields.h"

#include <algorithm>

namespace sf::protocol::detail {

const Json* FieldReader::find(std::string_view name) {
  known_.push_back(name);
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

Status FieldReader::missing(std::string_view name) const {
  return Status::invalid_argument(fmt::format("{}: field '{}' is missing", context_, name));
}

Status FieldReader::wrong_type(std::string_view name, std::string_view want, const Json& got) const {
  return Status::invalid_argument(
      fmt::format("{}: field '{}' must be {}, got {}", context_, name, want, got.type_name()));
}

Status FieldReader::string(std::string_view name, bool required, std::string& out) {
  out.clear();
  const Json* v = find(name);
  if (v == nullptr) return required ? missing(name) : Status::ok();
  if (!v->is_string()) return wrong_type(name, "a string", *v);
  out = v->get_ref<const std::string&>();
  if (required && out.empty()) {
    return Status::invalid_argument(fmt::format("{}: field '{}' must not be empty", context_, name));
  }
  return Status::ok();
}

Status FieldReader::number(std::string_view name, bool required, std::optional<double>& out) {
  out.reset();
  const Json* v = find(name);
  if (v == nullptr) return required ? missing(name) : Status::ok();
  if (!v->is_number()) return wrong_type(name, "a number", *v);
  out = v->get<double>();
  return Status::ok();
}

Status FieldReader::count(std::string_view name, bool required, std::optional<int64_t>& out) {
  out.reset();
  const Json* v = find(name);
  if (v == nullptr) return required ? missing(name) : Status::ok();
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return wrong_type(name, "a 64-bit integer", *v);
    out = static_cast<int64_t>(u);
    return Status::ok();
  }
  if (v->is_number_integer()) {  // signed, hence negative
    return Status::invalid_argument(fmt::format("{}: field '{}' must be a non-negative integer, got {}",
                                                context_, name, v->get<int64_t>()));
  }
  return wrong_type(name, "a non-negative integer", *v);
}

Status FieldReader::boolean(std::string_view name, bool required, std::optional<bool>& out) {
  out.reset();
  const Json* v = find(name);
  if (v == nullptr) return required ? missing(name) : Status::ok();
  if (!v->is_boolean()) return wrong_type(name, "a boolean", *v);
  out = v->get<bool>();
  return Status::ok();
}

Json FieldReader::unknown_fields() const {
  Json extra = Json::object();
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(known_.begin(), known_.end(), std::string_view(it.key())) == known_.end()) {
      extra[it.key()] = it.value();
    }
  }
  return extra;
}

Result<Json> parse_object(std::string_view text, std::string_view context) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return Status::invalid_argument(fmt::format("{}: not valid JSON: {}", context, e.what()));
  }
  if (!json.is_object()) {
    return Status::invalid_argument(
        fmt::format("{}: expected a JSON object, got {}", context, json.type_name()));
  }
  return json;
}

std::string dump(const Json& json, int indent) {
  return json.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace sf::protocol::detail
