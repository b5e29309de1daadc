#pragma once
// Error values and Result<T>: how every expected failure in Hikeshi travels. Plain value types,
// safe to copy between threads.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace hikeshi {

// A closed set of failure kinds. The API maps each to one HTTP status (api/problem.cpp) and the CLI
// maps each to one exit code (app/exit_codes.cpp); nowhere else decides that.
enum class ErrorCode {
  kInvalidArgument,     // bad input: malformed, wrong type, unknown field, out of range
  kNotFound,            // no such object, or not visible to the caller
  kConflict,            // duplicate or concurrent change
  kFailedPrecondition,  // an illegal state transition
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // authenticated, but the role does not allow it
  kResourceExhausted,   // rate limit hit
  kTooLarge,            // input over a configured limit
  kMethodNotAllowed,    // the resource exists but does not take this method
  kUnavailable,         // transient: storage busy or down; retrying may succeed
  kDeadlineExceeded,    // the peer was too slow (a request that did not arrive in time)
  kDataLoss,            // integrity failure: a broken audit chain, tampered data
  kInternal,            // a bug or an unexpected library failure
};

std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Error InvalidArgument(std::string message, std::string field = {}) {
    return {ErrorCode::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Error NotFound(std::string what) { return {ErrorCode::kNotFound, std::move(what) + " not found"}; }
  static Error Conflict(std::string message) { return {ErrorCode::kConflict, std::move(message)}; }
  static Error FailedPrecondition(std::string message, std::string field = {}) {
    return {ErrorCode::kFailedPrecondition, std::move(message), std::move(field)};
  }
  static Error Unauthenticated(std::string message) { return {ErrorCode::kUnauthenticated, std::move(message)}; }
  static Error PermissionDenied(std::string message) { return {ErrorCode::kPermissionDenied, std::move(message)}; }
  static Error ResourceExhausted(std::string message) { return {ErrorCode::kResourceExhausted, std::move(message)}; }
  static Error TooLarge(std::string message, std::string field = {}) {
    return {ErrorCode::kTooLarge, std::move(message), std::move(field)};
  }
  static Error MethodNotAllowed(std::string message) { return {ErrorCode::kMethodNotAllowed, std::move(message)}; }
  static Error Unavailable(std::string message) { return {ErrorCode::kUnavailable, std::move(message)}; }
  static Error DeadlineExceeded(std::string message) { return {ErrorCode::kDeadlineExceeded, std::move(message)}; }
  static Error DataLoss(std::string message) { return {ErrorCode::kDataLoss, std::move(message)}; }
  static Error Internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The offending input field as a JSON pointer ("/impact"), or empty when none applies.
  const std::string& field() const { return field_; }

  // Returns a copy whose field is prefixed with `parent` ("/observables/0" + "/value").
  Error Within(std::string_view parent) const { return {code_, message_, std::string(parent) + field_}; }

 private:
  ErrorCode code_;
  std::string message_;
  std::string field_;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error from a function that yields Result<T>.
inline std::unexpected<Error> Fail(Error error) { return std::unexpected<Error>(std::move(error)); }

// Re-labels a failure with the input field it concerns, keeping code and message.
template <typename T>
Result<T> AtField(Result<T> result, std::string field) {
  if (!result) return Fail(Error(result.error().code(), result.error().message(), std::move(field)));
  return result;
}

}  // namespace hikeshi

// Propagates an error: HIKESHI_TRY(auto x, Foo()); leaves x holding Foo()'s value.
#define HIKESHI_CONCAT_INNER(a, b) a##b
#define HIKESHI_CONCAT(a, b) HIKESHI_CONCAT_INNER(a, b)
#define HIKESHI_TRY(decl, expr) HIKESHI_TRY_IMPL(decl, expr, HIKESHI_CONCAT(hikeshi_try_, __COUNTER__))
#define HIKESHI_TRY_IMPL(decl, expr, tmp)                                       \
  auto tmp = (expr);                                                            \
  if (!tmp) return ::std::unexpected<::hikeshi::Error>(std::move(tmp).error()); \
  decl = std::move(tmp).value()
// Propagates an error from a Result<void>.
#define HIKESHI_CHECK(expr) HIKESHI_CHECK_IMPL(expr, HIKESHI_CONCAT(hikeshi_check_, __COUNTER__))
#define HIKESHI_CHECK_IMPL(expr, tmp)                                             \
  do {                                                                            \
    auto tmp = (expr);                                                            \
    if (!tmp) return ::std::unexpected<::hikeshi::Error>(std::move(tmp).error()); \
  } while (0)
