// One graph snapshot from the candle grid: node features, masks, labels and correlation edges.
#include <algorithm>
#include <cmath>

#include "analytics/graph/graph.h"

namespace sf::analytics {
namespace {

bool present_at(const CandleSeries& s, int64_t slot) {
  return slot >= 0 && static_cast<size_t>(slot) < s.present.size() && s.present[static_cast<size_t>(slot)];
}

// Mean and population standard deviation of v over the present slots of [begin, end).
std::pair<double, double> mean_std(const CandleSeries& s, const std::vector<double>& v, int64_t begin,
                                   int64_t end) {
  double sum = 0, sum2 = 0;
  int n = 0;
  for (int64_t k = begin; k < end; ++k) {
    if (!present_at(s, k)) continue;
    const double x = v[static_cast<size_t>(k)];
    sum += x;
    sum2 += x * x;
    ++n;
  }
  if (n == 0) return {0, 0};
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sum2 / n - mean * mean))};
}

double z_score(double x, std::pair<double, double> mean_std) {
  // A constant window (std ~ 0) says "nothing unusual": z = 0, a real value rather than a division by zero.
  return mean_std.second > 1e-12 ? (x - mean_std.first) / mean_std.second : 0.0;
}

// Pearson correlation of the log returns of a and b over the slots both have in [begin, end); nullopt when
// fewer than `need` are shared or one side is constant.
std::optional<double> pairwise_correlation(const CandleSeries& a, const CandleSeries& b, int64_t begin,
                                           int64_t end, int need) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  int n = 0;
  for (int64_t k = begin; k < end; ++k) {
    if (!present_at(a, k) || !present_at(b, k)) continue;
    const double x = a.log_return[static_cast<size_t>(k)], y = b.log_return[static_cast<size_t>(k)];
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
    ++n;
  }
  if (n < need) return std::nullopt;
  const double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  if (va <= 1e-18 || vb <= 1e-18) return std::nullopt;
  return std::clamp(cov / std::sqrt(va * vb), -1.0, 1.0);
}

}  // namespace

void build_snapshot(const CandleGrid& grid, const GraphParams& params, TimestampMs t, Snapshot& out) {
  const size_t n = grid.series.size();
  const int64_t slot = (t - grid.start_ms) / grid.interval_ms;
  const int64_t begin = slot - params.window, end = slot;
  const int need = params.required_candles();
  out.time = t;
  out.nodes.assign(n, Node{});
  out.edges.clear();

  // Nodes whose whole window is present get a standardised return vector: their correlation is one dot
  // product. The others (gaps, late listings) fall back to the pairwise computation over shared candles.
  std::vector<double> standardized(n * static_cast<size_t>(params.window), 0.0);
  std::vector<uint8_t> full(n, 0);

  for (size_t i = 0; i < n; ++i) {
    const CandleSeries& s = grid.series[i];
    Node& node = out.nodes[i];
    int count = 0;
    double sum = 0, sum2 = 0;
    for (int64_t k = begin; k < end; ++k) {
      if (!present_at(s, k)) continue;
      const double r = s.log_return[static_cast<size_t>(k)];
      sum += r;
      sum2 += r * r;
      ++count;
    }
    node.window_candles = count;
    node.mask = count >= need && present_at(s, end - 1);
    if (node.mask) {
      const auto last = static_cast<size_t>(end - 1);
      node.features[0] = static_cast<float>(s.log_return[last]);
      node.features[1] = static_cast<float>(sum);
      node.features[2] = static_cast<float>(std::sqrt(sum2 / count));
      node.features[3] =
          static_cast<float>(z_score(s.log_volume[last], mean_std(s, s.log_volume, begin, end)));
      node.features[4] =
          static_cast<float>(z_score(s.log_trades[last], mean_std(s, s.log_trades, begin, end)));
      node.features[5] = static_cast<float>(s.taker_share[last] - 0.5);
      if (count == params.window) {
        const double mean = sum / count;
        double norm2 = 0;
        for (int64_t k = begin; k < end; ++k) {
          const double d = s.log_return[static_cast<size_t>(k)] - mean;
          norm2 += d * d;
        }
        if (norm2 > 1e-18) {
          const double inv = 1.0 / std::sqrt(norm2);
          double* z = &standardized[i * static_cast<size_t>(params.window)];
          for (int64_t k = begin; k < end; ++k) *z++ = (s.log_return[static_cast<size_t>(k)] - mean) * inv;
          full[i] = 1;
        }
      }
    }
    bool horizon_complete = true;
    double ret = 0;
    for (int64_t k = slot; k < slot + params.horizon; ++k) {
      if (!present_at(s, k)) {
        horizon_complete = false;
        break;
      }
      ret += s.log_return[static_cast<size_t>(k)];
    }
    node.label_mask = horizon_complete;
    node.label_return = horizon_complete ? static_cast<float>(ret) : 0.0f;
  }

  // Candidate edges between unmasked nodes.
  std::vector<Edge> candidates;
  for (size_t i = 0; i < n; ++i) {
    if (!out.nodes[i].mask) continue;
    for (size_t j = i + 1; j < n; ++j) {
      if (!out.nodes[j].mask) continue;
      std::optional<double> corr;
      if (full[i] && full[j]) {
        const double* a = &standardized[i * static_cast<size_t>(params.window)];
        const double* b = &standardized[j * static_cast<size_t>(params.window)];
        double dot = 0;
        for (int k = 0; k < params.window; ++k) dot += a[k] * b[k];
        corr = std::clamp(dot, -1.0, 1.0);
      } else {
        corr = pairwise_correlation(grid.series[i], grid.series[j], begin, end, need);
      }
      if (!corr || std::fabs(*corr) < params.threshold) continue;
      candidates.push_back(
          Edge{static_cast<uint32_t>(i), static_cast<uint32_t>(j), static_cast<float>(*corr)});
    }
  }
  if (params.top_k <= 0) {
    out.edges = std::move(candidates);
    return;
  }
  // Keep an edge when it is among the top_k strongest of either endpoint (the union keeps it symmetric).
  std::vector<std::vector<uint32_t>> incident(n);
  for (uint32_t e = 0; e < candidates.size(); ++e) {
    incident[candidates[e].from].push_back(e);
    incident[candidates[e].to].push_back(e);
  }
  std::vector<uint8_t> keep(candidates.size(), 0);
  const auto stronger = [&](uint32_t a, uint32_t b) {
    const float wa = std::fabs(candidates[a].weight), wb = std::fabs(candidates[b].weight);
    return wa != wb ? wa > wb : a < b;  // ties by edge order: deterministic
  };
  for (auto& list : incident) {
    const size_t k = std::min(list.size(), static_cast<size_t>(params.top_k));
    std::partial_sort(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(k), list.end(), stronger);
    for (size_t m = 0; m < k; ++m) keep[list[m]] = 1;
  }
  for (uint32_t e = 0; e < candidates.size(); ++e) {
    if (keep[e]) out.edges.push_back(candidates[e]);
  }
}

}  // namespace sf::analytics
