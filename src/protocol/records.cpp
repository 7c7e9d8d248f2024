// Record parsing (simdjson On Demand) and stored-document writing (direct character writes, no JSON
// library). Both are hot paths: no allocation per record, and a Status is only built on an error.
#include "protocol/records.h"

#include <array>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <simdjson.h>

namespace sf::protocol {

namespace detail {
struct DecimalAccess {
  // `p` points at `n` valid decimal characters followed by at least Decimal::kMaxSize readable bytes.
  static void set_padded(Decimal& d, const char* p, std::size_t n) {
    std::memcpy(d.data_, p, Decimal::kMaxSize);  // fixed size: a few vector moves; bytes past n are unused
    d.size_ = static_cast<unsigned char>(n);
  }
};
}  // namespace detail

namespace {

namespace od = simdjson::ondemand;

bool is_digit(char c) {
  return static_cast<unsigned char>(c - '0') < 10;
}

// The length of the plain decimal that starts at `p` and ends right before a '"', or 0 when the text up
// to the first character that cannot belong to a decimal is not one (or is longer than Decimal::kMaxSize).
std::size_t scan_quoted_decimal(const char* p) {
  const char* start = p;
  if (*p == '-') ++p;
  const char* digits = p;
  while (is_digit(*p)) ++p;
  if (p == digits) return 0;
  if (*p == '.') {
    const char* frac = ++p;
    while (is_digit(*p)) ++p;
    if (p == frac) return 0;
  }
  if (*p != '"') return 0;
  auto n = static_cast<std::size_t>(p - start);
  return n <= Decimal::kMaxSize ? n : 0;
}

// ---------------------------------------------------------------------------------------------------
// Writing: each document is written through a raw pointer into a buffer known to be large enough.

constexpr std::size_t kMaxIntChars = 20;  // "-9223372036854775808"

class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  char* end() const { return p_; }

  template <std::size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void integer(int64_t v) { p_ = std::to_chars(p_, p_ + kMaxIntChars, v).ptr; }
  // Writes the integer twice, formatting it once (a document's `_key` repeats its id or open time).
  void integer_key(int64_t v, std::string_view between) {
    char* first = p_;
    integer(v);
    auto n = static_cast<std::size_t>(p_ - first);
    std::memcpy(p_, between.data(), between.size());
    p_ += between.size();
    std::memcpy(p_, first, n);
    p_ += n;
  }
  void boolean(bool v) {
    if (v) {
      lit("true");
    } else {
      lit("false");
    }
  }
  void decimal(const Decimal& d) {
    std::string_view v = d.view();
    *p_++ = '"';
    std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
    *p_++ = '"';
  }
  // A JSON string literal; at most 6 * s.size() + 2 characters. Bytes >= 0x80 pass through unchanged.
  void string(std::string_view s) {
    *p_++ = '"';
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c != '"' && c != '\\') {
        *p_++ = ch;
        continue;
      }
      *p_++ = '\\';
      switch (c) {
        case '"':
          *p_++ = '"';
          break;
        case '\\':
          *p_++ = '\\';
          break;
        case '\n':
          *p_++ = 'n';
          break;
        case '\r':
          *p_++ = 'r';
          break;
        case '\t':
          *p_++ = 't';
          break;
        case '\b':
          *p_++ = 'b';
          break;
        case '\f':
          *p_++ = 'f';
          break;
        default: {
          static constexpr char kHex[] = "0123456789abcdef";
          lit("u00");
          *p_++ = kHex[c >> 4];
          *p_++ = kHex[c & 0xF];
        }
      }
    }
    *p_++ = '"';
  }
  void optional_us(std::string_view field, const std::optional<int64_t>& us) {
    if (!us) return;
    *p_++ = ',';
    *p_++ = '"';
    std::memcpy(p_, field.data(), field.size());
    p_ += field.size();
    *p_++ = '"';
    *p_++ = ':';
    integer(*us);
  }

 private:
  char* p_;
};

// Runs write(Writer&) on a buffer of at least `bound` bytes and appends the result to `out`: a stack
// buffer for the usual sizes, otherwise space made directly at the end of `out`.
template <typename Write>
void append_bounded(std::string& out, std::size_t bound, Write&& write) {
  char stack[2048];
  if (bound <= sizeof stack) {
    Writer w(stack);
    write(w);
    out.append(stack, static_cast<std::size_t>(w.end() - stack));
    return;
  }
  std::size_t base = out.size();
  out.resize(base + bound);
  Writer w(out.data() + base);
  write(w);
  out.resize(static_cast<std::size_t>(w.end() - out.data()));
}

