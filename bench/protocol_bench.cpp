// Record hot paths: a full 1000-kline /api/v3/klines response into records, and 1000 klines into stored
// documents. Run a Release build: protocol_bench [--benchmark_filter=...].
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "protocol/records.h"

namespace {

using sf::protocol::Kline;
using sf::protocol::RecordParser;

// A realistic BTCUSDT 1m response: 1000 rows, 8-decimal prices, ~190 bytes per row.
std::string klines_body(int n) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    if (i) body += ',';
    int64_t open = 1722470400000 + int64_t{i} * 60000;
    fmt::format_to(std::back_inserter(body),
                   R"([{},"{}.{:02}000000","{}.50000000","{}.01000000","{}.{:02}000000","{}.{:05}000",{},)"
                   R"("{}.{:08}",{},"{}.{:05}000","{}.{:08}","0"])",
                   open, 64000 + i % 97, i % 100, 64100 + i % 89, 63900 + i % 83, 64050 + i % 79,
                   (i * 7) % 100, 10 + i % 50, i * 13 % 100000, open + 59999, 700000 + i * 31,
                   i * 7919 % 100000000, 500 + i % 700, 5 + i % 20, i * 17 % 100000, 350000 + i * 11,
                   i * 104729 % 100000000);
  }
  body += ']';
  return body;
}

void BM_ParseKlines1000(benchmark::State& state) {
  const std::string body = klines_body(1000);
  RecordParser parser;
  std::vector<Kline> klines;
  for (auto _ : state) {
    auto status = parser.parse_klines(body, "BTCUSDT", "1m", klines);
    if (!status.is_ok()) state.SkipWithError(status.to_string().c_str());
    benchmark::DoNotOptimize(klines.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseKlines1000);

void BM_SerializeKlines1000(benchmark::State& state) {
  RecordParser parser;
  std::vector<Kline> klines;
  if (!parser.parse_klines(klines_body(1000), "BTCUSDT", "1m", klines).is_ok()) std::abort();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const Kline& k : klines) {
      sf::protocol::append_document(k, out);
      out += '\n';
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_SerializeKlines1000);

// Readers (query, graph builder): stored document -> record.
void BM_ParseKlineDocuments1000(benchmark::State& state) {
  RecordParser parser;
  std::vector<Kline> klines;
  if (!parser.parse_klines(klines_body(1000), "BTCUSDT", "1m", klines).is_ok()) std::abort();
  std::vector<std::string> docs;
  int64_t bytes = 0;
  for (const Kline& k : klines) {
    sf::protocol::append_document(k, docs.emplace_back());
    bytes += static_cast<int64_t>(docs.back().size());
  }
  Kline k;
  for (auto _ : state) {
    for (const std::string& doc : docs) {
      auto status = parser.parse_document(doc, k);
      if (!status.is_ok()) state.SkipWithError(status.to_string().c_str());
    }
    benchmark::DoNotOptimize(&k);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_ParseKlineDocuments1000);

}  // namespace

BENCHMARK_MAIN();
