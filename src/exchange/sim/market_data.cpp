// The deterministic generator: day nodes from multi-scale noise, exact top-down splits, trades per second.
#include "exchange/sim/market_data.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "core/splitmix64.h"

namespace sf::exchange::sim {
namespace {

constexpr int64_t kPow10[] = {1,
                              10,
                              100,
                              1000,
                              10000,
                              100000,
                              1000000,
                              10000000,
                              100000000,
                              1000000000,
                              10000000000LL,
                              100000000000LL,
                              1000000000000LL,
                              10000000000000LL,
                              100000000000000LL,
                              1000000000000000LL,
                              10000000000000000LL,
                              100000000000000000LL,
                              1000000000000000000LL};

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// A tiny deterministic generator (splitmix64). The same seed gives the same sequence everywhere.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() { return splitmix64_mix(state += kSplitMix64Increment); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Irwin-Hall(4) rescaled to mean 0, variance 1: close enough to normal and free of transcendental
  // functions (bit-identical on every IEEE-754 machine).
  double normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508075688772; }
  // A positive multiplicative noise around 1.
  double positive(double strength) { return std::max(0.02, 1.0 + strength * normal()); }
};

enum Tag : uint64_t { kTagDay = 1, kTagHours, kTagMinutes, kTagSeconds, kTagEvents, kTagPrice };

uint64_t node_seed(uint64_t symbol_seed, uint64_t tag, int64_t key) {
  return splitmix64_mix(symbol_seed ^ splitmix64_mix(tag * 0x100000001b3ULL ^
                                                    (static_cast<uint64_t>(key) * kSplitMix64Increment)));
}

// Smooth value noise in [-1, 1] with unit lattice spacing.
double value_noise(uint64_t seed, double x) {
  double fl = std::floor(x);
  auto i = static_cast<int64_t>(fl);
  double f = x - fl;
  double s = f * f * (3 - 2 * f);
  auto lattice = [seed](int64_t k) {
    const uint64_t h = splitmix64_mix(seed ^ (static_cast<uint64_t>(k) * 0xd1342543de82ef95ULL));
    return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
  };
  double a = lattice(i), b = lattice(i + 1);
  return a + (b - a) * s;
}

// One node of the hierarchy. Within a day every amount fits in int64.
struct Bar {
  int64_t open = 0, high = 0, low = 0, close = 0;  // ticks
  int64_t volume = 0;                              // steps
  int64_t quote = 0;                               // 10^-8 quote units
  int64_t trades = 0;
  int64_t aggs = 0;
  int64_t taker_base = 0;   // steps
  int64_t taker_quote = 0;  // 10^-8 quote units
};

Bar flat_bar(int64_t price) {
  Bar b;
  b.open = b.high = b.low = b.close = price;
  return b;
}

constexpr int kMaxChildren = 60;

// Splits `total` into parts proportional to `w` (exactly: the parts sum to `total`). Children with zero
// weight get zero; rounding remainders go to the last child with positive weight.
void split_int(int64_t total, const double* w, int k, int64_t* out) {
  std::fill(out, out + k, 0);
  if (total <= 0) return;
  long double sum = 0;
  int last = -1;
  for (int i = 0; i < k; ++i) {
    if (w[i] > 0) {
      sum += w[i];
      last = i;
    }
  }
  if (last < 0) {
    out[0] = total;  // callers never get here; keep the total rather than losing it
    return;
  }
  long double acc = 0;
  int64_t prev = 0;
  for (int i = 0; i < last; ++i) {
    if (w[i] > 0) acc += w[i];
    auto cum = static_cast<int64_t>(std::floor(static_cast<long double>(total) * acc / sum));
    cum = std::clamp(cum, prev, total);
    out[i] = cum - prev;
    prev = cum;
  }
  out[last] = total - prev;
}

// As split_int, then moves whatever exceeds a child's cap to children with room (sum(cap) >= total).
void split_capped(int64_t total, const double* w, const int64_t* cap, int k, int64_t* out) {
  split_int(total, w, k, out);
  int64_t excess = 0;
  for (int i = 0; i < k; ++i) {
    if (out[i] > cap[i]) {
      excess += out[i] - cap[i];
      out[i] = cap[i];
    }
  }
  for (int i = 0; i < k && excess > 0; ++i) {
    int64_t take = std::min(cap[i] - out[i], excess);
    out[i] += take;
    excess -= take;
  }
}

// Intraday activity (UTC): busiest around 14:00-15:00 (Europe + US overlap), quietest around 02:00.
const std::array<double, 24> kHourWeights = [] {
  std::array<double, 24> w{};
  for (int h = 0; h < 24; ++h) w[h] = 1.0 + 0.35 * std::cos(2 * 3.14159265358979323846 * (h - 14.5) / 24.0);
  return w;
}();

// Accumulates nodes into a candle.
struct Acc {
  bool any = false;
  Kline k;
  void add(const Bar& b) {
    if (!any) {
      k.open = b.open;
      k.high = b.high;
      k.low = b.low;
      any = true;
    } else {
      k.high = std::max(k.high, b.high);
      k.low = std::min(k.low, b.low);
    }
    k.close = b.close;
    k.volume += b.volume;
    k.quote_volume += b.quote;
    k.trades += b.trades;
    k.taker_buy_base += b.taker_base;
    k.taker_buy_quote += b.taker_quote;
  }
};

struct Event {
  int64_t time = 0;
  int64_t price = 0;
  int64_t qty = 0;
  int64_t first_trade = 0;  // index of its first trade within the second
  int64_t ntrades = 0;
  bool buyer_maker = false;
};

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_frac8(std::string& out, int64_t frac) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  out.append(buf, 8);
}

}  // namespace