// Generous fixed parts of each document (field names, punctuation, numbers, decimals, `*_us` fields);
// strings are added per call at their worst-case escaped size.
constexpr std::size_t kDecimalChars = Decimal::kMaxSize + 2;
constexpr std::size_t kKlineBound = 420 + 8 * kDecimalChars + 6 * kMaxIntChars;
constexpr std::size_t kTradeBound = 220 + 3 * kDecimalChars + 4 * kMaxIntChars;
constexpr std::size_t kAggTradeBound = 260 + 2 * kDecimalChars + 7 * kMaxIntChars;
std::size_t escaped_bound(std::string_view s) {
  return 6 * s.size() + 2;
}

// ---------------------------------------------------------------------------------------------------
// Reading. Readers return false and fill `err` on failure, so the success path builds no Status.

constexpr int64_t kMicrosThreshold = 100'000'000'000'000;  // 10^14, see TimeUnit::kAuto

void set_time(int64_t raw, TimeUnit unit, int64_t& ms, std::optional<int64_t>& us) {
  bool micros = unit == TimeUnit::kMicroseconds || (unit == TimeUnit::kAuto && raw >= kMicrosThreshold);
  if (!micros) {
    ms = raw;
    us.reset();
    return;
  }
  int64_t q = raw / 1000;
  if (raw % 1000 < 0) --q;  // floor for (unlikely) negative values
  ms = q;
  us = raw;
}

std::string_view json_type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "?";
}

// Where a value sits, for error messages: "klines[3]: field 'open' (index 1)" / "kline document: field
// 'open'".
struct Where {
  std::string_view context;
  int64_t element = -1;  // index in a response array, -1 for a single document
  std::string_view field;
  int position = -1;  // index within a kline row, -1 for object fields
  ErrorCode code = ErrorCode::kInvalidArgument;
};

std::string prefix(const Where& w) {
  std::string out(w.context);
  if (w.element >= 0) fmt::format_to(std::back_inserter(out), "[{}]", w.element);
  if (w.field.empty()) {
    out += ':';
    return out;
  }
  fmt::format_to(std::back_inserter(out), ": field '{}'", w.field);
  if (w.position >= 0) fmt::format_to(std::back_inserter(out), " (index {})", w.position);
  return out;
}

bool fail(const Where& w, std::string_view what, Status& err) {
  err = Status(w.code, fmt::format("{} {}", prefix(w), what));
  return false;
}

std::string quote(std::string_view text) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  constexpr std::size_t kMax = 48;
  if (text.size() > kMax) return fmt::format("{}...", text.substr(0, kMax));
  return std::string(text);
}

bool json_error(const Where& w, simdjson::error_code e, Status& err) {
  return fail(w, fmt::format("invalid JSON: {}", simdjson::error_message(e)), err);
}

// "must be <want>, got number 1.5" (or the simdjson error when the JSON itself is broken).
bool wrong(od::value& v, const Where& w, std::string_view want, simdjson::error_code e, Status& err) {
  if (e != simdjson::INCORRECT_TYPE && e != simdjson::NUMBER_ERROR && e != simdjson::NUMBER_OUT_OF_RANGE) {
    return json_error(w, e, err);
  }
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return fail(w, fmt::format("must be {}", want), err);
  if (t == od::json_type::array || t == od::json_type::object) {
    return fail(w, fmt::format("must be {}, got {}", want, json_type_name(t)), err);
  }
  return fail(w, fmt::format("must be {}, got {} {}", want, json_type_name(t), quote(v.raw_json_token())),
              err);
}

bool read_int(od::value& v, const Where& w, int64_t& out, Status& err) {
  auto e = v.get_int64().get(out);
  return e == simdjson::SUCCESS || wrong(v, w, "an integer", e, err);
}

bool read_time(od::value& v, const Where& w, TimeUnit unit, int64_t& ms, std::optional<int64_t>& us,
               Status& err) {
  int64_t raw = 0;
  if (!read_int(v, w, raw, err)) return false;
  set_time(raw, unit, ms, us);
  return true;
}

