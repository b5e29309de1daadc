#pragma once
// Response headers every API answer carries. Not a public header.

#include "hikeshi/api/http_server.hpp"

namespace hikeshi::api::detail {

inline void AddSecurityHeaders(HttpResponse& response) {
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace hikeshi::api::detail