void append_decimal(std::string& out, int64_t units, int decimals) {
  if (units < 0) {
    out += '-';
    units = -units;
  }
  int64_t scale = kPow10[decimals];
  append_int(out, units / scale);
  out += '.';
  int64_t frac = units % scale;
  append_frac8(out, decimals <= 8 ? frac * kPow10[8 - decimals] : frac / kPow10[decimals - 8]);
}

void append_quote(std::string& out, QuoteUnits units) {
  if (units < 0) {
    out += '-';
    units = -units;
  }
  append_int(out, static_cast<int64_t>(units / 100000000));
  out += '.';
  append_frac8(out, static_cast<int64_t>(units % 100000000));
}

std::string quote_text(QuoteUnits units) {
  std::string s;
  append_quote(s, units);
  return s;
}

// ---------------------------------------------------------------------------------------------------

struct SymbolMarket::Impl {
  explicit Impl(SymbolSpec s) : spec(std::move(s)) {
    tick = std::pow(10.0, -spec.tick_decimals);
    ln_base_ticks = std::log(spec.base_price / tick);
    avg_trade_steps = spec.volume_per_day / spec.trades_per_day * std::pow(10.0, spec.step_decimals);
    quote_scale = std::pow(10.0L, 8 - spec.tick_decimals - spec.step_decimals);
    listing_ms = spec.listing_ms();
  }

  SymbolSpec spec;
  double tick = 0.01;
  double ln_base_ticks = 0;
  double avg_trade_steps = 1;
  long double quote_scale = 1;  // quote units per (tick x step)
  int64_t listing_ms = 0;

  mutable std::mutex mu;                          // guards the prefix tables
  mutable std::vector<int64_t> prefix_trades{0};  // [k] = trades of days listing_day .. listing_day+k-1
  mutable std::vector<int64_t> prefix_aggs{0};

  // ---- day nodes ----

  // Price (ticks) at 00:00 UTC of day `d`: a long-term trend through the base price (mid-2024) plus
  // multi-scale smooth noise on the log-price.
  int64_t day_open(int64_t d) const {
    static constexpr int64_t kReferenceDay = 19875;  // 2024-06-01
    static constexpr struct {
      double period;
      double amplitude;  // in units of the daily volatility
    } kScales[] = {{1, 1.0}, {3, 1.2}, {10, 2.0}, {30, 3.5}, {100, 6.0}, {365, 9.0}, {1000, 12.0}};
    double x = ln_base_ticks + spec.growth_per_year * static_cast<double>(d - kReferenceDay) / 365.25;
    uint64_t seed = node_seed(spec.seed, kTagPrice, 0);
    for (const auto& s : kScales) {
      x += spec.daily_volatility * s.amplitude *
           value_noise(seed ^ static_cast<uint64_t>(s.period), d / s.period);
    }
    return std::max<int64_t>(1, std::llround(std::exp(x)));
  }

  Bar day_bar(int64_t d) const {
    Rng r(node_seed(spec.seed, kTagDay, d));
    Bar b;
    b.open = day_open(d);
    b.close = day_open(d + 1);
    double vol = spec.daily_volatility;
    double up = vol * (0.15 + 0.6 * std::abs(r.normal()));
    double down = vol * (0.15 + 0.6 * std::abs(r.normal()));
    b.high = static_cast<int64_t>(std::ceil(static_cast<double>(std::max(b.open, b.close)) * (1 + up)));
    b.low = std::max<int64_t>(
        1, static_cast<int64_t>(std::floor(static_cast<double>(std::min(b.open, b.close)) * (1 - down))));
    b.low = std::min(b.low, std::min(b.open, b.close));

    // Activity: slow regimes, weekends quieter, big moves busier, a burst after the listing.
    double move = std::abs(std::log(static_cast<double>(b.close) / static_cast<double>(b.open))) / vol;
    int weekday = static_cast<int>(((d % 7) + 7 + 3) % 7);  // 0 = Monday (1970-01-01 was a Thursday)
    double activity = std::exp(0.35 * value_noise(node_seed(spec.seed, kTagDay, -1), d / 45.0)) *
                      (weekday >= 5 ? 0.75 : 1.0) * (0.8 + 0.35 * std::min(move, 3.0)) * r.positive(0.12) *
                      (1.0 + 2.0 * std::exp(-static_cast<double>(d - spec.listing_day) / 3.0));
    b.trades = std::max<int64_t>(3, std::llround(spec.trades_per_day * activity));
    b.aggs = std::clamp<int64_t>(std::llround(static_cast<double>(b.trades) * (0.35 + 0.3 * r.uniform())), 3,
                                 b.trades);
    b.volume = std::max<int64_t>(
        b.trades, std::llround(static_cast<double>(b.trades) * avg_trade_steps * r.positive(0.15)));
    long double vwap = (static_cast<long double>(b.open) + b.high + b.low + b.close) / 4;
    long double quote = static_cast<long double>(b.volume) * vwap * quote_scale;
    b.quote = static_cast<int64_t>(std::min<long double>(std::llroundl(quote), 4e18L));
    b.quote = std::max<int64_t>(b.quote, b.volume > 0 ? 1 : 0);
    double taker = 0.42 + 0.16 * r.uniform();
    b.taker_base = std::min<int64_t>(b.volume, std::llround(static_cast<double>(b.volume) * taker));
    b.taker_quote =
        std::min<int64_t>(b.quote, static_cast<int64_t>(static_cast<long double>(b.quote) * b.taker_base /
                                                        b.volume * (0.995L + 0.01L * r.uniform())));
    return b;
  }

  // ---- the split ----

