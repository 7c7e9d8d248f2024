// `streamforge workflow start|list|show|events|watch|stop`: thin clients of the queue-manager REST API.
// Server errors are printed as `error: <message>` with a non-zero exit code.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "net/url.h"

namespace sf::cli {
namespace {

struct WorkflowCommandOptions {
  std::string server = kDefaultServer;
  // start
  std::string symbol;
  std::string type;
  std::string time_range;
  std::vector<std::string> targets;
  std::vector<std::string> symbols;  // graph_build: the graph's nodes
  std::vector<std::string> params;   // KEY=VALUE request fields (graph/GNN parameters); VALUE as JSON if it parses
  std::vector<std::string> from_files;  // bulk_ types: dump zip/CSV files (or directories) already on disk
  bool wait = false;
  bool quiet = false;
  // show / events / watch / stop
  std::string id;
  bool json = false;
  int interval_ms = 250;  // progress polling period
  double timeout_s = 0;   // watch / --wait: give up after this long; 0 = never
};

std::string queue_path(const std::string& id) {
  return "/queues/" + net::percent_encode(id);
}

std::string text_of(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  return v.dump();
}

bool finished(const Json& w) {
  return w.contains("finished_at") && w["finished_at"].is_number();
}

// Follows a workflow until every service has ended, drawing a progress line. Exit code 0 only for completed.
int follow(ApiClient& api, const std::string& id, const WorkflowCommandOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  std::deque<std::pair<Clock::time_point, int64_t>> samples;  // the last few seconds, for the rate
  ProgressLine line;
  Json w;
  auto last_ok = Clock::now();
  for (;;) {
    auto state = api.call("GET", queue_path(id));
    const auto now = Clock::now();
    if (!state) {
      // A server restarting is not the workflow failing: keep trying for a while, except for a verdict.
      if (state.status().code() == ErrorCode::kNotFound ||
          state.status().code() == ErrorCode::kInvalidArgument || now - last_ok > std::chrono::seconds(10)) {
        line.finish();
        return report_error(state.status());
      }
    } else {
      last_ok = now;
      w = std::move(state).value();
      const int64_t records = w.value("records_written", int64_t{0});
      samples.emplace_back(now, records);
      while (samples.size() > 2 && now - samples.front().first > std::chrono::seconds(5)) samples.pop_front();
      double rate = 0;
      if (samples.size() >= 2) {
        const double dt = std::chrono::duration<double>(samples.back().first - samples.front().first).count();
        if (dt > 0) rate = static_cast<double>(samples.back().second - samples.front().second) / dt;
      }
      const std::string status = w.value("status", "?");
      std::string text;
      if (w.contains("expected_records") && w["expected_records"].is_number_integer() &&
          w["expected_records"].get<int64_t>() > 0) {
        const int64_t expected = w["expected_records"];
        const double fraction = std::min(1.0, static_cast<double>(records) / static_cast<double>(expected));
        constexpr int kWidth = 24;
        const int filled = static_cast<int>(fraction * kWidth);
        std::string eta = "-";
        if (rate > 0 && records < expected) {
          eta = fmt::format("{:.0f}s", static_cast<double>(expected - records) / rate);
        } else if (records >= expected) {
          eta = "0s";
        }
        text = fmt::format("  [{}{}] {:5.1f}%  {}/{} records | {}/s | ETA {} | {}", std::string(filled, '#'),
                           std::string(kWidth - filled, '-'), fraction * 100.0, records, expected,
                           ProgressLine::human(rate), eta, status);
      } else {
        text = fmt::format("  {} records | {}/s | {}", ProgressLine::human(static_cast<double>(records)),
                           ProgressLine::human(rate), status);
      }
      const bool done = finished(w);
      line.update(text, done);
      if (done) break;
    }
    if (o.timeout_s > 0 && now - started > std::chrono::duration<double>(o.timeout_s)) {
      line.finish();
      return report_error(Status::timeout(fmt::format("workflow {} is still {} after {:.0f} s", id,
                                                      w.value("status", "unknown"), o.timeout_s)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(10, o.interval_ms)));
  }
  line.finish();
  const std::string status = w.value("status", "?");
  if (status == "completed") {
    fmt::print("workflow {} completed: {} records in {}\n", id, w.value("records_written", int64_t{0}),
               format_duration(w["duration_seconds"]));
    std::fflush(stdout);
    return 0;
  }
  std::string why = w.contains("error") && w["error"].is_string() ? w["error"].get<std::string>() : "";
  fmt::print("workflow {} {}{}{}\n", id, status, why.empty() ? "" : ": ", why);
  std::fflush(stdout);
  return 1;
}

int run_start(const WorkflowCommandOptions& o) {
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  Json body = Json::object();
  if (!o.symbol.empty()) body["symbol"] = o.symbol;
  if (!o.symbols.empty()) body["symbols"] = o.symbols;
  for (const auto& param : o.params) {
    const size_t eq = param.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report_error(Status::invalid_argument(fmt::format("--param '{}': expected KEY=VALUE", param)));
    }
    Json value = Json::parse(param.substr(eq + 1), nullptr, /*allow_exceptions=*/false);
    body[param.substr(0, eq)] = value.is_discarded() ? Json(param.substr(eq + 1)) : value;
  }
  if (!o.from_files.empty()) {
    // Absolute paths: the loader runs in the server's process, whose working directory is not ours.
    Json files = Json::array();
    for (const auto& f : o.from_files) files.push_back(std::filesystem::absolute(f).lexically_normal().string());
    body["from_files"] = std::move(files);
  }
  if (o.targets.empty()) {
    body["type"] = o.type;
    body["time_range"] = o.time_range;
  } else {
    body["time_range"] = o.time_range;
    Json services = Json::array();
    // The analytics targets run one type each, so `--type graph_build --target graph-builder --target
    // gnn-trainer` builds and trains in one workflow.
    auto type_of = [&](const std::string& target) -> std::string {
      if (target == "graph-builder") return "graph_build";
      if (target == "gnn-trainer") return "gnn_train";
      return o.type;
    };
    for (const auto& target : o.targets) services.push_back(Json{{"target", target}, {"type", type_of(target)}});
    body["microservices"] = std::move(services);
  }
  auto started = api->call("POST", "/queues/start", body.dump());
  if (!started) return report_error(started.status());
  const std::string id = started->value("queue_id", "");
  if (o.json) {
    fmt::print("{}\n", started->dump(2));
  } else if (o.quiet) {
    fmt::print("{}\n", id);
  } else {
    std::string services;
    for (const auto& s : (*started)["services"]) {
      if (!services.empty()) services += ", ";
      services += s.value("target", std::string("?"));
    }
    fmt::print("started {} ({} {} {}; services: {})\n", id, started->value("symbol", ""),
               started->value("type", ""), started->value("time_range", ""), services);
  }
  std::fflush(stdout);
  if (!o.wait) return 0;
  return follow(*api, id, o);
}

int run_list(const WorkflowCommandOptions& o) {
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  auto list = api->call("GET", "/queues");
  if (!list) return report_error(list.status());
  if (o.json) {
    fmt::print("{}\n", list->dump(2));
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : *list) {
    rows.push_back({w.value("queue_id", ""), w.value("status", ""), w.value("symbol", ""),
                    w.value("type", ""), w.value("time_range", ""),
                    std::to_string(w.value("records_written", int64_t{0})),
                    format_epoch_seconds(w["created_at"]), format_duration(w["duration_seconds"])});
  }
  print_table({"QUEUE_ID", "STATUS", "SYMBOL", "TYPE", "TIME_RANGE", "RECORDS", "CREATED (UTC)", "DURATION"},
              rows);
  return 0;
}

int run_show(const WorkflowCommandOptions& o) {
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  auto w = api->call("GET", queue_path(o.id));
  if (!w) return report_error(w.status());
  if (o.json) {
    fmt::print("{}\n", w->dump(2));
    return 0;
  }
  std::string records = std::to_string(w->value("records_written", int64_t{0}));
  if ((*w)["expected_records"].is_number()) {
    records += fmt::format(" of {}", (*w)["expected_records"].get<int64_t>());
    if ((*w)["progress"].is_number())
      records += fmt::format(" ({:.1f}%)", (*w)["progress"].get<double>() * 100);
  }
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"queue_id", text_of((*w)["queue_id"])},
      {"status", text_of((*w)["status"]) + ((*w).value("stop_requested", false) ? " (stop requested)" : "")},
      {"symbol", text_of((*w)["symbol"])},
      {"type", text_of((*w)["type"])},
      {"time_range", text_of((*w)["time_range"])},
      {"records", records},
      {"created", format_epoch_seconds((*w)["created_at"])},
      {"updated", format_epoch_seconds((*w)["updated_at"])},
      {"finished", format_epoch_seconds((*w)["finished_at"])},
      {"duration", format_duration((*w)["duration_seconds"])},
      {"collection", text_of((*w)["collection_name"])},
      {"topic", text_of((*w)["kafka_topic"])},
      {"error", text_of((*w)["error"])},
  };
  for (const auto& [name, value] : fields) fmt::print("{:<12}{}\n", name, value);
  fmt::print("\n");
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : (*w)["services"]) {
    std::string progress =
        s["progress"].is_number() ? fmt::format("{:.1f}%", s["progress"].get<double>() * 100) : "-";
    rows.push_back({s.value("target", ""), s.value("type", ""), s.value("status", ""),
                    std::to_string(s.value("records_written", int64_t{0})), progress,
                    format_epoch_seconds(s["started_at"]), format_epoch_seconds(s["finished_at"]),
                    text_of(s["message"])});
  }
  std::fflush(stdout);
  print_table({"SERVICE", "TYPE", "STATUS", "RECORDS", "PROGRESS", "STARTED", "FINISHED", "MESSAGE"}, rows);
  return 0;
}

