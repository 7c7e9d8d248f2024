// CSV output of JSON documents.
#include "services/manager/document_format.h"

namespace sf::services {
namespace {

std::string value_text(const protocol::Json& v) {
  if (v.is_null()) return {};
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, protocol::Json::error_handler_t::replace);
}

}  // namespace

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

Status CsvWriter::add(std::string_view document, std::string& out) {
  protocol::Json json = protocol::Json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::invalid_argument("document is not valid JSON");
  return add_parsed(json, out);
}

Status CsvWriter::add_parsed(const protocol::Json& document, std::string& out) {
  if (!document.is_object()) {
    return Status::invalid_argument(
        fmt::format("document must be a JSON object, got {}", document.type_name()));
  }
  if (!header_written_) {
    for (auto it = document.begin(); it != document.end(); ++it) columns_.push_back(it.key());
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i) out += ',';
      out += csv_field(columns_[i]);
    }
    out += '\n';
    header_written_ = true;
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i) out += ',';
    auto it = document.find(columns_[i]);
    if (it != document.end()) out += csv_field(value_text(*it));
  }
  out += '\n';
  return Status::ok();
}

}  // namespace sf::services