  // Splits `p` into `k` children (see the header for the invariants this keeps). `sigma` is the relative
  // volatility of the parent's whole span; `base_w` the activity profile (nullptr: flat).
  void split(const Bar& p, int k, const double* base_w, double weight_noise, double sigma, uint64_t seed,
             Bar* out) const {
    if (p.aggs == 0) {
      for (int i = 0; i < k; ++i) out[i] = flat_bar(p.open);
      return;
    }
    Rng r(seed);
    double w[kMaxChildren];
    int64_t a[kMaxChildren], n[kMaxChildren], v[kMaxChildren], q[kMaxChildren], tb[kMaxChildren],
        tq[kMaxChildren], cap[kMaxChildren];

    for (int i = 0; i < k; ++i) w[i] = (base_w ? base_w[i] : 1.0) * r.positive(weight_noise);
    split_int(p.aggs, w, k, a);
    for (int i = 0; i < k; ++i) w[i] = a[i] > 0 ? static_cast<double>(a[i]) * r.positive(0.3) : 0.0;
    split_int(p.trades - p.aggs, w, k, n);
    for (int i = 0; i < k; ++i) n[i] += a[i];
    for (int i = 0; i < k; ++i) w[i] = n[i] > 0 ? static_cast<double>(n[i]) * r.positive(0.4) : 0.0;
    split_int(p.volume - p.trades, w, k, v);
    for (int i = 0; i < k; ++i) v[i] += n[i];

    // Price path: a Brownian bridge from open to close over the children that trade; a child without
    // trades keeps the price flat. A child's close is a trade price (its last trade).
    int last = -1;
    for (int i = 0; i < k; ++i) {
      if (a[i] > 0) last = i;
    }
    double ref = static_cast<double>(p.open);
    double walk[kMaxChildren], cumvar[kMaxChildren], sd[kMaxChildren];
    double wsum = 0, vsum = 0;
    for (int i = 0; i < k; ++i) {
      sd[i] = 0;
      if (a[i] > 0) {
        sd[i] = sigma * ref * std::sqrt(static_cast<double>(a[i]) / static_cast<double>(p.aggs));
        wsum += sd[i] * r.normal();
        vsum += sd[i] * sd[i];
      }
      walk[i] = wsum;
      cumvar[i] = vsum;
    }
    // Anchors are points the path must pass: the open (index -1), the close (after `last`), and possibly
    // the parent's high/low at a child's close. Between anchors the walk is bridged.
    int anchor_idx[4] = {-1, last, 0, 0};
    int64_t anchor_val[4] = {p.open, p.close, 0, 0};
    int anchors = 2;
    int64_t closes[kMaxChildren];
    bool pinned[kMaxChildren] = {};
    pinned[last] = true;
    auto solve = [&] {
      for (int i = 0; i < k; ++i) {
        if (a[i] == 0) continue;
        int s = -1, e = last;
        int64_t ps = p.open, pe = p.close;
        bool exact = false;
        for (int j = 0; j < anchors; ++j) {
          int idx = anchor_idx[j];
          if (idx == i) {
            closes[i] = anchor_val[j];
            exact = true;
          } else if (idx < i && idx >= s) {
            s = idx;
            ps = anchor_val[j];
          } else if (idx > i && idx <= e) {
            e = idx;
            pe = anchor_val[j];
          }
        }
        if (exact) continue;
        double ws = s < 0 ? 0 : walk[s], cs = s < 0 ? 0 : cumvar[s];
        double span = cumvar[e] - cs;
        double frac =
            span > 0 ? (cumvar[i] - cs) / span : static_cast<double>(i - s) / static_cast<double>(e - s);
        double x =
            static_cast<double>(ps) + (walk[i] - ws) - ((walk[e] - ws) - static_cast<double>(pe - ps)) * frac;
        closes[i] = std::clamp<int64_t>(std::llround(x), p.low, p.high);
      }
    };
    int64_t pts[kMaxChildren + 1];
    auto trace = [&] {
      pts[0] = p.open;
      for (int i = 0; i < k; ++i) pts[i + 1] = a[i] > 0 ? closes[i] : pts[i];
    };
    solve();
    trace();
    for (int i = 0; i < k; ++i) cap[i] = a[i] > 0 ? a[i] - 1 : 0;

    // Place the parent's extremes. A small gap becomes a wick in the child nearest to it (paid with a
    // spare trade); a larger one pins a child's close to the extreme so the path travels there.
    int host_high = -1, host_low = -1;
    auto place = [&](bool high) {
      int64_t extreme = high ? p.high : p.low;
      int64_t seen = high ? *std::max_element(pts, pts + k + 1) : *std::min_element(pts, pts + k + 1);
      if (seen == extreme) {
        // Reached naturally: anchor that close so that re-solving for the other extreme keeps it (the
        // parent's open and close are fixed anyway, and anchoring needlessly would use up a free close).
        if (extreme == p.open || extreme == p.close) return;
        for (int i = 0; i < k; ++i) {
          if (a[i] > 0 && closes[i] == extreme) {
            if (!pinned[i]) {
              pinned[i] = true;
              anchor_idx[anchors] = i;
              anchor_val[anchors] = extreme;
              ++anchors;
            }
            break;
          }
        }
        return;
      }
      int wick = -1, pin = -1;
      int64_t wick_val = 0, pin_val = 0;
      for (int i = 0; i < k; ++i) {
        if (cap[i] >= 1) {
          int64_t val = high ? std::max(pts[i], pts[i + 1]) : -std::min(pts[i], pts[i + 1]);
          if (wick < 0 || val > wick_val) {
            wick = i;
            wick_val = val;
          }
        }
        if (a[i] > 0 && !pinned[i]) {
          int64_t val = high ? closes[i] : -closes[i];
          if (pin < 0 || val > pin_val) {
            pin = i;
            pin_val = val;
          }
        }
      }
      double gap = 0;
      if (wick >= 0) gap = static_cast<double>(high ? extreme - wick_val : -wick_val - extreme);
      bool small = wick >= 0 && gap <= 1.5 * sd[wick];
      if (wick >= 0 && (small || pin < 0)) {
        --cap[wick];
        (high ? host_high : host_low) = wick;
        return;
      }
      pinned[pin] = true;
      anchor_idx[anchors] = pin;
      anchor_val[anchors] = extreme;
      ++anchors;
      solve();
      trace();
    };
    place(true);
    place(false);

    for (int i = 0; i < k; ++i) {
      Bar& c = out[i];
      c.open = pts[i];
      c.close = pts[i + 1];
      c.high = std::max(c.open, c.close);
      c.low = std::min(c.open, c.close);
      if (host_high == i) c.high = p.high;
      if (host_low == i) c.low = p.low;
      if (a[i] > 0) {
        // Natural wicks, paid for with spare trades and kept inside the parent's range.
        if (cap[i] >= 1) {
          int64_t hi = std::min<int64_t>(p.high, c.high + std::llround(0.5 * sd[i] * std::abs(r.normal())));
          if (hi > c.high) {
            c.high = hi;
            --cap[i];
          }
        }
        if (cap[i] >= 1) {
          int64_t lo = std::max<int64_t>(p.low, c.low - std::llround(0.5 * sd[i] * std::abs(r.normal())));
          if (lo < c.low) {
            c.low = lo;
            --cap[i];
          }
        }
      }
      c.aggs = a[i];
      c.trades = n[i];
      c.volume = v[i];
    }

    for (int i = 0; i < k; ++i) {
      const Bar& c = out[i];
      w[i] = static_cast<double>(v[i]) * (static_cast<double>(c.open + c.high + c.low + c.close) / 4.0);
    }
    split_int(p.quote, w, k, q);
    for (int i = 0; i < k; ++i) w[i] = v[i] > 0 ? static_cast<double>(v[i]) * r.positive(0.25) : 0.0;
    split_capped(p.taker_base, w, v, k, tb);
    for (int i = 0; i < k; ++i) {
      w[i] = v[i] > 0
                 ? static_cast<double>(q[i]) * (static_cast<double>(tb[i]) + 0.5) / static_cast<double>(v[i])
                 : 0.0;
    }
    split_capped(p.taker_quote, w, q, k, tq);
    for (int i = 0; i < k; ++i) {
      out[i].quote = q[i];
      out[i].taker_base = tb[i];
      out[i].taker_quote = tq[i];
    }
  }