bool read_us(od::value& v, const Where& w, std::optional<int64_t>& out, Status& err) {
  int64_t raw = 0;
  if (!read_int(v, w, raw, err)) return false;
  out = raw;
  return true;
}

bool read_bool(od::value& v, const Where& w, bool& out, Status& err) {
  auto e = v.get_bool().get(out);
  return e == simdjson::SUCCESS || wrong(v, w, "a boolean", e, err);
}

bool read_string(od::value& v, const Where& w, std::string_view& out, Status& err) {
  auto e = v.get_string().get(out);
  return e == simdjson::SUCCESS || wrong(v, w, "a string", e, err);
}

bool read_owned_string(od::value& v, const Where& w, std::string& out, Status& err) {
  std::string_view s;
  if (!read_string(v, w, s, err)) return false;
  out.assign(s);
  return true;
}

// Validates the raw characters between the quotes in place: no unescaping copy. A string with escapes
// is never a plain decimal, so it is rejected like any other non-decimal text.
bool read_decimal(od::value& v, const Where& w, Decimal& out, Status& err) {
  od::raw_json_string raw;
  auto e = v.get_raw_json_string().get(raw);
  if (e != simdjson::SUCCESS) return wrong(v, w, "a decimal string", e, err);
  const char* p = raw.raw();
  std::size_t n = scan_quoted_decimal(p);
  if (n == 0) {
    std::string_view token = v.raw_json_token();  // with its quotes and any trailing whitespace
    while (!token.empty() && token.back() != '"') token.remove_suffix(1);
    if (token.size() >= 2) token = token.substr(1, token.size() - 2);
    return fail(w, fmt::format("is not a plain decimal: '{}'", quote(token)), err);
  }
  detail::DecimalAccess::set_padded(out, p, n);
  return true;
}

// An object key without unescaping. A key with escapes matches none of our plain names, as it should.
std::string_view raw_key(od::field& field) {
  const char* p = field.key().raw();
  const char* q = p;
  while (*q != '"') ++q;  // the document is structurally valid, so a closing quote follows
  return {p, static_cast<std::size_t>(q - p)};
}

template <std::size_t N>
int find_name(const std::array<std::string_view, N>& names, std::string_view key) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == key) return static_cast<int>(i);
  }
  return -1;
}

template <std::size_t N>
bool check_all_seen(uint32_t seen, const std::array<std::string_view, N>& names, Where w,
                    uint32_t optional_mask, Status& err) {
  for (std::size_t i = 0; i < N; ++i) {
    if ((optional_mask & (1u << i)) == 0 && (seen & (1u << i)) == 0) {
      w.field = names[i];
      return fail(w, "is missing", err);
    }
  }
  return true;
}

bool get_object(od::value& value, const Where& w, od::object& obj, Status& err) {
  auto e = value.get_object().get(obj);
  return e == simdjson::SUCCESS || wrong(value, w, "an object", e, err);
}

// Calls on_field(index in names, value, where) for every known key; unknown keys are skipped.
template <std::size_t N, typename OnField>
bool for_each_field(od::object& obj, const std::array<std::string_view, N>& names, Where w, uint32_t& seen,
                    Status& err, OnField&& on_field) {
  static_assert(N <= 32, "seen is a 32-bit mask");
  seen = 0;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field); e != simdjson::SUCCESS) return json_error(w, e, err);
    int idx = find_name(names, raw_key(field));
    if (idx < 0) continue;
    w.field = names[static_cast<std::size_t>(idx)];
    if (!on_field(idx, field.value(), w)) return false;
    seen |= 1u << idx;
  }
  return true;
}

// --- exchange responses ---

