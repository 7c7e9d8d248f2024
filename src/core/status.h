// Errors as values for the layers where failure is expected (I/O, parsing, remote calls).
// One table of error codes serves every layer; the REST API maps each code to an HTTP status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sf {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // caller sent something malformed; HTTP 400
  kNotFound,            // HTTP 404
  kAlreadyExists,       // HTTP 409
  kCorruption,          // bytes on disk or on the wire failed a check
  kIoError,             // the operating system refused a read/write/fsync
  kUnavailable,         // a remote peer or resource is temporarily unreachable; retryable; HTTP 503
  kTimeout,             // HTTP 504
  kRateLimited,         // HTTP 429
  kCancelled,           // stopped on request
  kFailedPrecondition,  // the operation is not valid in the current state; HTTP 409
  kInternal,            // a bug; HTTP 500
};

std::string_view error_code_name(ErrorCode code);
int http_status_for(ErrorCode code);

// A success or an error code with a human-readable message that says what went wrong and where.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Status already_exists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Status corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Status io_error(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
  static Status unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Status timeout(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }
  static Status cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }
  static Status failed_precondition(std::string m) { return {ErrorCode::kFailedPrecondition, std::move(m)}; }
  static Status internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: topic 'x' does not exist"
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none (std::expected is C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design, like std::expected
  Result(Status status) : state_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(state_).is_ok() && "a Result built from a Status must carry an error");
  }

  bool has_value() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Status& status() const {
    static const Status kOk;
    return has_value() ? kOk : std::get<Status>(state_);
  }

 private:
  std::variant<T, Status> state_;
};

// Thrown only at boundaries that abort a whole job or command (see DESIGN.md, errors).
class Error : public std::exception {
 public:
  explicit Error(Status status) : status_(std::move(status)), what_(status_.to_string()) {}
  const char* what() const noexcept override { return what_.c_str(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
  std::string what_;
};

// Unwraps a Result at a boundary where failure aborts the job.
template <typename T>
T value_or_throw(Result<T> result) {
  if (!result) throw Error(result.status());
  return std::move(result).value();
}
inline void throw_if_error(const Status& status) {
  if (!status) throw Error(status);
}

}  // namespace sf

// Propagates a non-ok Status out of the calling function.
#define SF_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::sf::Status sf_status_ = (expr);           \
    if (!sf_status_.is_ok()) return sf_status_; \
  } while (0)
