// Stream event parsing with simdjson's On Demand API: one pass over each frame's fields, a reused parser and
// padded buffer, so a frame costs no allocation (see stream_events.h).
#include "services/loaders/ws/stream_events.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#include <iterator>
#include <span>

namespace sf::services::loaders {
namespace {

namespace od = simdjson::ondemand;

Status field_error(std::string_view field, std::string_view why) {
  return Status::invalid_argument(fmt::format("stream event: field '{}' {}", field, why));
}

Status json_error(simdjson::error_code e) {
  return Status::invalid_argument(fmt::format("stream event: invalid JSON: {}", simdjson::error_message(e)));
}

Status get_int(od::value& v, std::string_view key, int64_t& out) {
  if (v.get_int64().get(out)) return field_error(key, "must be an integer");
  return Status::ok();
}

Status get_bool(od::value& v, std::string_view key, bool& out) {
  if (v.get_bool().get(out)) return field_error(key, "must be a boolean");
  return Status::ok();
}

Status get_decimal(od::value& v, std::string_view key, protocol::Decimal& out) {
  std::string_view s;
  if (v.get_string().get(s)) return field_error(key, "must be a string");
  if (!out.assign(s)) return field_error(key, fmt::format("is not a plain decimal: '{}'", s));
  return Status::ok();
}

Status check_event_type(od::value& v, std::string_view expected) {
  std::string_view s;
  if (v.get_string().get(s)) return field_error("e", "must be a string");
  if (s != expected) return field_error("e", fmt::format("is '{}', expected '{}'", s, expected));
  return Status::ok();
}

// An object key without unescaping: our keys are plain letters, and a key with escapes matches none of them.
std::string_view raw_key(od::field& field) {
  const char* p = field.key().raw();
  const char* q = p;
  while (*q != '"') ++q;  // stage 1 validated the strings, so a closing quote follows
  return {p, static_cast<std::size_t>(q - p)};
}

// Fields seen in one object, by bit: a missing required one is reported by name.
struct Seen {
  uint32_t bits = 0;
  void set(int i) { bits |= 1u << i; }
  bool has(int i) const { return (bits >> i) & 1u; }
};

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
  out.clear();  // reuses the caller's capacity: no allocation per trade
  fmt::format_to(std::back_inserter(out), "{}{}.{:08d}", negative ? "-" : "", whole, frac);
  return true;
}

struct StreamEventParser::Impl {
  StreamEventKind kind;
  std::string symbol;
  std::string interval;
  od::parser parser;
  std::string buffer;  // the frame with simdjson's padding after it
  std::string quote;

