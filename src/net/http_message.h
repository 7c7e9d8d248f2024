// The HTTP values shared by the server and the client: header fields and a response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sf::net {

// Case-insensitive ASCII comparison, as HTTP field names require.
bool iequals(std::string_view a, std::string_view b);

// Header fields in the order they were added; lookups ignore the case of the name. A name may repeat.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field (keeps existing ones with the same name).
  void add(std::string name, std::string value);
  // Replaces every field called `name` with one field.
  void set(std::string name, std::string value);
  void remove(std::string_view name);
  // The first value of `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

// A response as a handler fills it (server) or as it arrived (client).
struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;

  // Convenience for handlers: sets the status, `Content-Type` and the body in one go.
  void set(int status_code, std::string content_type, std::string payload) {
    status = status_code;
    headers.set("Content-Type", std::move(content_type));
    body = std::move(payload);
  }
  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
};

// "Not Found" for 404 etc.; "Unknown" for codes without a standard reason.
std::string_view reason_phrase(int status);

}  // namespace sf::net
