// The CLI verbs' client of the queue-manager REST API (`workflow ...`, `query`): one keep-alive connection,
// the API's JSON envelope unwrapped, the server's error message kept as is.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "net/http_client.h"

namespace sf::cli {

using Json = nlohmann::ordered_json;

inline constexpr const char* kDefaultServer = "http://127.0.0.1:8080";

// Not thread-safe (one connection).
class ApiClient {
 public:
  // InvalidArgument for a URL that is not http(s)://HOST[:PORT].
  static Result<ApiClient> connect(const std::string& server);

  // Calls the API and returns the envelope's `data`. An error answer becomes a Status with the server's
  // message (400 InvalidArgument, 404 NotFound, 409 FailedPrecondition, 503 Unavailable, else Internal);
  // a server that cannot be reached is Unavailable "cannot reach the server at URL: ...".
  Result<Json> call(std::string_view method, const std::string& target, const std::string& body = {});
  // A raw GET (non-JSON answers such as documents); error answers as above.
  Result<net::HttpResponse> get_raw(const std::string& target);

  const std::string& server() const { return server_; }

 private:
  ApiClient(std::string server, std::unique_ptr<net::HttpClient> client)
      : server_(std::move(server)), client_(std::move(client)) {}
  Result<net::HttpResponse> send(std::string_view method, const std::string& target, const std::string& body);

  std::string server_;
  std::unique_ptr<net::HttpClient> client_;
};

// Prints "error: <message>" on stderr; returns the exit code for it (2 for invalid arguments, else 1).
int report_error(const Status& status);

// Epoch seconds as "2024-08-01 12:00:00" (UTC); "-" for null.
std::string format_epoch_seconds(const Json& seconds);
// A duration in seconds as "1.23 s", "4m05s", "2h03m"; "-" for null.
std::string format_duration(const Json& seconds);

// Prints rows as left-aligned columns separated by two spaces (the last column is not padded).
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace sf::cli
