// Stream event parsing with simdjson's DOM parser (see stream_events.h).
#include "services/loaders/ws/stream_events.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>

namespace sf::services::loaders {
namespace {

namespace dom = simdjson::dom;

Status field_error(std::string_view field, std::string_view why) {
  return Status::invalid_argument(fmt::format("stream event: field '{}' {}", field, why));
}

Status get_int(const dom::object& o, std::string_view key, int64_t& out) {
  auto v = o[key];
  if (v.error()) return field_error(key, "is missing");
  auto i = v.get_int64();
  if (i.error()) return field_error(key, "must be an integer");
  out = i.value();
  return Status::ok();
}

Status get_bool(const dom::object& o, std::string_view key, bool& out, bool optional = false) {
  auto v = o[key];
  if (v.error()) {
    if (optional) return Status::ok();
    return field_error(key, "is missing");
  }
  auto b = v.get_bool();
  if (b.error()) return field_error(key, "must be a boolean");
  out = b.value();
  return Status::ok();
}

Status get_decimal(const dom::object& o, std::string_view key, protocol::Decimal& out) {
  auto v = o[key];
  if (v.error()) return field_error(key, "is missing");
  auto s = v.get_string();
  if (s.error()) return field_error(key, "must be a string");
  if (!out.assign(s.value())) return field_error(key, fmt::format("is not a plain decimal: '{}'", s.value()));
  return Status::ok();
}

Status get_event_type(const dom::object& o, std::string_view expected) {
  auto v = o["e"];
  if (v.error()) return field_error("e", "is missing");
  auto s = v.get_string();
  if (s.error()) return field_error("e", "must be a string");
  if (s.value() != expected)
    return field_error("e", fmt::format("is '{}', expected '{}'", s.value(), expected));
  return Status::ok();
}

// "123.45" -> mantissa 12345, scale 2.
bool split_decimal(std::string_view text, __int128& mantissa, int& scale) {
  mantissa = 0;
  scale = -1;
  bool negative = false;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  if (i >= text.size()) return false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (scale >= 0) return false;
      scale = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (mantissa > (static_cast<__int128>(1) << 100)) return false;
    mantissa = mantissa * 10 + (c - '0');
    if (scale >= 0) ++scale;
  }
  if (scale < 0) scale = 0;
  if (negative) mantissa = -mantissa;
  return true;
}

}  // namespace

bool multiply_decimals(std::string_view a, std::string_view b, std::string& out) {
  __int128 ma = 0, mb = 0;
  int sa = 0, sb = 0;
  if (!split_decimal(a, ma, sa) || !split_decimal(b, mb, sb)) return false;
  if (sa + sb > 36) return false;
  __int128 product = ma * mb;  // scale sa + sb
  int scale = sa + sb;
  for (; scale > 8; --scale) product /= 10;
  for (; scale < 8; ++scale) product *= 10;
  const bool negative = product < 0;
  if (negative) product = -product;
  const auto whole = static_cast<unsigned long long>(product / 100000000);
  const auto frac = static_cast<unsigned long long>(product % 100000000);
  out = fmt::format("{}{}.{:08d}", negative ? "-" : "", whole, frac);
  return true;
}

struct StreamEventParser::Impl {
  StreamEventKind kind;
  std::string symbol;
  std::string interval;
  dom::parser parser;
  std::string quote;
};

StreamEventParser::StreamEventParser(StreamEventKind kind, std::string symbol, std::string interval)
    : impl_(std::make_unique<Impl>()) {
  impl_->kind = kind;
  impl_->symbol = std::move(symbol);
  impl_->interval = std::move(interval);
}

StreamEventParser::~StreamEventParser() = default;