  // ---- per-day prefix sums of trade counts (the only memo; extended under the mutex) ----

  void ensure_prefix(int64_t days) const {
    // Caller holds `mu`. After this, prefix_*[days] exists.
    while (static_cast<int64_t>(prefix_trades.size()) <= days) {
      int64_t k = static_cast<int64_t>(prefix_trades.size()) - 1;
      Bar b = day_bar(spec.listing_day + k);
      prefix_trades.push_back(prefix_trades.back() + b.trades);
      prefix_aggs.push_back(prefix_aggs.back() + b.aggs);
    }
  }
  int64_t prefix(int64_t days, bool aggs) const {
    std::lock_guard lk(mu);
    ensure_prefix(days);
    return aggs ? prefix_aggs[days] : prefix_trades[days];
  }
  // The day (index from the listing) holding the id-th trade/agg; needs prefix up to `days_limit`.
  int64_t day_of_id(int64_t id, bool aggs, int64_t days_limit) const {
    std::lock_guard lk(mu);
    ensure_prefix(days_limit);
    const auto& pre = aggs ? prefix_aggs : prefix_trades;
    auto it = std::upper_bound(pre.begin(), pre.begin() + days_limit + 1, id);
    return static_cast<int64_t>(it - pre.begin()) - 1;
  }

  // ---- trades inside a second ----

  void events(const Bar& sb, int64_t second, std::vector<Event>& ev, std::vector<int64_t>& trade_qty) const {
    ev.clear();
    trade_qty.clear();
    const int64_t na = sb.aggs, nt = sb.trades;
    if (na == 0) return;
    Rng r(node_seed(spec.seed, kTagEvents, second));
    ev.resize(static_cast<size_t>(na));
    int64_t start = second * 1000;
    for (auto& e : ev) e.time = start + static_cast<int64_t>(r.next() % 1000);
    std::sort(ev.begin(), ev.end(), [](const Event& x, const Event& y) { return x.time < y.time; });

    bool need_high = sb.high > std::max(sb.open, sb.close);
    bool need_low = sb.low < std::min(sb.open, sb.close);
    int64_t host_high = -1, host_low = -1;
    if (need_high) host_high = static_cast<int64_t>(r.next() % static_cast<uint64_t>(na - 1));
    if (need_low) {
      do {
        host_low = static_cast<int64_t>(r.next() % static_cast<uint64_t>(na - 1));
      } while (host_low == host_high);
    }
    double range = static_cast<double>(sb.high - sb.low);
    for (int64_t j = 0; j < na; ++j) {
      int64_t price;
      if (j == na - 1) {
        price = sb.close;
      } else if (j == host_high) {
        price = sb.high;
      } else if (j == host_low) {
        price = sb.low;
      } else {
        double x =
            static_cast<double>(sb.open) +
            static_cast<double>(sb.close - sb.open) * static_cast<double>(j + 1) / static_cast<double>(na) +
            0.25 * range * r.normal();
        price = std::clamp<int64_t>(std::llround(x), sb.low, sb.high);
      }
      ev[static_cast<size_t>(j)].price = price;
    }

    std::vector<double> w(static_cast<size_t>(std::max(na, nt)));
    std::vector<int64_t> parts(w.size());
    for (int64_t j = 0; j < na; ++j) w[static_cast<size_t>(j)] = r.positive(0.8);
    split_int(nt - na, w.data(), static_cast<int>(na), parts.data());
    int64_t first = 0;
    int64_t prev_price = sb.open;
    for (int64_t j = 0; j < na; ++j) {
      Event& e = ev[static_cast<size_t>(j)];
      e.ntrades = 1 + parts[static_cast<size_t>(j)];
      e.first_trade = first;
      first += e.ntrades;
      e.buyer_maker = e.price < prev_price ? true : e.price > prev_price ? false : (r.next() & 1) != 0;
      prev_price = e.price;
    }
    for (int64_t t = 0; t < nt; ++t) {
      double z = r.normal();
      w[static_cast<size_t>(t)] = 0.15 + z * z;  // a few large trades among many small ones
    }
    trade_qty.resize(static_cast<size_t>(nt));
    split_int(sb.volume - nt, w.data(), static_cast<int>(nt), trade_qty.data());
    for (auto& qty : trade_qty) qty += 1;
    for (auto& e : ev) {
      e.qty = 0;
      for (int64_t t = e.first_trade; t < e.first_trade + e.ntrades; ++t)
        e.qty += trade_qty[static_cast<size_t>(t)];
    }
  }
};