  Status event(od::object& o, StreamEvent& out);
  Status kline(od::object& k, StreamEvent& out);
};

StreamEventParser::StreamEventParser(StreamEventKind kind, std::string symbol, std::string interval)
    : impl_(std::make_unique<Impl>()) {
  impl_->kind = kind;
  impl_->symbol = std::move(symbol);
  impl_->interval = std::move(interval);
}

StreamEventParser::~StreamEventParser() = default;

// The payload's fields in one pass, in whatever order they come.
Status StreamEventParser::Impl::event(od::object& o, StreamEvent& out) {
  enum { kE, kEventTime, kTradeId, kAggId, kPrice, kQty, kFirst, kLast, kTime, kMaker, kKline, kCount };
  static constexpr std::string_view kNames[] = {"e", "E", "t", "a", "p", "q", "f", "l", "T", "m", "k"};
  Seen seen;
  protocol::Trade& t = out.trade;
  protocol::AggTrade& a = out.agg_trade;
  t.is_best_match = a.is_best_match = true;  // `M` is optional
  std::string_view expected_type = kind == StreamEventKind::kTrade      ? "trade"
                                   : kind == StreamEventKind::kAggTrade ? "aggTrade"
                                                                        : "kline";
  for (auto field : o) {
    od::field f;
    if (auto e = std::move(field).get(f)) return json_error(e);
    const std::string_view key = raw_key(f);
    od::value& v = f.value();
    if (key.size() != 1) continue;  // not one of ours
    const bool trade = kind == StreamEventKind::kTrade, agg = kind == StreamEventKind::kAggTrade;
    switch (key[0]) {
      case 'e':
        SF_RETURN_IF_ERROR(check_event_type(v, expected_type));
        seen.set(kE);
        break;
      case 'E':
        SF_RETURN_IF_ERROR(get_int(v, key, out.event_time));
        seen.set(kEventTime);
        break;
      case 't':
        if (!trade) break;
        SF_RETURN_IF_ERROR(get_int(v, key, t.trade_id));
        seen.set(kTradeId);
        break;
      case 'a':
        if (!agg) break;
        SF_RETURN_IF_ERROR(get_int(v, key, a.agg_trade_id));
        seen.set(kAggId);
        break;
      case 'p':
        if (!trade && !agg) break;
        SF_RETURN_IF_ERROR(get_decimal(v, key, trade ? t.price : a.price));
        seen.set(kPrice);
        break;
      case 'q':
        if (!trade && !agg) break;
        SF_RETURN_IF_ERROR(get_decimal(v, key, trade ? t.quantity : a.quantity));
        seen.set(kQty);
        break;
      case 'f':
        if (!agg) break;
        SF_RETURN_IF_ERROR(get_int(v, key, a.first_trade_id));
        seen.set(kFirst);
        break;
      case 'l':
        if (!agg) break;
        SF_RETURN_IF_ERROR(get_int(v, key, a.last_trade_id));
        seen.set(kLast);
        break;
      case 'T':
        if (!trade && !agg) break;
        SF_RETURN_IF_ERROR(get_int(v, key, trade ? t.trade_time : a.trade_time));
        seen.set(kTime);
        break;
      case 'm':
        if (!trade && !agg) break;
        SF_RETURN_IF_ERROR(get_bool(v, key, trade ? t.is_buyer_maker : a.is_buyer_maker));
        seen.set(kMaker);
        break;
      case 'M':
        if (!trade && !agg) break;
        SF_RETURN_IF_ERROR(get_bool(v, key, trade ? t.is_best_match : a.is_best_match));
        break;
      case 'k': {
        if (kind != StreamEventKind::kKline) break;
        od::object k;
        if (v.get_object().get(k)) return field_error("k", "must be an object");
        SF_RETURN_IF_ERROR(kline(k, out));
        seen.set(kKline);
        break;
      }
      default:
        break;
    }
  }
  // The fields each kind needs, in the order the old messages named them.
  static constexpr int kTradeFields[] = {kEventTime, kE, kTradeId, kPrice, kQty, kTime, kMaker};
  static constexpr int kAggFields[] = {kEventTime, kE, kAggId, kPrice, kQty, kFirst, kLast, kTime, kMaker};
  static constexpr int kKlineFields[] = {kEventTime, kE, kKline};
  std::span<const int> required = kind == StreamEventKind::kTrade      ? std::span<const int>(kTradeFields)
                                  : kind == StreamEventKind::kAggTrade ? std::span<const int>(kAggFields)
                                                                       : std::span<const int>(kKlineFields);
  static_assert(std::size(kNames) == kCount);
  for (int f : required) {
    if (!seen.has(f)) return field_error(kNames[f], f == kKline ? "must be an object" : "is missing");
  }
  if (kind == StreamEventKind::kTrade) {
    if (t.symbol != symbol) t.symbol = symbol;
    if (!multiply_decimals(t.price.view(), t.quantity.view(), quote) || !t.quote_quantity.assign(quote)) {
      return field_error("p", "times 'q' does not fit a decimal");
    }
  } else if (kind == StreamEventKind::kAggTrade) {
    if (a.symbol != symbol) a.symbol = symbol;
  }
  return Status::ok();
}

Status StreamEventParser::Impl::kline(od::object& k, StreamEvent& out) {
  static constexpr std::string_view kNames[] = {"t", "T", "o", "h", "l", "c", "v", "n", "q", "V", "Q", "x"};
  protocol::Kline& c = out.kline;
  if (c.symbol != symbol) c.symbol = symbol;
  if (c.interval != interval) c.interval = interval;
  Seen seen;
  for (auto field : k) {
    od::field f;
    if (auto e = std::move(field).get(f)) return json_error(e);
    const std::string_view key = raw_key(f);
    od::value& v = f.value();
    if (key.size() != 1) continue;
    switch (key[0]) {
      case 't':
        SF_RETURN_IF_ERROR(get_int(v, "t", c.open_time));
        seen.set(0);
        break;
      case 'T':
        SF_RETURN_IF_ERROR(get_int(v, "T", c.close_time));
        seen.set(1);
        break;
      case 'o':
        SF_RETURN_IF_ERROR(get_decimal(v, "o", c.open));
        seen.set(2);
        break;
      case 'h':
        SF_RETURN_IF_ERROR(get_decimal(v, "h", c.high));
        seen.set(3);
        break;
      case 'l':
        SF_RETURN_IF_ERROR(get_decimal(v, "l", c.low));
        seen.set(4);
        break;
      case 'c':
        SF_RETURN_IF_ERROR(get_decimal(v, "c", c.close));
        seen.set(5);
        break;
      case 'v':
        SF_RETURN_IF_ERROR(get_decimal(v, "v", c.volume));
        seen.set(6);
        break;
      case 'n':
        SF_RETURN_IF_ERROR(get_int(v, "n", c.number_of_trades));
        seen.set(7);
        break;
      case 'q':
        SF_RETURN_IF_ERROR(get_decimal(v, "q", c.quote_asset_volume));
        seen.set(8);
        break;
      case 'V':
        SF_RETURN_IF_ERROR(get_decimal(v, "V", c.taker_buy_base_asset_volume));
        seen.set(9);
        break;
      case 'Q':
        SF_RETURN_IF_ERROR(get_decimal(v, "Q", c.taker_buy_quote_asset_volume));
        seen.set(10);
        break;
      case 'x':
        SF_RETURN_IF_ERROR(get_bool(v, "x", out.kline_closed));
        seen.set(11);
        break;
      default:
        break;
    }
  }
  for (int f = 0; f < static_cast<int>(std::size(kNames)); ++f) {
    if (!seen.has(f)) return field_error(kNames[f], "is missing");
  }
  return Status::ok();
}

Status StreamEventParser::parse(std::string_view frame, StreamEvent& out) {
  Impl& m = *impl_;
  // On Demand reads up to SIMDJSON_PADDING bytes past the end: the frame goes into a reused padded buffer.
  m.buffer.resize(frame.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(m.buffer.data(), frame.data(), frame.size());
  od::document doc;
  if (auto e = m.parser.iterate(m.buffer.data(), frame.size(), m.buffer.size()).get(doc))
    return json_error(e);
  od::object root;
  if (doc.get_object().get(root)) return Status::invalid_argument("stream event: not a JSON object");
  // A combined-stream envelope {"stream":..,"data":{..}}, or the payload itself.
  constexpr std::string_view kEnvelope = "{\"stream\":";
  if (frame.starts_with(kEnvelope)) {
    bool found = false;
    for (auto field : root) {
      od::field f;
      if (auto e = std::move(field).get(f)) return json_error(e);
      const std::string_view key = raw_key(f);
      od::value& v = f.value();
      if (key != "data") continue;
      od::object data;
      if (v.get_object().get(data)) return field_error("data", "must be an object");
      SF_RETURN_IF_ERROR(m.event(data, out));
      found = true;
    }
    if (!found) return field_error("data", "is missing");
  } else {
    SF_RETURN_IF_ERROR(m.event(root, out));
  }
  // Every object was iterated to its closing brace, so a truncated frame has failed above.
  return Status::ok();
}

}  // namespace sf::services::loaders
