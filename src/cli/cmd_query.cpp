// `streamforge query COLLECTION`: a collection's documents (JSON lines or CSV) or their count, within time
// bounds, through the queue-manager REST API, page by page.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "core/time_range.h"
#include "net/url.h"
#include "services/manager/document_format.h"

namespace sf::cli {
namespace {

struct QueryCommandOptions {
  std::string server = kDefaultServer;
  std::string collection;
  std::string from;              // a time: date, ISO time or epoch ms; empty = no bound
  std::string to;                // exclusive
  std::string format = "jsonl";  // jsonl | csv
  bool count = false;
  int64_t limit = 0;  // 0 = everything
};

int run(const QueryCommandOptions& o) {
  if (o.format != "jsonl" && o.format != "csv") {
    return report_error(
        Status::invalid_argument(fmt::format("--format must be jsonl or csv, not '{}'", o.format)));
  }
  net::QueryBuilder bounds;
  for (const auto& [flag, text, name] :
       {std::tuple{"--from", &o.from, "from"}, std::tuple{"--to", &o.to, "to"}}) {
    if (text->empty()) continue;
    auto t = parse_utc_time(*text);
    if (!t) return report_error(Status::invalid_argument(fmt::format("{}: {}", flag, t.status().message())));
    bounds.add(name, static_cast<int64_t>(*t));
  }
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  const std::string base = "/collections/" + net::percent_encode(o.collection);

  if (o.count) {
    auto counted = api->call("GET", base + "/count" + (bounds.empty() ? "" : "?" + bounds.str()));
    if (!counted) return report_error(counted.status());
    fmt::print("{}\n", counted->value("count", uint64_t{0}));
    return 0;
  }

  services::CsvWriter csv;
  std::string out;
  std::optional<std::string> after;
  int64_t printed = 0;
  for (;;) {
    net::QueryBuilder q = bounds;
    if (after) q.add("after", *after);
    if (o.limit > 0) q.add("limit", o.limit - printed);
    auto page = api->get_raw(base + "/documents" + (q.empty() ? "" : "?" + q.str()));
    if (!page) return report_error(page.status());
    const std::string& body = page->body;
    out.clear();
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      std::string_view line(body.data() + start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      ++printed;
      if (o.format == "jsonl") {
        out.append(line);
        out += '\n';
      } else if (Status added = csv.add(line, out); !added) {
        return report_error(Status::corruption(fmt::format("document {}: {}", printed, added.message())));
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    auto next = page->header("X-Next-After");
    if (!next || (o.limit > 0 && printed >= o.limit)) break;
    after = std::string(*next);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

CommandRunner setup_query(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<QueryCommandOptions>();
  app.add_option("collection", o->collection, "collection name, e.g. btcusdt_api_candles_5m_2024_08_01")
      ->required();
  bind_option(app, "--server", o->server, "queue-manager base URL");
  bind_option(app, "--from", o->from,
              "first time (UTC: 2024-08-01, 2024-08-01T12:00:00Z or epoch ms), inclusive");
  bind_option(app, "--to", o->to, "last time, exclusive (same forms as --from)");
  bind_option(app, "--format", o->format, "jsonl | csv (header from the first document's fields)");
  bind_switch(app, "--count", o->count, "print only the number of matching documents");
  bind_option(app, "--limit", o->limit, "at most this many documents (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50));
  return [o] { return run(*o); };
}

}  // namespace sf::cli