namespace {

// Per-call cache of the current day/hour/minute splits: sequential access costs one split per parent.
class Cursor {
 public:
  explicit Cursor(const SymbolMarket::Impl& m) : m_(m) {}

  const Bar& day(int64_t d) {
    if (d != day_key_) {
      day_ = m_.day_bar(d);
      day_key_ = d;
      hours_ok_ = false;
    }
    return day_;
  }
  const Bar* hours(int64_t d) {
    day(d);
    if (!hours_ok_) {
      m_.split(day_, 24, kHourWeights.data(), 0.15, m_.spec.daily_volatility,
               node_seed(m_.spec.seed, kTagHours, d), hours_);
      hours_ok_ = true;
    }
    return hours_;
  }
  const Bar* minutes(int64_t hour_key) {
    if (hour_key != hour_key_) {
      int64_t d = floor_div(hour_key, 24);
      const Bar& h = hours(d)[hour_key - d * 24];
      m_.split(h, 60, nullptr, 0.35, m_.spec.daily_volatility / std::sqrt(24.0),
               node_seed(m_.spec.seed, kTagMinutes, hour_key), minutes_);
      hour_key_ = hour_key;
    }
    return minutes_;
  }
  const Bar* seconds(int64_t minute_key) {
    if (minute_key != minute_key_) {
      int64_t hk = floor_div(minute_key, 60);
      const Bar& mb = minutes(hk)[minute_key - hk * 60];
      m_.split(mb, 60, nullptr, 1.0, m_.spec.daily_volatility / std::sqrt(1440.0),
               node_seed(m_.spec.seed, kTagSeconds, minute_key), seconds_);
      minute_key_ = minute_key;
    }
    return seconds_;
  }
  const Bar& hour(int64_t hour_key) {
    int64_t d = floor_div(hour_key, 24);
    return hours(d)[hour_key - d * 24];
  }
  const Bar& minute(int64_t minute_key) {
    int64_t hk = floor_div(minute_key, 60);
    return minutes(hk)[minute_key - hk * 60];
  }
  const Bar& second(int64_t second_key) {
    int64_t mk = floor_div(second_key, 60);
    return seconds(mk)[second_key - mk * 60];
  }

  // Aggregates [a, b) (second-aligned, listing <= a < b) from the largest whole nodes.
  Kline aggregate(int64_t a, int64_t b) {
    Acc acc;
    int64_t t = a;
    while (t < b) {
      if (t % kDayMs == 0 && t + kDayMs <= b) {
        acc.add(day(t / kDayMs));
        t += kDayMs;
      } else if (t % kHourMs == 0 && t + kHourMs <= b) {
        acc.add(hour(t / kHourMs));
        t += kHourMs;
      } else if (t % kMinuteMs == 0 && t + kMinuteMs <= b) {
        acc.add(minute(t / kMinuteMs));
        t += kMinuteMs;
      } else {
        acc.add(second(t / kSecondMs));
        t += kSecondMs;
      }
    }
    return acc.k;
  }

  // Trades (or aggregate trades) in whole seconds before the second-aligned time t (t >= listing).
  int64_t count_before(int64_t t, bool aggs) {
    auto pick = [aggs](const Bar& b) { return aggs ? b.aggs : b.trades; };
    int64_t d = floor_div(t, kDayMs);
    int64_t total = m_.prefix(d - m_.spec.listing_day, aggs);
    int64_t rem = t - d * kDayMs;
    if (rem == 0) return total;
    const Bar* hs = hours(d);
    int64_t h = rem / kHourMs;
    for (int64_t i = 0; i < h; ++i) total += pick(hs[i]);
    rem -= h * kHourMs;
    if (rem == 0) return total;
    const Bar* ms = minutes(d * 24 + h);
    int64_t mi = rem / kMinuteMs;
    for (int64_t i = 0; i < mi; ++i) total += pick(ms[i]);
    rem -= mi * kMinuteMs;
    if (rem == 0) return total;
    const Bar* ss = seconds((d * 24 + h) * 60 + mi);
    int64_t s = rem / kSecondMs;
    for (int64_t i = 0; i < s; ++i) total += pick(ss[i]);
    return total;
  }

