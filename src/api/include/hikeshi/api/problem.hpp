#pragma once
// RFC 9457 problem details: the single place where an ErrorCode becomes an HTTP status.
// Pure functions; thread-safe.

#include "hikeshi/api/http_server.hpp"
#include "hikeshi/common/error.hpp"

namespace hikeshi::api {

// The one mapping from error to HTTP status.
int HttpStatusOf(const Error& error);

// An application/problem+json response for `error`: type, title, status, detail and, when the
// error names one, the offending field as a JSON pointer ("field": "/impact").
HttpResponse ProblemResponse(const Error& error);

}  // namespace hikeshi::api