bool parse_kline_row(od::value& value, Where w, TimeUnit unit, Kline& k, Status& err) {
  od::array row;
  if (auto e = value.get_array().get(row); e != simdjson::SUCCESS) return wrong(value, w, "an array", e, err);
  int j = 0;
  for (auto element : row) {
    od::value v;
    if (auto e = element.get(v); e != simdjson::SUCCESS) return json_error(w, e, err);
    if (j < 12) {
      w.field = kKlineColumnNames[static_cast<std::size_t>(j)];
      w.position = j;
    }
    bool ok = true;
    switch (j) {
      case 0:
        ok = read_time(v, w, unit, k.open_time, k.open_time_us, err);
        break;
      case 1:
        ok = read_decimal(v, w, k.open, err);
        break;
      case 2:
        ok = read_decimal(v, w, k.high, err);
        break;
      case 3:
        ok = read_decimal(v, w, k.low, err);
        break;
      case 4:
        ok = read_decimal(v, w, k.close, err);
        break;
      case 5:
        ok = read_decimal(v, w, k.volume, err);
        break;
      case 6:
        ok = read_time(v, w, unit, k.close_time, k.close_time_us, err);
        break;
      case 7:
        ok = read_decimal(v, w, k.quote_asset_volume, err);
        break;
      case 8:
        ok = read_int(v, w, k.number_of_trades, err);
        break;
      case 9:
        ok = read_decimal(v, w, k.taker_buy_base_asset_volume, err);
        break;
      case 10:
        ok = read_decimal(v, w, k.taker_buy_quote_asset_volume, err);
        break;
      default:
        break;  // 11: "ignore"; more elements are counted and rejected below
    }
    if (!ok) return false;
    ++j;
  }
  if (j != 12) {
    w.field = {};
    w.position = -1;
    return fail(w, fmt::format("expected 12 elements, got {}", j), err);
  }
  return true;
}

constexpr std::array<std::string_view, 7> kTradeRestNames = {"id",   "price",        "qty",        "quoteQty",
                                                             "time", "isBuyerMaker", "isBestMatch"};

bool parse_trade_object(od::value& value, const Where& w, TimeUnit unit, Trade& t, Status& err) {
  od::object obj;
  if (!get_object(value, w, obj, err)) return false;
  uint32_t seen = 0;
  bool ok = for_each_field(obj, kTradeRestNames, w, seen, err, [&](int idx, od::value& v, const Where& fw) {
    switch (idx) {
      case 0:
        return read_int(v, fw, t.trade_id, err);
      case 1:
        return read_decimal(v, fw, t.price, err);
      case 2:
        return read_decimal(v, fw, t.quantity, err);
      case 3:
        return read_decimal(v, fw, t.quote_quantity, err);
      case 4:
        return read_time(v, fw, unit, t.trade_time, t.trade_time_us, err);
      case 5:
        return read_bool(v, fw, t.is_buyer_maker, err);
      default:
        return read_bool(v, fw, t.is_best_match, err);
    }
  });
  return ok && check_all_seen(seen, kTradeRestNames, w, 0, err);
}

constexpr std::array<std::string_view, 8> kAggTradeRestNames = {"a", "p", "q", "f", "l", "T", "m", "M"};

bool parse_agg_trade_object(od::value& value, const Where& w, TimeUnit unit, AggTrade& t, Status& err) {
  od::object obj;
  if (!get_object(value, w, obj, err)) return false;
  uint32_t seen = 0;
  bool ok =
      for_each_field(obj, kAggTradeRestNames, w, seen, err, [&](int idx, od::value& v, const Where& fw) {
        switch (idx) {
          case 0:
            return read_int(v, fw, t.agg_trade_id, err);
          case 1:
            return read_decimal(v, fw, t.price, err);
          case 2:
            return read_decimal(v, fw, t.quantity, err);
          case 3:
            return read_int(v, fw, t.first_trade_id, err);
          case 4:
            return read_int(v, fw, t.last_trade_id, err);
          case 5:
            return read_time(v, fw, unit, t.trade_time, t.trade_time_us, err);
          case 6:
            return read_bool(v, fw, t.is_buyer_maker, err);
          default:
            return read_bool(v, fw, t.is_best_match, err);
        }
      });
  return ok && check_all_seen(seen, kAggTradeRestNames, w, 0, err);
}

// --- stored documents: `_key` is index 0 and optional, and so are the `*_us` fields ---

constexpr std::array<std::string_view, 16> kKlineDocNames = {"_key",
                                                             "open_time",
                                                             "open",
                                                             "high",
                                                             "low",
                                                             "close",
                                                             "volume",
                                                             "close_time",
                                                             "quote_asset_volume",
                                                             "number_of_trades",
                                                             "taker_buy_base_asset_volume",
                                                             "taker_buy_quote_asset_volume",
                                                             "symbol",
                                                             "interval",
                                                             "open_time_us",
                                                             "close_time_us"};
