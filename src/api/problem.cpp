#include "hikeshi/api/problem.hpp"

#include <nlohmann/json.hpp>

#include "detail/headers.hpp"

namespace hikeshi::api {

int HttpStatusOf(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kDeadlineExceeded:
      return 408;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kTooLarge:
      return error.field() == "/headers" ? 431 : 413;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kDataLoss:
      return 500;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

namespace {
std::string_view TitleOf(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}
}  // namespace

HttpResponse ProblemResponse(const Error& error) {
  const int status = HttpStatusOf(error);
  nlohmann::ordered_json body;
  // A login that needs (another) one-time code has its own type, so that a client can ask for it.
  const bool otp = error.code() == ErrorCode::kUnauthenticated && error.field() == "/otp";
  body["type"] = "https://hikeshi.invalid/problems/" + std::string(otp ? "otp-required" : ErrorCodeName(error.code()));
  body["title"] = TitleOf(status);
  body["status"] = status;
  // Internal errors keep their detail in the server log; the client learns nothing it could use.
  body["detail"] =
      (status >= 500 && status != 503) ? "internal error; the server log has the details" : error.message();
  body["code"] = ErrorCodeName(error.code());
  if (!error.field().empty()) body["field"] = error.field();
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/problem+json");
  detail::AddSecurityHeaders(response);
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hikeshi\"");
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace hikeshi::api
