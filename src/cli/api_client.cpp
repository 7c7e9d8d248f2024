// REST client of the queue-manager for the CLI verbs, and small output helpers.
#include "cli/api_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/time_range.h"

namespace sf::cli {
namespace {

ErrorCode code_for_http(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kFailedPrecondition;
    case 429:
      return ErrorCode::kRateLimited;
    case 503:
      return ErrorCode::kUnavailable;
    case 504:
      return ErrorCode::kTimeout;
    default:
      return ErrorCode::kInternal;
  }
}

// The message of an error answer: the envelope's `message`, else the body, else the status line.
Status error_from(const net::HttpResponse& res) {
  Json body = Json::parse(res.body, nullptr, false);
  std::string message;
  if (body.is_object()) {
    for (const char* field : {"message", "detail", "error"}) {
      if (body.contains(field) && body[field].is_string()) {
        message = body[field].get<std::string>();
        break;
      }
    }
  }
  if (message.empty()) {
    message = res.body;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  }
  if (message.empty()) message = fmt::format("HTTP {} {}", res.status, net::reason_phrase(res.status));
  return Status(code_for_http(res.status), message);
}

}  // namespace

Result<ApiClient> ApiClient::connect(const std::string& server) {
  auto url = net::parse_url(server);
  if (!url || (url->scheme != "http" && url->scheme != "https")) {
    return Status::invalid_argument(
        fmt::format("--server must be an http:// or https:// URL, not '{}'", server));
  }
  net::HttpClientOptions options;
  options.connect_timeout = std::chrono::seconds(5);
  options.request_timeout = std::chrono::seconds(60);
  auto client = net::HttpClient::create(server, options);
  if (!client) return client.status();
  std::string base = server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return ApiClient(base, std::move(client).value());
}

Result<net::HttpResponse> ApiClient::send(std::string_view method, const std::string& target,
                                          const std::string& body) {
  net::Headers headers;
  headers.set("Accept", "application/json");
  if (!body.empty()) headers.set("Content-Type", "application/json");
  auto res = client_->request(method, target, body, headers);
  if (!res) {
    return Status::unavailable(
        fmt::format("cannot reach the server at {}: {}", server_, res.status().message()));
  }
  if (res->status >= 400) return error_from(*res);
  return res;
}

Result<Json> ApiClient::call(std::string_view method, const std::string& target, const std::string& body) {
  auto res = send(method, target, body);
  if (!res) return res.status();
  Json json = Json::parse(res->body, nullptr, false);
  if (!json.is_object()) {
    return Status::corruption(fmt::format("the server at {} answered {} {} with something that is not JSON",
                                          server_, method, target));
  }
  if (json.value("status", "") == "error") return Status::internal(json.value("message", "unknown error"));
  return json.contains("data") ? json["data"] : json;
}

Result<net::HttpResponse> ApiClient::get_raw(const std::string& target) {
  return send("GET", target, {});
}

int report_error(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  std::fflush(stderr);
  return status.code() == ErrorCode::kInvalidArgument ? 2 : 1;
}

std::string format_epoch_seconds(const Json& seconds) {
  if (!seconds.is_number()) return "-";
  const auto ms = static_cast<TimestampMs>(std::llround(seconds.get<double>() * 1000.0));
  std::string iso = format_utc_iso(ms);  // 2024-08-01T12:00:00.000Z
  iso = iso.substr(0, 19);
  std::replace(iso.begin(), iso.end(), 'T', ' ');
  return iso;
}

std::string format_duration(const Json& seconds) {
  if (!seconds.is_number()) return "-";
  const double s = seconds.get<double>();
  if (s < 60) return fmt::format("{:.2f} s", s);
  const auto total = static_cast<int64_t>(s);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
    }
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
  std::fflush(stdout);
}

}  // namespace sf::cli
