#include "exit_codes.hpp"

namespace hikeshi::app {

int ExitCodeOf(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
      return 65;  // EX_DATAERR
    case ErrorCode::kTooLarge:
      return 65;  // EX_DATAERR
    case ErrorCode::kFailedPrecondition:
      return 65;  // EX_DATAERR
    case ErrorCode::kNotFound:
      return 66;  // EX_NOINPUT
    case ErrorCode::kConflict:
      return 73;  // EX_CANTCREAT
    case ErrorCode::kUnauthenticated:
      return 77;  // EX_NOPERM
    case ErrorCode::kPermissionDenied:
      return 77;  // EX_NOPERM
    case ErrorCode::kMethodNotAllowed:
      return kExitUsage;
    case ErrorCode::kResourceExhausted:
      return kExitTempFail;
    case ErrorCode::kUnavailable:
      return kExitTempFail;
    case ErrorCode::kDeadlineExceeded:
      return kExitTempFail;
    case ErrorCode::kDataLoss:
      return kExitVerifyFailed;
    case ErrorCode::kInternal:
      return 70;  // EX_SOFTWARE
  }
  return 70;
}

}  // namespace hikeshi::app