int run_events(const WorkflowCommandOptions& o) {
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  auto events = api->call("GET", queue_path(o.id) + "/events");
  if (!events) return report_error(events.status());
  if (o.json) {
    for (const auto& e : *events) fmt::print("{}\n", e.dump());
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *events) {
    rows.push_back({format_epoch_seconds(e["timestamp"]), std::to_string(e.value("offset", int64_t{0})),
                    e.value("producer", ""), e.value("status", ""),
                    e.contains("records_written") ? text_of(e["records_written"]) : "-",
                    text_of(e["message"])});
  }
  print_table({"TIME (UTC)", "OFFSET", "PRODUCER", "STATUS", "RECORDS", "MESSAGE"}, rows);
  return 0;
}

int run_watch(const WorkflowCommandOptions& o) {
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  return follow(*api, o.id, o);
}

int run_stop(const WorkflowCommandOptions& o) {
  auto api = ApiClient::connect(o.server);
  if (!api) return report_error(api.status());
  auto stopped = api->call("POST", "/queues/stop?queue_id=" + net::percent_encode(o.id));
  if (!stopped) return report_error(stopped.status());
  if (o.json) {
    fmt::print("{}\n", stopped->dump(2));
  } else {
    fmt::print("stop requested for {} (status {})\n", o.id, stopped->value("status", "?"));
  }
  return 0;
}

