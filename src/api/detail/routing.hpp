#pragma once
// What route modules share: the matched call, the handler type, the JSON response helper and the
// strict query-string reader. api.cpp owns the route table and authentication; each module
// (responses.cpp, ...) adds its routes through a RouteSink. Not a public header.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hikeshi/api/http_server.hpp"
#include "hikeshi/common/error.hpp"
#include "hikeshi/core/accounts.hpp"

namespace hikeshi::api::detail {

// What a matched route's handler receives.
struct Call {
  const HttpRequest& request;
  std::vector<std::string> params;          // the {placeholders} of the route, in order
  std::optional<core::Authenticated> auth;  // set for routes that require authentication
  const core::Principal& principal() const { return auth->principal; }
};

using RouteHandler = std::function<Result<HttpResponse>(Call&)>;

// Adds one route: method, pattern ("/api/v1/incidents/{id}/tasks"), whether it needs a login.
using RouteSink = std::function<void(std::string method, std::string pattern, bool authenticated, RouteHandler)>;

// A JSON response with the security headers.
HttpResponse Json(int status, const nlohmann::ordered_json& body);
// A CSV download (text/csv; charset=utf-8) named `filename`.
HttpResponse Csv(std::string body, std::string_view filename);
// 204 No Content with the security headers.
HttpResponse NoContent();

// Query-string reading: unknown parameters are refused like unknown JSON fields.
class QueryReader {
 public:
  explicit QueryReader(const HttpRequest& request) : request_(request) {}
  std::optional<std::string> Get(std::string_view name);
  Result<std::optional<int>> Int(std::string_view name);
  // The opaque "k<id>" cursor of keyset pagination.
  Result<std::optional<std::int64_t>> Cursor();
  Result<void> RejectUnknown() const;

 private:
  const HttpRequest& request_;
  std::set<std::string, std::less<>> known_;
};

nlohmann::ordered_json NextCursor(const std::optional<std::int64_t>& next);

}  // namespace hikeshi::api::detail