constexpr uint32_t kKlineDocOptional = 1u << 0 | 1u << 14 | 1u << 15;

constexpr std::array<std::string_view, 10> kTradeDocNames = {
    "_key",           "symbol",     "trade_id",       "price",         "quantity",
    "quote_quantity", "trade_time", "is_buyer_maker", "is_best_match", "trade_time_us"};
constexpr uint32_t kTradeDocOptional = 1u << 0 | 1u << 9;

constexpr std::array<std::string_view, 11> kAggTradeDocNames = {
    "_key",          "symbol",     "agg_trade_id",   "price",         "quantity",     "first_trade_id",
    "last_trade_id", "trade_time", "is_buyer_maker", "is_best_match", "trade_time_us"};
constexpr uint32_t kAggTradeDocOptional = 1u << 0 | 1u << 10;

// Compares a document's `_key` with the record's key.
bool check_key(std::string_view key, int64_t expected, Where w, Status& err) {
  char buf[kMaxIntChars];
  char* end = std::to_chars(buf, buf + sizeof buf, expected).ptr;
  if (key == std::string_view(buf, static_cast<std::size_t>(end - buf))) return true;
  w.field = "_key";
  return fail(w, fmt::format("is '{}' but the record's key is {}", quote(key), expected), err);
}

Status to_status(bool ok, Status& err) {
  return ok ? Status::ok() : std::move(err);
}

}  // namespace

// -----------------------------------------------------------------------------------------------------
// Decimal

bool Decimal::is_valid(std::string_view text) {
  if (text.empty() || text.size() > kMaxSize) return false;
  std::size_t i = 0;
  if (text[0] == '-') ++i;
  std::size_t int_start = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == int_start) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  std::size_t frac_start = ++i;
  while (i < text.size() && is_digit(text[i])) ++i;
  return i > frac_start && i == text.size();
}

Result<Decimal> Decimal::parse(std::string_view text) {
  Decimal d;
  if (!d.assign(text)) {
    return Status::invalid_argument(fmt::format(
        "'{}' is not a plain decimal (optional '-', digits, optional '.digits', at most {} characters)",
        quote(text), kMaxSize));
  }
  return d;
}

bool Decimal::assign(std::string_view text) {
  if (!is_valid(text)) return false;
  std::memcpy(data_, text.data(), text.size());
  size_ = static_cast<unsigned char>(text.size());
  return true;
}

double Decimal::to_double() const {
  double v = 0;
  std::from_chars(data_, data_ + size_, v);
  return v;
}

// -----------------------------------------------------------------------------------------------------
// Keys and documents

void append_key(const Kline& k, std::string& out) {
  char buf[kMaxIntChars];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, k.open_time).ptr);
}
void append_key(const Trade& t, std::string& out) {
  char buf[kMaxIntChars];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, t.trade_id).ptr);
}
void append_key(const AggTrade& t, std::string& out) {
  char buf[kMaxIntChars];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, t.agg_trade_id).ptr);
}

std::string record_key(const Kline& k) {
  std::string out;
  append_key(k, out);
  return out;
}
std::string record_key(const Trade& t) {
  std::string out;
  append_key(t, out);
  return out;
}
std::string record_key(const AggTrade& t) {
  std::string out;
  append_key(t, out);
  return out;
}

void append_document(const Kline& k, std::string& out) {
  append_bounded(out, kKlineBound + escaped_bound(k.symbol) + escaped_bound(k.interval), [&](Writer& w) {
    w.lit("{\"_key\":\"");
    w.integer_key(k.open_time, "\",\"open_time\":");
    w.lit(",\"open\":");
    w.decimal(k.open);
    w.lit(",\"high\":");
    w.decimal(k.high);
    w.lit(",\"low\":");
    w.decimal(k.low);
    w.lit(",\"close\":");
    w.decimal(k.close);
    w.lit(",\"volume\":");
    w.decimal(k.volume);
    w.lit(",\"close_time\":");
    w.integer(k.close_time);
    w.lit(",\"quote_asset_volume\":");
    w.decimal(k.quote_asset_volume);
    w.lit(",\"number_of_trades\":");
    w.integer(k.number_of_trades);
    w.lit(",\"taker_buy_base_asset_volume\":");
    w.decimal(k.taker_buy_base_asset_volume);
    w.lit(",\"taker_buy_quote_asset_volume\":");
    w.decimal(k.taker_buy_quote_asset_volume);
    w.lit(",\"symbol\":");
    w.string(k.symbol);
    w.lit(",\"interval\":");
    w.string(k.interval);
    w.optional_us("open_time_us", k.open_time_us);
    w.optional_us("close_time_us", k.close_time_us);
    w.lit("}");
  });
}

