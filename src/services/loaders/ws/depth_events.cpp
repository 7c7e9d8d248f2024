// Order-book message parsing (simdjson DOM) and documents (see depth_events.h).
#include "services/loaders/ws/depth_events.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <limits>

namespace sf::services::loaders {
namespace {

namespace dom = simdjson::dom;

Status field_error(std::string_view what, std::string_view field, std::string_view why) {
  return Status::invalid_argument(fmt::format("{}: field '{}' {}", what, field, why));
}

Status get_int(std::string_view what, const dom::object& o, std::string_view key, int64_t& out) {
  auto v = o[key];
  if (v.error()) return field_error(what, key, "is missing");
  auto i = v.get_int64();
  if (i.error()) return field_error(what, key, "must be an integer");
  out = i.value();
  return Status::ok();
}

// [["price","qty"],..] into `out` (cleared first).
Status get_levels(std::string_view what, const dom::object& o, std::string_view key,
                  std::vector<PriceLevel>& out) {
  out.clear();
  dom::array levels;
  if (auto v = o[key]; v.error() || v.get_array().get(levels)) {
    return field_error(what, key, "must be an array of [price, quantity]");
  }
  size_t i = 0;
  for (dom::element level : levels) {
    dom::array pair;
    std::string_view price, qty;
    if (level.get_array().get(pair) || pair.size() < 2 || pair.at(0).get_string().get(price) ||
        pair.at(1).get_string().get(qty)) {
      return field_error(what, fmt::format("{}[{}]", key, i), "must be [\"price\", \"quantity\"]");
    }
    PriceLevel& l = out.emplace_back();
    if (!parse_fixed8(price, l.price) || !parse_fixed8(qty, l.qty)) {
      return field_error(what, fmt::format("{}[{}]", key, i),
                         fmt::format("is not a decimal with at most 8 places: [\"{}\", \"{}\"]", price, qty));
    }
    ++i;
  }
  return Status::ok();
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_levels(std::string& out, const std::vector<PriceLevel>& levels) {
  out += '[';
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out += ',';
    out += "[\"";
    append_fixed8(out, levels[i].price);
    out += "\",\"";
    append_fixed8(out, levels[i].qty);
    out += "\"]";
  }
  out += ']';
}

void append_symbol(std::string& out, std::string_view symbol) {
  // Symbols are validated ([A-Z0-9]), nothing to escape.
  out += "\"symbol\":\"";
  out += symbol;
  out += '"';
}

}  // namespace

bool parse_fixed8(std::string_view text, int64_t& out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t whole = 0, frac = 0;
  int frac_digits = -1;  // -1: no '.' yet
  if (text.empty()) return false;
  for (char c : text) {
    if (c == '.') {
      if (frac_digits >= 0) return false;
      frac_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (frac_digits < 0) {
      if (whole > (kMax / 100'000'000 - 9) / 10) return false;
      whole = whole * 10 + (c - '0');
    } else {
      if (++frac_digits > 8) return false;
      frac = frac * 10 + (c - '0');
    }
  }
  if (frac_digits == 0 || text.front() == '.') return false;  // "1." or ".5"
  for (int d = std::max(frac_digits, 0); d < 8; ++d) frac *= 10;
  out = whole * 100'000'000 + frac;
  return true;
}

void append_fixed8(std::string& out, int64_t units) {
  append_int(out, units / 100'000'000);
  char frac[8];
  int64_t f = units % 100'000'000;
  for (int i = 7; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  out += '.';
  out.append(frac, 8);
}

struct DepthParser::Impl {
  dom::parser parser;
};

DepthParser::DepthParser() : impl_(std::make_unique<Impl>()) {}
DepthParser::~DepthParser() = default;

Status DepthParser::parse_update(std::string_view frame, DepthUpdate& out) {
  constexpr std::string_view kWhat = "depth event";
  dom::element root;
  if (auto e = impl_->parser.parse(frame.data(), frame.size()).get(root); e) {
    return Status::invalid_argument(fmt::format("depth event: invalid JSON: {}", simdjson::error_message(e)));
  }
  dom::object event;
  if (root.get_object().get(event)) return Status::invalid_argument("depth event: not a JSON object");
  if (auto data = event["data"]; !data.error()) {
    if (data.get_object().get(event)) return field_error(kWhat, "data", "must be an object");
  }
  std::string_view type;
  if (event["e"].get_string().get(type)) return field_error(kWhat, "e", "must be a string");
  if (type != "depthUpdate")
    return field_error(kWhat, "e", fmt::format("is '{}', expected 'depthUpdate'", type));
  SF_RETURN_IF_ERROR(get_int(kWhat, event, "E", out.event_time));
  SF_RETURN_IF_ERROR(get_int(kWhat, event, "U", out.first_update_id));
  SF_RETURN_IF_ERROR(get_int(kWhat, event, "u", out.final_update_id));
  if (out.first_update_id > out.final_update_id) {
    return field_error(kWhat, "U", fmt::format("{} is after u {}", out.first_update_id, out.final_update_id));
  }
  SF_RETURN_IF_ERROR(get_levels(kWhat, event, "b", out.bids));
  return get_levels(kWhat, event, "a", out.asks);
}

Status DepthParser::parse_snapshot(std::string_view body, DepthSnapshot& out) {
  constexpr std::string_view kWhat = "depth snapshot";
  dom::element root;
  if (auto e = impl_->parser.parse(body.data(), body.size()).get(root); e) {
    return Status::invalid_argument(
        fmt::format("depth snapshot: invalid JSON: {}", simdjson::error_message(e)));
  }
  dom::object o;
  if (root.get_object().get(o)) return Status::invalid_argument("depth snapshot: not a JSON object");
  if (int64_t code = 0; !o["code"].get_int64().get(code)) {
    std::string_view msg;
    if (o["msg"].get_string().get(msg)) msg = "(no msg)";
    return Status::invalid_argument(fmt::format("depth snapshot: Binance error {}: {}", code, msg));
  }
  SF_RETURN_IF_ERROR(get_int(kWhat, o, "lastUpdateId", out.last_update_id));
  SF_RETURN_IF_ERROR(get_levels(kWhat, o, "bids", out.bids));
  return get_levels(kWhat, o, "asks", out.asks);
}

void append_depth_event_document(std::string& out, std::string_view symbol, const DepthUpdate& u) {
  out += "{\"_key\":\"";
  append_int(out, u.final_update_id);
  out += "\",";
  append_symbol(out, symbol);
  out += ",\"event_time\":";
  append_int(out, u.event_time);
  out += ",\"first_update_id\":";
  append_int(out, u.first_update_id);
  out += ",\"final_update_id\":";
  append_int(out, u.final_update_id);
  out += ",\"bids\":";
  append_levels(out, u.bids);
  out += ",\"asks\":";
  append_levels(out, u.asks);
  out += '}';
}

void append_book_document(std::string& out, std::string_view symbol, int64_t event_time,
                          int64_t last_update_id, const std::vector<PriceLevel>& bids,
                          const std::vector<PriceLevel>& asks) {
  out += "{\"_key\":\"";
  append_int(out, last_update_id);
  out += "\",";
  append_symbol(out, symbol);
  out += ",\"event_time\":";
  append_int(out, event_time);
  out += ",\"last_update_id\":";
  append_int(out, last_update_id);
  out += ",\"bids\":";
  append_levels(out, bids);
  out += ",\"asks\":";
  append_levels(out, asks);
  out += '}';
}

}  // namespace sf::services::loaders