  // The second holding the id-th trade/agg (id < count at `horizon_day`), and the id's offset in it.
  int64_t locate(int64_t id, bool aggs, int64_t days_limit, int64_t& offset) {
    auto pick = [aggs](const Bar& b) { return aggs ? b.aggs : b.trades; };
    int64_t k = m_.day_of_id(id, aggs, days_limit);
    int64_t d = m_.spec.listing_day + k;
    int64_t rem = id - m_.prefix(k, aggs);
    const Bar* hs = hours(d);
    int64_t h = 0;
    while (h < 23 && rem >= pick(hs[h])) rem -= pick(hs[h++]);
    const Bar* ms = minutes(d * 24 + h);
    int64_t mi = 0;
    while (mi < 59 && rem >= pick(ms[mi])) rem -= pick(ms[mi++]);
    int64_t mk = (d * 24 + h) * 60 + mi;
    const Bar* ss = seconds(mk);
    int64_t s = 0;
    while (s < 59 && rem >= pick(ss[s])) rem -= pick(ss[s++]);
    offset = rem;
    return mk * 60 + s;
  }

  // The next second at or after `s` with activity, skipping idle minutes and hours wholesale.
  int64_t next_active(int64_t s) {
    for (;;) {
      if (s % 3600 == 0 && hour(s / 3600).trades == 0) {
        s += 3600;
        continue;
      }
      if (s % 60 == 0 && minute(s / 60).trades == 0) {
        s += 60;
        continue;
      }
      if (second(s).trades > 0) return s;
      ++s;
    }
  }