void append_document(const Trade& t, std::string& out) {
  append_bounded(out, kTradeBound + escaped_bound(t.symbol), [&](Writer& w) {
    w.lit("{\"_key\":\"");
    w.integer(t.trade_id);
    w.lit("\",\"symbol\":");
    w.string(t.symbol);
    w.lit(",\"trade_id\":");
    w.integer(t.trade_id);
    w.lit(",\"price\":");
    w.decimal(t.price);
    w.lit(",\"quantity\":");
    w.decimal(t.quantity);
    w.lit(",\"quote_quantity\":");
    w.decimal(t.quote_quantity);
    w.lit(",\"trade_time\":");
    w.integer(t.trade_time);
    w.lit(",\"is_buyer_maker\":");
    w.boolean(t.is_buyer_maker);
    w.lit(",\"is_best_match\":");
    w.boolean(t.is_best_match);
    w.optional_us("trade_time_us", t.trade_time_us);
    w.lit("}");
  });
}

void append_document(const AggTrade& t, std::string& out) {
  append_bounded(out, kAggTradeBound + escaped_bound(t.symbol), [&](Writer& w) {
    w.lit("{\"_key\":\"");
    w.integer(t.agg_trade_id);
    w.lit("\",\"symbol\":");
    w.string(t.symbol);
    w.lit(",\"agg_trade_id\":");
    w.integer(t.agg_trade_id);
    w.lit(",\"price\":");
    w.decimal(t.price);
    w.lit(",\"quantity\":");
    w.decimal(t.quantity);
    w.lit(",\"first_trade_id\":");
    w.integer(t.first_trade_id);
    w.lit(",\"last_trade_id\":");
    w.integer(t.last_trade_id);
    w.lit(",\"trade_time\":");
    w.integer(t.trade_time);
    w.lit(",\"is_buyer_maker\":");
    w.boolean(t.is_buyer_maker);
    w.lit(",\"is_best_match\":");
    w.boolean(t.is_best_match);
    w.optional_us("trade_time_us", t.trade_time_us);
    w.lit("}");
  });
}

// -----------------------------------------------------------------------------------------------------
// RecordParser

struct RecordParser::Impl {
  od::parser parser;
  // The input is copied here with SIMDJSON_PADDING readable bytes after it. The padding also covers the
  // fixed-size copy in DecimalAccess::set_padded (kMaxSize < SIMDJSON_PADDING).
  std::string buffer;
  od::document doc;
  Status err;

  static_assert(Decimal::kMaxSize < simdjson::SIMDJSON_PADDING);

