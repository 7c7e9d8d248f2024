// Backend-independent parts of the store facade: ArangoDB's naming rules and convenience overloads.
#include "store/store.h"

#include <fmt/format.h>

namespace sf::store {

namespace {

constexpr size_t kMaxCollectionNameBytes = 256;
constexpr size_t kMaxKeyBytes = 254;

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_key_char(char c) {
  if (is_ascii_letter(c) || is_ascii_digit(c)) return true;
  switch (c) {
    case '_':
    case '-':
    case ':':
    case '.':
    case '@':
    case '(':
    case ')':
    case '+':
    case ',':
    case '=':
    case ';':
    case '$':
    case '!':
    case '*':
    case '\'':
    case '%':
      return true;
    default:
      return false;
  }
}

// Printable form of a byte for error messages.
std::string describe_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

}  // namespace

Status validate_collection_name(std::string_view name) {
  constexpr std::string_view kRule =
      "a collection name is 1..256 letters, digits, '_' or '-', starting with a letter";
  if (name.empty()) return Status::invalid_argument(fmt::format("empty collection name: {}", kRule));
  if (name.size() > kMaxCollectionNameBytes) {
    return Status::invalid_argument(
        fmt::format("collection name of {} bytes is too long: {}", name.size(), kRule));
  }
  if (!is_ascii_letter(name.front())) {
    return Status::invalid_argument(fmt::format("invalid collection name '{}': {}", name, kRule));
  }
  for (char c : name) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_' && c != '-') {
      return Status::invalid_argument(
          fmt::format("invalid collection name '{}' ({} not allowed): {}", name, describe_char(c), kRule));
    }
  }
  return Status::ok();
}

Status validate_document_key(std::string_view key) {
  constexpr std::string_view kRule =
      "a `_key` is 1..254 bytes of a-z A-Z 0-9 _ - : . @ ( ) + , = ; $ ! * ' %";
  if (key.empty()) return Status::invalid_argument(fmt::format("empty `_key`: {}", kRule));
  if (key.size() > kMaxKeyBytes) {
    return Status::invalid_argument(fmt::format("`_key` of {} bytes is too long: {}", key.size(), kRule));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    if (!is_key_char(key[i])) {
      return Status::invalid_argument(
          fmt::format("`_key` has {} at position {}: {}", describe_char(key[i]), i, kRule));
    }
  }
  return Status::ok();
}

Result<UpsertResult> Store::upsert(std::string_view collection, const std::vector<std::string>& documents,
                                   UpsertMode mode) {
  std::vector<std::string_view> views(documents.begin(), documents.end());
  return upsert(collection, std::span<const std::string_view>(views), mode);
}

}  // namespace sf::store