 private:
  const SymbolMarket::Impl& m_;
  int64_t day_key_ = std::numeric_limits<int64_t>::min();
  Bar day_;
  bool hours_ok_ = false;
  Bar hours_[24];
  int64_t hour_key_ = std::numeric_limits<int64_t>::min();
  Bar minutes_[60];
  int64_t minute_key_ = std::numeric_limits<int64_t>::min();
  Bar seconds_[60];
};

int64_t horizon(int64_t now_ms) {
  return floor_div(now_ms, kSecondMs) * kSecondMs;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

SymbolMarket::SymbolMarket(SymbolSpec spec) : impl_(std::make_unique<Impl>(std::move(spec))) {}
SymbolMarket::~SymbolMarket() = default;

const SymbolSpec& SymbolMarket::spec() const {
  return impl_->spec;
}

namespace {

Kline make_kline(Cursor& c, const SymbolMarket::Impl& m, Interval iv, int64_t open_time, int64_t horizon_ms) {
  int64_t next = interval_next(iv, open_time);
  int64_t a = std::max(open_time, m.listing_ms);
  int64_t b = std::min(next, horizon_ms);
  Kline k;
  if (a < b) {
    k = c.aggregate(a, b);
  } else {
    const Bar& s = c.second(a / kSecondMs);  // nothing visible yet: flat at the current price
    k.open = k.high = k.low = k.close = s.open;
  }
  k.open_time = open_time;
  k.close_time = next - 1;
  return k;
}

}  // namespace

std::vector<Kline> SymbolMarket::klines(const KlineQuery& q, int64_t now_ms) const {
  const Impl& m = *impl_;
  std::vector<Kline> out;
  if (q.limit <= 0 || now_ms < m.listing_ms) return out;
  Interval iv = q.interval;
  int64_t lo = interval_floor(iv, m.listing_ms);
  int64_t hi = interval_floor(iv, now_ms);
  if (q.start_time) {
    int64_t f = interval_floor(iv, std::max(*q.start_time, lo));
    if (f < *q.start_time) f = interval_next(iv, f);
    lo = std::max(lo, f);
  }
  if (q.end_time) hi = std::min(hi, interval_floor(iv, std::max(*q.end_time, lo - 1)));
  if (lo > hi) return out;
  int64_t begin = lo;
  if (!q.start_time) {
    int64_t len = interval_fixed_ms(iv);
    if (len > 0) {
      begin = std::max(lo, hi - static_cast<int64_t>(q.limit - 1) * len);
    } else {
      begin = hi;
      for (int i = 1; i < q.limit && begin > lo; ++i) begin = interval_prev(iv, begin);
      begin = std::max(begin, lo);
    }
  }
  Cursor c(m);
  int64_t hz = horizon(now_ms);
  out.reserve(static_cast<size_t>(std::min(q.limit, 1000)));
  for (int64_t o = begin; o <= hi && static_cast<int>(out.size()) < q.limit; o = interval_next(iv, o)) {
    out.push_back(make_kline(c, m, iv, o, hz));
  }
  return out;
}

std::optional<Kline> SymbolMarket::kline_at(Interval interval, int64_t open_time, int64_t now_ms) const {
  const Impl& m = *impl_;
  if (interval_floor(interval, open_time) != open_time) return std::nullopt;
  if (open_time > now_ms || interval_next(interval, open_time) <= m.listing_ms || now_ms < m.listing_ms) {
    return std::nullopt;
  }
  Cursor c(m);
  return make_kline(c, m, interval, open_time, horizon(now_ms));
}

int64_t SymbolMarket::trades_before(int64_t t, int64_t now_ms) const {
  const Impl& m = *impl_;
  int64_t hz = horizon(now_ms);
  if (t <= m.listing_ms || hz <= m.listing_ms) return 0;
  Cursor c(m);
  if (t >= hz) return c.count_before(hz, false);
  int64_t s = floor_div(t, kSecondMs);
  int64_t total = c.count_before(s * kSecondMs, false);
  if (s * kSecondMs < t) {
    std::vector<Event> ev;
    std::vector<int64_t> qty;
    m.events(c.second(s), s, ev, qty);
    for (const auto& e : ev) {
      if (e.time < t) total += e.ntrades;
    }
  }
  return total;
}

int64_t SymbolMarket::agg_trades_before(int64_t t, int64_t now_ms) const {
  const Impl& m = *impl_;
  int64_t hz = horizon(now_ms);
  if (t <= m.listing_ms || hz <= m.listing_ms) return 0;
  Cursor c(m);
  if (t >= hz) return c.count_before(hz, true);
  int64_t s = floor_div(t, kSecondMs);
  int64_t total = c.count_before(s * kSecondMs, true);
  if (s * kSecondMs < t) {
    std::vector<Event> ev;
    std::vector<int64_t> qty;
    m.events(c.second(s), s, ev, qty);
    for (const auto& e : ev) {
      if (e.time < t) ++total;
    }
  }
  return total;
}

int64_t SymbolMarket::trade_count(int64_t now_ms) const {
  return trades_before(horizon(now_ms), now_ms);
}
int64_t SymbolMarket::agg_trade_count(int64_t now_ms) const {
  return agg_trades_before(horizon(now_ms), now_ms);
}

std::optional<int64_t> SymbolMarket::trade_time(int64_t id, int64_t now_ms) const {
  auto t = trades_from_id(id, 1, now_ms);
  if (t.empty()) return std::nullopt;
  return t.front().time;
}

std::vector<Trade> SymbolMarket::trades_from_id(int64_t from_id, int limit, int64_t now_ms) const {
  const Impl& m = *impl_;
  std::vector<Trade> out;
  from_id = std::max<int64_t>(from_id, 0);
  int64_t total = trade_count(now_ms);
  if (limit <= 0 || from_id >= total) return out;
  int64_t end = std::min(total, from_id + limit);
  out.reserve(static_cast<size_t>(end - from_id));
  Cursor c(m);
  int64_t days_limit = floor_div(horizon(now_ms), kDayMs) - m.spec.listing_day + 1;
  int64_t offset = 0;
  int64_t s = c.locate(from_id, false, days_limit, offset);
  int64_t id = from_id - offset;
  std::vector<Event> ev;
  std::vector<int64_t> qty;
  while (id < end) {
    m.events(c.second(s), s, ev, qty);
    for (const auto& e : ev) {
      for (int64_t t = 0; t < e.ntrades; ++t, ++id) {
        if (id < from_id) continue;
        if (id >= end) break;
        out.push_back(Trade{id, e.time, e.price, qty[static_cast<size_t>(e.first_trade + t)], e.buyer_maker});
      }
    }
    if (id < end) s = c.next_active(s + 1);
  }
  return out;
}

std::vector<Trade> SymbolMarket::recent_trades(int limit, int64_t now_ms) const {
  int64_t total = trade_count(now_ms);
  return trades_from_id(std::max<int64_t>(0, total - limit), limit, now_ms);
}

std::vector<AggTrade> SymbolMarket::agg_trades_from_id(int64_t from_id, int limit, int64_t now_ms) const {
  const Impl& m = *impl_;
  std::vector<AggTrade> out;
  from_id = std::max<int64_t>(from_id, 0);
  int64_t total = agg_trade_count(now_ms);
  if (limit <= 0 || from_id >= total) return out;
  int64_t end = std::min(total, from_id + limit);
  out.reserve(static_cast<size_t>(end - from_id));
  Cursor c(m);
  int64_t days_limit = floor_div(horizon(now_ms), kDayMs) - m.spec.listing_day + 1;
  int64_t offset = 0;
  int64_t s = c.locate(from_id, true, days_limit, offset);
  int64_t id = from_id - offset;
  // The first trade id of the second: trades before it.
  int64_t trade_base = c.count_before(s * kSecondMs, false);
  std::vector<Event> ev;
  std::vector<int64_t> qty;
  while (id < end) {
    const Bar& sb = c.second(s);
    m.events(sb, s, ev, qty);
    for (const auto& e : ev) {
      if (id >= from_id && id < end) {
        out.push_back(AggTrade{id, e.time, e.price, e.qty, trade_base + e.first_trade,
                               trade_base + e.first_trade + e.ntrades - 1, e.buyer_maker});
      }
      ++id;
    }
    trade_base += sb.trades;
    if (id < end) {
      int64_t next = c.next_active(s + 1);
      // Skipped seconds have no trades, so trade_base stays right.
      s = next;
    }
  }
  return out;
}

std::vector<AggTrade> SymbolMarket::recent_agg_trades(int limit, int64_t now_ms) const {
  int64_t total = agg_trade_count(now_ms);
  return agg_trades_from_id(std::max<int64_t>(0, total - limit), limit, now_ms);
}

std::vector<AggTrade> SymbolMarket::agg_trades_between(std::optional<int64_t> start,
                                                       std::optional<int64_t> end, int limit,
                                                       int64_t now_ms) const {
  int64_t total = agg_trade_count(now_ms);
  int64_t lo = start ? agg_trades_before(*start, now_ms) : 0;
  int64_t hi = total;
  if (end && *end < std::numeric_limits<int64_t>::max())
    hi = std::min(hi, agg_trades_before(*end + 1, now_ms));
  if (limit <= 0 || lo >= hi) return {};
  if (start) return agg_trades_from_id(lo, static_cast<int>(std::min<int64_t>(limit, hi - lo)), now_ms);
  int64_t from = std::max(lo, hi - limit);
  return agg_trades_from_id(from, static_cast<int>(hi - from), now_ms);
}

std::string SymbolMarket::price_text(int64_t ticks) const {
  std::string s;
  append_decimal(s, ticks, impl_->spec.tick_decimals);
  return s;
}

std::string SymbolMarket::qty_text(int64_t steps) const {
  std::string s;
  append_decimal(s, steps, impl_->spec.step_decimals);
  return s;
}

void SymbolMarket::append_kline_json(std::string& out, const Kline& k) const {
  const int td = impl_->spec.tick_decimals, sd = impl_->spec.step_decimals;
  out += '[';
  append_int(out, k.open_time);
  out += ",\"";
  append_decimal(out, k.open, td);
  out += "\",\"";
  append_decimal(out, k.high, td);
  out += "\",\"";
  append_decimal(out, k.low, td);
  out += "\",\"";
  append_decimal(out, k.close, td);
  out += "\",\"";
  append_decimal(out, k.volume, sd);
  out += "\",";
  append_int(out, k.close_time);
  out += ",\"";
  append_quote(out, k.quote_volume);
  out += "\",";
  append_int(out, k.trades);
  out += ",\"";
  append_decimal(out, k.taker_buy_base, sd);
  out += "\",\"";
  append_quote(out, k.taker_buy_quote);
  out += "\",\"0\"]";
}

namespace {
// price x qty in quote units (10^-8), truncated when the product has more than 8 decimals.
QuoteUnits notional(int64_t price, int64_t qty, int td, int sd) {
  QuoteUnits p = static_cast<QuoteUnits>(price) * qty;
  int dec = td + sd;
  return dec <= 8 ? p * kPow10[8 - dec] : p / kPow10[dec - 8];
}
}  // namespace

void SymbolMarket::append_trade_json(std::string& out, const Trade& t) const {
  const int td = impl_->spec.tick_decimals, sd = impl_->spec.step_decimals;
  out += "{\"id\":";
  append_int(out, t.id);
  out += ",\"price\":\"";
  append_decimal(out, t.price, td);
  out += "\",\"qty\":\"";
  append_decimal(out, t.qty, sd);
  out += "\",\"quoteQty\":\"";
  append_quote(out, notional(t.price, t.qty, td, sd));
  out += "\",\"time\":";
  append_int(out, t.time);
  out += t.is_buyer_maker ? ",\"isBuyerMaker\":true" : ",\"isBuyerMaker\":false";
  out += ",\"isBestMatch\":true}";
}

void SymbolMarket::append_agg_trade_json(std::string& out, const AggTrade& a) const {
  const int td = impl_->spec.tick_decimals, sd = impl_->spec.step_decimals;
  out += "{\"a\":";
  append_int(out, a.id);
  out += ",\"p\":\"";
  append_decimal(out, a.price, td);
  out += "\",\"q\":\"";
  append_decimal(out, a.qty, sd);
  out += "\",\"f\":";
  append_int(out, a.first_trade_id);
  out += ",\"l\":";
  append_int(out, a.last_trade_id);
  out += ",\"T\":";
  append_int(out, a.time);
  out += a.is_buyer_maker ? ",\"m\":true" : ",\"m\":false";
  out += ",\"M\":true}";
}

namespace {
// A time of the dumps: milliseconds, or microseconds (`last_us`: the last microsecond of the millisecond).
void append_dump_time(std::string& out, int64_t ms, bool micros, bool last_us = false) {
  append_int(out, micros ? ms * 1000 + (last_us ? 999 : 0) : ms);
}
}  // namespace

void SymbolMarket::append_kline_csv(std::string& out, const Kline& k, bool micros) const {
  const int td = impl_->spec.tick_decimals, sd = impl_->spec.step_decimals;
  append_dump_time(out, k.open_time, micros);
  out += ',';
  append_decimal(out, k.open, td);
  out += ',';
  append_decimal(out, k.high, td);
  out += ',';
  append_decimal(out, k.low, td);
  out += ',';
  append_decimal(out, k.close, td);
  out += ',';
  append_decimal(out, k.volume, sd);
  out += ',';
  append_dump_time(out, k.close_time, micros, true);
  out += ',';
  append_quote(out, k.quote_volume);
  out += ',';
  append_int(out, k.trades);
  out += ',';
  append_decimal(out, k.taker_buy_base, sd);
  out += ',';
  append_quote(out, k.taker_buy_quote);
  out += ",0\n";
}

void SymbolMarket::append_trade_csv(std::string& out, const Trade& t, bool micros) const {
  const int td = impl_->spec.tick_decimals, sd = impl_->spec.step_decimals;
  append_int(out, t.id);
  out += ',';
  append_decimal(out, t.price, td);
  out += ',';
  append_decimal(out, t.qty, sd);
  out += ',';
  append_quote(out, notional(t.price, t.qty, td, sd));
  out += ',';
  append_dump_time(out, t.time, micros);
  out += t.is_buyer_maker ? ",True,True\n" : ",False,True\n";
}

void SymbolMarket::append_agg_trade_csv(std::string& out, const AggTrade& a, bool micros) const {
  const int td = impl_->spec.tick_decimals, sd = impl_->spec.step_decimals;
  append_int(out, a.id);
  out += ',';
  append_decimal(out, a.price, td);
  out += ',';
  append_decimal(out, a.qty, sd);
  out += ',';
  append_int(out, a.first_trade_id);
  out += ',';
  append_int(out, a.last_trade_id);
  out += ',';
  append_dump_time(out, a.time, micros);
  out += a.is_buyer_maker ? ",True,True\n" : ",False,True\n";
}

// ---------------------------------------------------------------------------------------------------

SimMarket::SimMarket(const SymbolTable& table) : table_(table) {
  for (const auto& spec : table.all()) markets_.push_back(std::make_unique<SymbolMarket>(spec));
}

SimMarket::~SimMarket() = default;

const SymbolMarket* SimMarket::find(std::string_view symbol) const {
  const SymbolSpec* spec = table_.find(symbol);
  if (spec == nullptr) return nullptr;
  return markets_[static_cast<size_t>(spec - table_.all().data())].get();
}

}  // namespace sf::exchange::sim
