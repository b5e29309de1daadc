#pragma once
// The built web UI (web/dist) served by `hikeshi serve` itself, and the public team profile.
// Not a public header. StaticFiles is immutable after construction and thread-safe.

#include <filesystem>
#include <string>
#include <string_view>

#include "hikeshi/api/http_server.hpp"
#include "hikeshi/common/error.hpp"

namespace hikeshi::api::detail {

// The policy on every page: scripts, styles and connections from this origin only, nothing inline,
// no framing, no <base> rewriting, forms post back here only.
inline constexpr std::string_view kPageContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// CSP, nosniff, no referrer and no framing, for responses that a browser renders as a page.
void AddPageSecurityHeaders(HttpResponse& response);

// The media type for a file name, by extension ("app.js" -> "text/javascript; charset=utf-8");
// application/octet-stream for anything unknown.
std::string_view ContentTypeFor(std::string_view file_name);

class StaticFiles {
 public:
  // `root` is the directory holding index.html and assets/. It need not exist yet: until it does,
  // pages answer 503 with instructions for building the UI.
  explicit StaticFiles(std::filesystem::path root);

  // Answers a GET or HEAD for a path outside /api/:
  //   a file under the root               -> 200 with its content type; /assets/* (names carry a
  //                                          content hash) cached for a year, the rest revalidated
  //   a path whose last segment has no "." -> index.html (the single-page app routes it)
  //   anything else                       -> 404
  //   a path with "..", ".", "\" or NUL segments, or one resolving outside the root -> 404
  HttpResponse Serve(const HttpRequest& request) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// The team profile (team.toml: name, mission, constituency, services, contacts, PGP key) as the
// JSON object GET /api/v1/public/team answers. Errors: kNotFound when the file does not exist,
// kInvalidArgument (naming the line) when it is not valid TOML or a field has the wrong type.
Result<std::string> LoadTeamProfileJson(const std::filesystem::path& file);

}  // namespace hikeshi::api::detail