  simdjson::padded_string_view pad(std::string_view text) {
    if (buffer.size() < text.size() + simdjson::SIMDJSON_PADDING) {
      buffer.resize(text.size() + simdjson::SIMDJSON_PADDING);
    }
    if (!text.empty()) std::memcpy(buffer.data(), text.data(), text.size());
    std::memset(buffer.data() + text.size(), ' ', simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(buffer.data(), text.size(), buffer.size());
  }

  bool start(std::string_view text, const Where& w) {
    auto e = parser.iterate(pad(text)).get(doc);
    return e == simdjson::SUCCESS || json_error(w, e, err);
  }

  // Nothing but whitespace may follow the value just consumed.
  bool finish(const Where& w) {
    const char* at = nullptr;
    if (doc.current_location().get(at) != simdjson::SUCCESS) return true;  // at the end
    return fail(w, fmt::format("unexpected content after the JSON value: '{}'", quote(at)), err);
  }

  // The body is an object: Binance's {"code":-1121,"msg":"Invalid symbol."}, or something else.
  bool exchange_error(const Where& w) {
    od::object obj;
    if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) return json_error(w, e, err);
    int64_t code = 0;
    std::string msg;
    bool has_code = false;
    for (auto field_result : obj) {
      od::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) break;
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
      if (key == "code") {
        has_code = field.value().get_int64().get(code) == simdjson::SUCCESS;
      } else if (key == "msg") {
        std::string_view m;
        if (field.value().get_string().get(m) == simdjson::SUCCESS) msg.assign(m);
      }
    }
    if (!has_code) return fail(w, "expected a JSON array, got object", err);
    return fail(w, fmt::format("the exchange answered with error {}: {}", code, msg), err);
  }

  // Iterates a response array, calling parse_one(value, where, record) with a record from `out` (reused
  // when it exists). `out` ends with exactly the records parsed successfully.
  template <typename Record, typename ParseOne>
  Status parse_array(std::string_view body, std::string_view context, std::vector<Record>& out,
                     ParseOne&& parse_one) {
    Where w{context};
    std::size_t n = 0;
    bool ok = [&] {
      if (!start(body, w)) return false;
      od::json_type type;
      if (auto e = doc.type().get(type); e != simdjson::SUCCESS) return json_error(w, e, err);
      if (type == od::json_type::object) return exchange_error(w);
      if (type != od::json_type::array) {
        return fail(w, fmt::format("expected a JSON array, got {}", json_type_name(type)), err);
      }
      od::array array;
      if (auto e = doc.get_array().get(array); e != simdjson::SUCCESS) return json_error(w, e, err);
      for (auto element : array) {
        Where ew = w;
        ew.element = static_cast<int64_t>(n);
        od::value v;
        if (auto e = element.get(v); e != simdjson::SUCCESS) return json_error(ew, e, err);
        Record& record = n < out.size() ? out[n] : out.emplace_back();
        if (!parse_one(v, ew, record)) return false;
        ++n;
      }
      return finish(w);
    }();
    out.resize(n);
    return to_status(ok, err);
  }

  template <std::size_t N, typename OnField>
  bool parse_doc(std::string_view text, const Where& w, const std::array<std::string_view, N>& names,
                 uint32_t optional_mask, OnField&& on_field) {
    if (!start(text, w)) return false;
    od::json_type type;
    if (auto e = doc.type().get(type); e != simdjson::SUCCESS) return json_error(w, e, err);
    if (type != od::json_type::object) {
      return fail(w, fmt::format("expected a JSON object, got {}", json_type_name(type)), err);
    }
    od::object obj;
    if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS) return json_error(w, e, err);
    uint32_t seen = 0;
    return for_each_field(obj, names, w, seen, err, on_field) &&
           check_all_seen(seen, names, w, optional_mask, err) && finish(w);
  }
};

RecordParser::RecordParser() : impl_(std::make_unique<Impl>()) {}
RecordParser::~RecordParser() = default;
RecordParser::RecordParser(RecordParser&&) noexcept = default;
RecordParser& RecordParser::operator=(RecordParser&&) noexcept = default;

Status RecordParser::parse_klines(std::string_view body, std::string_view symbol, std::string_view interval,
                                  std::vector<Kline>& out, TimeUnit unit) {
  Status& err = impl_->err;
  return impl_->parse_array(body, "klines", out, [&](od::value& v, const Where& w, Kline& k) {
    if (!parse_kline_row(v, w, unit, k, err)) return false;
    k.symbol.assign(symbol);
    k.interval.assign(interval);
    return true;
  });
}

Status RecordParser::parse_trades(std::string_view body, std::string_view symbol, std::vector<Trade>& out,
                                  TimeUnit unit) {
  Status& err = impl_->err;
  return impl_->parse_array(body, "trades", out, [&](od::value& v, const Where& w, Trade& t) {
    if (!parse_trade_object(v, w, unit, t, err)) return false;
    t.symbol.assign(symbol);
    return true;
  });
}

Status RecordParser::parse_agg_trades(std::string_view body, std::string_view symbol,
                                      std::vector<AggTrade>& out, TimeUnit unit) {
  Status& err = impl_->err;
  return impl_->parse_array(body, "aggTrades", out, [&](od::value& v, const Where& w, AggTrade& t) {
    if (!parse_agg_trade_object(v, w, unit, t, err)) return false;
    t.symbol.assign(symbol);
    return true;
  });
}