void add_server(CLI::App& app, WorkflowCommandOptions& o) {
  bind_option(app, "--server", o.server, "queue-manager base URL");
}

void add_id(CLI::App& app, WorkflowCommandOptions& o) {
  app.add_option("id", o.id, "workflow id (queue_id)")->required();
}

void add_follow_flags(CLI::App& app, WorkflowCommandOptions& o) {
  bind_option(app, "--interval-ms", o.interval_ms, "how often to poll the workflow's status")
      ->check(CLI::Range(10, 60'000));
  bind_option(app, "--timeout", o.timeout_s, "give up after this many seconds (0: never)")
      ->check(CLI::Range(0.0, 1e9));
}

}  // namespace

CommandRunner setup_workflow(CLI::App& app, const CommonOptions& /*common*/) {
  auto o = std::make_shared<WorkflowCommandOptions>();
  app.require_subcommand(1);

  CLI::App* start =
      app.add_subcommand("start", "Start a workflow (the short form; --target for an explicit list)");
  add_server(*start, *o);
  bind_option(*start, "--symbol", o->symbol, "symbol, e.g. BTCUSDT (graph_build: the first of --symbols)");
  bind_option(*start, "--symbols", o->symbols, "graph_build: the graph's symbols, e.g. BTCUSDT,ETHUSDT,SOLUSDT")
      ->delimiter(',');
  bind_option(*start, "--param", o->params,
              "a request field KEY=VALUE (repeatable), e.g. window=24, top_k=5, epochs=100, model=sage");
  bind_option(*start, "--type", o->type, "workflow type, e.g. api_candles_5m, api_trades, ws_candles_1m")
      ->required();
  bind_option(*start, "--time-range", o->time_range, "START:END in UTC, e.g. 2024-08-01:2024-08-02")
      ->required();
  bind_option(*start, "--target", o->targets,
              "a service to run (repeatable); default: the type's loader and arango-connector");
  bind_option(*start, "--from-files", o->from_files,
              "bulk_ types: load these dump .zip/.csv files (or directories of them) instead of downloading");
  bind_switch(*start, "--wait", o->wait,
              "follow the progress until the workflow ends; exit 1 unless completed");
  bind_switch(*start, "--quiet", o->quiet, "print only the workflow id");
  bind_switch(*start, "--json", o->json, "print the server's answer as JSON");
  add_follow_flags(*start, *o);

  CLI::App* list = app.add_subcommand("list", "List workflows, newest first");
  add_server(*list, *o);
  bind_switch(*list, "--json", o->json, "print the server's answer as JSON");

  CLI::App* show = app.add_subcommand("show", "Show a workflow: status, services, records, timings");
  add_server(*show, *o);
  add_id(*show, *o);
  bind_switch(*show, "--json", o->json, "print the server's answer as JSON");

  CLI::App* events = app.add_subcommand("events", "List a workflow's queue-events");
  add_server(*events, *o);
  add_id(*events, *o);
  bind_switch(*events, "--json", o->json, "print the events as JSON lines");

  CLI::App* watch =
      app.add_subcommand("watch", "Follow a workflow's progress until it ends (exit 0 only if completed)");
  add_server(*watch, *o);
  add_id(*watch, *o);
  add_follow_flags(*watch, *o);

  CLI::App* stop = app.add_subcommand("stop", "Stop a workflow");
  add_server(*stop, *o);
  add_id(*stop, *o);
  bind_switch(*stop, "--json", o->json, "print the server's answer as JSON");

  return [o, start, list, show, events, watch, stop]() -> int {
    if (start->parsed()) return run_start(*o);
    if (list->parsed()) return run_list(*o);
    if (show->parsed()) return run_show(*o);
    if (events->parsed()) return run_events(*o);
    if (watch->parsed()) return run_watch(*o);
    if (stop->parsed()) return run_stop(*o);
    return 2;
  };
}

}  // namespace sf::cli
