// Serves web/dist and reads the team profile. The only api file that includes toml++.

#include "detail/static_files.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <toml++/toml.h>

#include "hikeshi/api/problem.hpp"

namespace hikeshi::api::detail {

namespace fs = std::filesystem;

namespace {
// Nothing we build comes near this; a larger file under the root is not ours to serve.
constexpr std::uintmax_t kMaxFileBytes = 32u << 20;
constexpr std::uintmax_t kMaxTeamProfileBytes = 256u << 10;

bool IsSafeSegment(std::string_view segment) {
  if (segment == "." || segment == "..") return false;
  for (const char c : segment) {
    if (c == '\\' || c == '\0') return false;
  }
  return true;
}

bool IsWithin(const fs::path& root, const fs::path& candidate) {
  const auto [root_end, ignored] = std::mismatch(root.begin(), root.end(), candidate.begin(), candidate.end());
  return root_end == root.end();
}

Result<std::string> ReadSmallFile(const fs::path& file, std::uintmax_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return Fail(Error::NotFound(file.string()));
  if (size > limit) return Fail(Error{ErrorCode::kTooLarge, file.string() + " is larger than allowed"});
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(Error::NotFound(file.string()));
  std::string out(static_cast<std::size_t>(size), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) {
    return Fail(Error::Unavailable("could not read " + file.string()));
  }
  return out;
}

HttpResponse NotBuiltPage(const fs::path& root) {
  HttpResponse response;
  response.status = 503;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store");
  AddPageSecurityHeaders(response);
  response.body = "The Hikeshi web UI is not built in " + root.string() +
                  ".\nBuild it with `npm ci && npm run build` in web/ (make run and make test do this), or start "
                  "`hikeshi serve` with --web-root DIR.\nThe API is available under /api/v1/.\n";
  return response;
}

// A problem+json 404, with the API's own (stricter) security headers.
HttpResponse NotFoundPage(const HttpRequest& request) {
  return ProblemResponse(Error::NotFound("no such page: " + request.path));
}
}  // namespace

void AddPageSecurityHeaders(HttpResponse& response) {
  response.headers.emplace_back("Content-Security-Policy", std::string(kPageContentSecurityPolicy));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

std::string_view ContentTypeFor(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 15> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".asc", "text/plain; charset=utf-8"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (file_name.size() > ext.size() && file_name.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  auto canonical = fs::weakly_canonical(fs::absolute(root_, ec), ec);
  if (!ec) root_ = std::move(canonical);
}

HttpResponse StaticFiles::Serve(const HttpRequest& request) const {
  std::error_code ec;
  if (!fs::is_regular_file(root_ / "index.html", ec)) return NotBuiltPage(root_);

  // request.path is already percent-decoded, so "%2e%2e" arrives here as "..".
  std::string_view path = request.path;
  if (!path.starts_with('/')) return NotFoundPage(request);
  fs::path relative;
  std::string_view last;
  for (std::string_view rest = path.substr(1); !rest.empty();) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    if (!IsSafeSegment(segment)) return NotFoundPage(request);
    if (!segment.empty()) relative /= fs::path(std::string(segment));
    last = segment;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }

  bool is_index = relative.empty();
  fs::path file = is_index ? root_ / "index.html" : root_ / relative;
  if (!is_index) {
    // Symbolic links inside the root must not lead out of it either.
    const auto resolved = fs::weakly_canonical(file, ec);
    if (ec || !IsWithin(root_, resolved)) return NotFoundPage(request);
    if (!fs::is_regular_file(resolved, ec)) {
      if (last.find('.') != std::string_view::npos) return NotFoundPage(request);
      is_index = true;  // a route of the single-page app: /incidents/I-2026-000001
      file = root_ / "index.html";
    } else {
      file = resolved;
    }
  }

  auto content = ReadSmallFile(file, kMaxFileBytes);
  if (!content) return NotFoundPage(request);
  HttpResponse response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", std::string(ContentTypeFor(file.filename().string())));
  const bool hashed = !is_index && path.starts_with("/assets/");
  response.headers.emplace_back("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  AddPageSecurityHeaders(response);
  response.body = std::move(*content);
  return response;
}

Result<std::string> LoadTeamProfileJson(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    return Fail(Error::NotFound("team profile (" + file.filename().string() + " in the data directory)"));
  }
  HIKESHI_TRY(const auto text, ReadSmallFile(file, kMaxTeamProfileBytes));
  toml::table table;
  try {
    table = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return Fail(Error::InvalidArgument(std::string("team profile line ") + std::to_string(e.source().begin.line) +
                                       ": " + std::string(e.description())));
  }
  if (!table["name"].is_string()) {
    return Fail(Error::InvalidArgument("team profile: name must be a string", "/name"));
  }
  for (const char* key : {"mission", "constituency", "pgp_key", "pgp_fingerprint"}) {
    if (table.contains(key) && !table[key].is_string()) {
      return Fail(
          Error::InvalidArgument(std::string("team profile: ") + key + " must be a string", "/" + std::string(key)));
    }
  }
  for (const char* key : {"services", "contacts"}) {
    if (table.contains(key) && !table[key].is_array()) {
      return Fail(
          Error::InvalidArgument(std::string("team profile: ") + key + " must be an array", "/" + std::string(key)));
    }
  }
  std::ostringstream out;
  out << toml::json_formatter{table};
  return out.str();
}

}  // namespace hikeshi::api::detail