Status RecordParser::parse_document(std::string_view text, Kline& k) {
  Status& err = impl_->err;
  const Where w{"kline document", -1, {}, -1, ErrorCode::kCorruption};
  std::string_view key;
  bool has_key = false;
  k.open_time_us.reset();
  k.close_time_us.reset();
  auto on_field = [&](int idx, od::value& v, const Where& fw) {
    switch (idx) {
      case 0:
        has_key = true;
        return read_string(v, fw, key, err);
      case 1:
        return read_int(v, fw, k.open_time, err);
      case 2:
        return read_decimal(v, fw, k.open, err);
      case 3:
        return read_decimal(v, fw, k.high, err);
      case 4:
        return read_decimal(v, fw, k.low, err);
      case 5:
        return read_decimal(v, fw, k.close, err);
      case 6:
        return read_decimal(v, fw, k.volume, err);
      case 7:
        return read_int(v, fw, k.close_time, err);
      case 8:
        return read_decimal(v, fw, k.quote_asset_volume, err);
      case 9:
        return read_int(v, fw, k.number_of_trades, err);
      case 10:
        return read_decimal(v, fw, k.taker_buy_base_asset_volume, err);
      case 11:
        return read_decimal(v, fw, k.taker_buy_quote_asset_volume, err);
      case 12:
        return read_owned_string(v, fw, k.symbol, err);
      case 13:
        return read_owned_string(v, fw, k.interval, err);
      case 14:
        return read_us(v, fw, k.open_time_us, err);
      default:
        return read_us(v, fw, k.close_time_us, err);
    }
  };
  bool ok = impl_->parse_doc(text, w, kKlineDocNames, kKlineDocOptional, on_field);
  return to_status(ok && (!has_key || check_key(key, k.open_time, w, err)), err);
}

Status RecordParser::parse_document(std::string_view text, Trade& t) {
  Status& err = impl_->err;
  const Where w{"trade document", -1, {}, -1, ErrorCode::kCorruption};
  std::string_view key;
  bool has_key = false;
  t.trade_time_us.reset();
  auto on_field = [&](int idx, od::value& v, const Where& fw) {
    switch (idx) {
      case 0:
        has_key = true;
        return read_string(v, fw, key, err);
      case 1:
        return read_owned_string(v, fw, t.symbol, err);
      case 2:
        return read_int(v, fw, t.trade_id, err);
      case 3:
        return read_decimal(v, fw, t.price, err);
      case 4:
        return read_decimal(v, fw, t.quantity, err);
      case 5:
        return read_decimal(v, fw, t.quote_quantity, err);
      case 6:
        return read_int(v, fw, t.trade_time, err);
      case 7:
        return read_bool(v, fw, t.is_buyer_maker, err);
      case 8:
        return read_bool(v, fw, t.is_best_match, err);
      default:
        return read_us(v, fw, t.trade_time_us, err);
    }
  };
  bool ok = impl_->parse_doc(text, w, kTradeDocNames, kTradeDocOptional, on_field);
  return to_status(ok && (!has_key || check_key(key, t.trade_id, w, err)), err);
}

Status RecordParser::parse_document(std::string_view text, AggTrade& t) {
  Status& err = impl_->err;
  const Where w{"aggregate trade document", -1, {}, -1, ErrorCode::kCorruption};
  std::string_view key;
  bool has_key = false;
  t.trade_time_us.reset();
  auto on_field = [&](int idx, od::value& v, const Where& fw) {
    switch (idx) {
      case 0:
        has_key = true;
        return read_string(v, fw, key, err);
      case 1:
        return read_owned_string(v, fw, t.symbol, err);
      case 2:
        return read_int(v, fw, t.agg_trade_id, err);
      case 3:
        return read_decimal(v, fw, t.price, err);
      case 4:
        return read_decimal(v, fw, t.quantity, err);
      case 5:
        return read_int(v, fw, t.first_trade_id, err);
      case 6:
        return read_int(v, fw, t.last_trade_id, err);
      case 7:
        return read_int(v, fw, t.trade_time, err);
      case 8:
        return read_bool(v, fw, t.is_buyer_maker, err);
      case 9:
        return read_bool(v, fw, t.is_best_match, err);
      default:
        return read_us(v, fw, t.trade_time_us, err);
    }
  };
  bool ok = impl_->parse_doc(text, w, kAggTradeDocNames, kAggTradeDocOptional, on_field);
  return to_status(ok && (!has_key || check_key(key, t.agg_trade_id, w, err)), err);
}

}  // namespace sf::protocol