Status StreamEventParser::parse(std::string_view frame, StreamEvent& out) {
  Impl& m = *impl_;
  dom::element root;
  if (auto e = m.parser.parse(frame.data(), frame.size()).get(root); e) {
    return Status::invalid_argument(
        fmt::format("stream event: invalid JSON: {}", simdjson::error_message(e)));
  }
  dom::object event;
  if (root.get_object().get(event)) return Status::invalid_argument("stream event: not a JSON object");
  if (auto data = event["data"]; !data.error()) {
    if (data.get_object().get(event)) return field_error("data", "must be an object");
  }
  SF_RETURN_IF_ERROR(get_int(event, "E", out.event_time));
  switch (m.kind) {
    case StreamEventKind::kTrade: {
      SF_RETURN_IF_ERROR(get_event_type(event, "trade"));
      protocol::Trade& t = out.trade;
      if (t.symbol != m.symbol) t.symbol = m.symbol;
      SF_RETURN_IF_ERROR(get_int(event, "t", t.trade_id));
      SF_RETURN_IF_ERROR(get_decimal(event, "p", t.price));
      SF_RETURN_IF_ERROR(get_decimal(event, "q", t.quantity));
      SF_RETURN_IF_ERROR(get_int(event, "T", t.trade_time));
      SF_RETURN_IF_ERROR(get_bool(event, "m", t.is_buyer_maker));
      t.is_best_match = true;
      SF_RETURN_IF_ERROR(get_bool(event, "M", t.is_best_match, /*optional=*/true));
      if (!multiply_decimals(t.price.view(), t.quantity.view(), m.quote) ||
          !t.quote_quantity.assign(m.quote)) {
        return field_error("p", "times 'q' does not fit a decimal");
      }
      return Status::ok();
    }
    case StreamEventKind::kAggTrade: {
      SF_RETURN_IF_ERROR(get_event_type(event, "aggTrade"));
      protocol::AggTrade& a = out.agg_trade;
      if (a.symbol != m.symbol) a.symbol = m.symbol;
      SF_RETURN_IF_ERROR(get_int(event, "a", a.agg_trade_id));
      SF_RETURN_IF_ERROR(get_decimal(event, "p", a.price));
      SF_RETURN_IF_ERROR(get_decimal(event, "q", a.quantity));
      SF_RETURN_IF_ERROR(get_int(event, "f", a.first_trade_id));
      SF_RETURN_IF_ERROR(get_int(event, "l", a.last_trade_id));
      SF_RETURN_IF_ERROR(get_int(event, "T", a.trade_time));
      SF_RETURN_IF_ERROR(get_bool(event, "m", a.is_buyer_maker));
      a.is_best_match = true;
      SF_RETURN_IF_ERROR(get_bool(event, "M", a.is_best_match, /*optional=*/true));
      return Status::ok();
    }
    case StreamEventKind::kKline: {
      SF_RETURN_IF_ERROR(get_event_type(event, "kline"));
      dom::object k;
      if (auto v = event["k"]; v.error() || v.get_object().get(k))
        return field_error("k", "must be an object");
      protocol::Kline& c = out.kline;
      if (c.symbol != m.symbol) c.symbol = m.symbol;
      if (c.interval != m.interval) c.interval = m.interval;
      SF_RETURN_IF_ERROR(get_int(k, "t", c.open_time));
      SF_RETURN_IF_ERROR(get_int(k, "T", c.close_time));
      SF_RETURN_IF_ERROR(get_decimal(k, "o", c.open));
      SF_RETURN_IF_ERROR(get_decimal(k, "h", c.high));
      SF_RETURN_IF_ERROR(get_decimal(k, "l", c.low));
      SF_RETURN_IF_ERROR(get_decimal(k, "c", c.close));
      SF_RETURN_IF_ERROR(get_decimal(k, "v", c.volume));
      SF_RETURN_IF_ERROR(get_int(k, "n", c.number_of_trades));
      SF_RETURN_IF_ERROR(get_decimal(k, "q", c.quote_asset_volume));
      SF_RETURN_IF_ERROR(get_decimal(k, "V", c.taker_buy_base_asset_volume));
      SF_RETURN_IF_ERROR(get_decimal(k, "Q", c.taker_buy_quote_asset_volume));
      SF_RETURN_IF_ERROR(get_bool(k, "x", out.kline_closed));
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace sf::services::loaders
