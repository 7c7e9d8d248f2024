// Documents as CSV (RFC 4180 quoting, LF line ends): the columns are the first document's fields, in its
// order; a value is written bare unless it holds a comma, a quote, CR or LF (then it is quoted, quotes
// doubled). Strings are written as their text, numbers and booleans as their JSON text, null and missing
// fields as nothing, objects and arrays as compact JSON. Shared by the API (`format=csv`) and `streamforge
// query --format csv`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "protocol/json_fields.h"

namespace sf::services {

// `text` as one CSV field: bare, or quoted when it must be.
std::string csv_field(std::string_view text);

// Writes documents (JSON object text, one at a time) as CSV rows, the header first. Not thread-safe.
class CsvWriter {
 public:
  // Appends the header (before the first row) and the row of `document` to `out`. InvalidArgument when
  // the document is not a JSON object.
  Status add(std::string_view document, std::string& out);
  // Same with a parsed document.
  Status add_parsed(const protocol::Json& document, std::string& out);
  // Columns fixed by the first document; empty before it.
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::vector<std::string> columns_;
  bool header_written_ = false;
};

}  // namespace sf::services
