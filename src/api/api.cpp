#include "hikeshi/api/api.hpp"

#include <charconv>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hikeshi/api/problem.hpp"
#include "hikeshi/common/crypto.hpp"

#include "detail/headers.hpp"
#include "detail/json_input.hpp"
#include "detail/modules.hpp"
#include "detail/render.hpp"
#include "detail/routing.hpp"
#include "detail/static_files.hpp"

namespace hikeshi::api {

namespace {
using detail::JsonObjectReader;
using detail::Names;
using nlohmann::ordered_json;

constexpr std::string_view kSessionCookie = "hikeshi_session";
constexpr std::string_view kCsrfCookie = "hikeshi_csrf";

using detail::Call;
using detail::Json;
using detail::NextCursor;
using detail::QueryReader;
using detail::RouteHandler;

// A request body that the HTTP server streams in, as the feed pipeline reads its input.
class StreamedBody final : public core::ByteSource {
 public:
  explicit StreamedBody(RequestBodyStream* body) : body_(body) {}
  Result<std::size_t> Read(char* buffer, std::size_t size) override { return body_->Read(buffer, size); }
  bool WaitReady(std::chrono::milliseconds timeout) override { return body_->WaitReady(timeout); }

 private:
  RequestBodyStream* body_;
};

struct Route {
  std::string method;
  std::vector<std::string> segments;  // "{}" is a placeholder
  std::string pattern;                // for Routes() and logs
  bool authenticated;
  RouteHandler handler;
};

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = path.find('/', start);
    const auto piece = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out.emplace_back(piece);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string_view Cookie(const HttpRequest& request, std::string_view name) {
  std::string_view header = request.Header("cookie");
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

bool IsUnsafe(std::string_view method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

std::string CookieHeader(std::string_view name, std::string_view value, bool http_only, long long max_age,
                         bool secure) {
  std::string out =
      std::string(name) + "=" + std::string(value) + "; Path=/; SameSite=Strict; Max-Age=" + std::to_string(max_age);
  if (http_only) out += "; HttpOnly";
  if (secure) out += "; Secure";
  return out;
}

bool IsApiPath(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

// Submissions per client address over the last hour, for the unauthenticated report form.
// Thread-safe. Bounded: past kMaxAddresses, addresses whose hour has passed are forgotten, and
// if that frees nothing, new addresses are refused until it does.
class AddressRateLimit {
 public:
  explicit AddressRateLimit(int per_hour) : per_hour_(per_hour) {}
  bool Allow(const std::string& address) {
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    if (seen_.size() >= kMaxAddresses && !seen_.contains(address)) {
      std::erase_if(seen_, [&](const auto& entry) { return now - entry.second.back() >= kWindow; });
      if (seen_.size() >= kMaxAddresses) return false;
    }
    auto& times = seen_[address];
    while (!times.empty() && now - times.front() >= kWindow) times.pop_front();
    if (std::cmp_greater_equal(times.size(), per_hour_)) return false;
    times.push_back(now);
    return true;
  }

 private:
  static constexpr std::size_t kMaxAddresses = 100'000;
  static constexpr std::chrono::hours kWindow{1};
  const int per_hour_;
  std::mutex mutex_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>, std::less<>> seen_;
};

// The actor recorded for reports from the public form: may file a report and nothing else, since
// it is only ever handed to Reports::Create. Scope all, so that the report lands in the
// coordination queue rather than in a constituency chosen by the anonymous sender.
core::Principal PublicFormPrincipal() {
  core::Principal p;
  p.username = "web-form";
  p.role = core::Role::kHandler;
  p.scope = core::Scope::All();
  return p;
}

// What a bot that filled the honeypot is told: a plausible tracking id that names no report.
std::string DecoyTrackingId() {
  const auto year = static_cast<int>(
      std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())).year());
  const std::string digest = common::Sha256Hex(common::RandomToken(16));
  std::uint64_t n = 0;
  std::from_chars(digest.data(), digest.data() + 12, n, 16);
  return fmt::format("R-{}-{:06}", year, n % 1'000'000);
}

bool LooksLikeEmail(std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= text.size() || text.size() > 254) return false;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';') return false;
  }
  return text.find('.', at) != std::string_view::npos && text.rfind('@') == at;
}
}  // namespace

class Api::Impl {
 public:
  Impl(ApiServices services, ApiOptions options)
      : s_(services),
        options_(options),
        static_files_(options.web_root.empty() ? std::filesystem::path(HIKESHI_DEFAULT_WEB_ROOT) : options.web_root),
        public_reports_(options.public_reports_per_hour) {
    AddRoutes();
  }

  HttpResponse Handle(const HttpRequest& request) const {
    if (!IsApiPath(request.path) && (request.method == "GET" || request.method == "HEAD")) {
      return static_files_.Serve(request);
    }
    auto result = Dispatch(request);
    if (result) return std::move(*result);
    const Error& error = result.error();
    if (HttpStatusOf(error) >= 500) {
      spdlog::error("{} {}: {} ({})", request.method, request.path, error.message(), ErrorCodeName(error.code()));
    }
    return ProblemResponse(error);
  }

  std::vector<std::string> Routes() const {
    std::vector<std::string> out;
    for (const auto& r : routes_) out.push_back(r.method + " " + r.pattern);
    return out;
  }

 private:
  Result<HttpResponse> Dispatch(const HttpRequest& request) const {
    const auto segments = SplitPath(request.path);
    bool path_matched = false;
    std::string allowed;
    for (const auto& route : routes_) {
      const bool rest = !route.segments.empty() && route.segments.back() == "**";
      if (rest ? segments.size() < route.segments.size() : route.segments.size() != segments.size()) continue;
      std::vector<std::string> params;
      bool match = true;
      for (std::size_t i = 0; i < route.segments.size() && match; ++i) {
        if (route.segments[i] == "**") {
          // The rest of the path, slashes included: observable values such as URLs and CIDRs.
          std::string value = segments[i];
          for (std::size_t j = i + 1; j < segments.size(); ++j) value += "/" + segments[j];
          match = !value.empty();
          params.push_back(std::move(value));
        } else if (route.segments[i] == "{}") {
          match = !segments[i].empty();
          params.push_back(segments[i]);
        } else {
          match = route.segments[i] == segments[i];
        }
      }
      if (!match) continue;
      path_matched = true;
      const bool method_ok = route.method == request.method || (route.method == "GET" && request.method == "HEAD");
      if (!method_ok) {
        allowed += (allowed.empty() ? "" : ", ") + route.method;
        continue;
      }
      Call call{request, std::move(params), std::nullopt};
      if (route.authenticated) {
        HIKESHI_TRY(call.auth, Authenticate(request));
      }
      return route.handler(call);
    }
    if (path_matched) {
      return Fail(Error::MethodNotAllowed(request.method + " is not allowed here; use " + allowed));
    }
    return Fail(Error::NotFound("no such API resource: " + request.path));
  }

  Result<core::Authenticated> Authenticate(const HttpRequest& request) const {
    const std::string_view authorization = request.Header("authorization");
    if (!authorization.empty()) {
      constexpr std::string_view kBearer = "Bearer ";
      if (!authorization.starts_with(kBearer)) {
        return Fail(Error::Unauthenticated("only Bearer tokens are accepted in Authorization"));
      }
      return s_.accounts.AuthenticateToken(authorization.substr(kBearer.size()));
    }
    const std::string_view session = Cookie(request, kSessionCookie);
    if (session.empty()) return Fail(Error::Unauthenticated("log in first, or send a Bearer token"));
    HIKESHI_TRY(auto auth, s_.accounts.AuthenticateSession(session));
    if (IsUnsafe(request.method) && !common::ConstantTimeEquals(request.Header("x-csrf-token"), auth.csrf_token)) {
      return Fail(Error::PermissionDenied("missing or wrong X-CSRF-Token header for a session-authenticated change"));
    }
    return auth;
  }

  void Add(std::string method, std::string pattern, bool authenticated, RouteHandler handler) {
    Route route{std::move(method), {}, pattern, authenticated, std::move(handler)};
    for (auto& seg : SplitPath(pattern)) {
      route.segments.push_back(seg.ends_with("*}") ? "**" : seg.starts_with("{") ? "{}" : seg);
    }
    routes_.push_back(std::move(route));
  }

  void AddRoutes();

  // --- sessions ---
  Result<HttpResponse> Login(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto username, body.RequiredString("username"));
    HIKESHI_TRY(const auto password, body.RequiredString("password"));
    HIKESHI_TRY(const auto otp, body.String("otp"));  // the TOTP code, for accounts that have one
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto grant, s_.accounts.Login(username, password, call.request.remote_address, otp.value_or("")));
    const core::Principal principal = core::Principal::ForUser(grant.user);
    Names names(s_.store, principal);
    ordered_json out;
    out["user"] = detail::RenderUser(grant.user, names);
    out["csrf_token"] = grant.csrf_token;
    out["expires_at"] = common::FormatRfc3339(grant.expires_at);
    auto response = Json(200, out);
    const long long ttl = options_.session_ttl.count();
    response.headers.emplace_back(
        "Set-Cookie", CookieHeader(kSessionCookie, grant.session_secret, true, ttl, options_.secure_cookies));
    // Readable by the page's script so it can echo the token in X-CSRF-Token (double submit).
    response.headers.emplace_back("Set-Cookie",
                                  CookieHeader(kCsrfCookie, grant.csrf_token, false, ttl, options_.secure_cookies));
    return response;
  }

  Result<HttpResponse> WhoAmI(Call& call) const {
    HIKESHI_TRY(const auto users, s_.accounts.ListUsers(call.principal()));
    Names names(s_.store, call.principal());
    ordered_json out;
    for (const auto& u : users) {
      if (u.id == call.principal().user_id) out["user"] = detail::RenderUser(u, names);
    }
    out["csrf_token"] = call.auth->csrf_token.empty() ? ordered_json(nullptr) : ordered_json(call.auth->csrf_token);
    return Json(200, out);
  }

  Result<HttpResponse> Logout(Call& call) const {
    const std::string_view session = Cookie(call.request, kSessionCookie);
    if (!session.empty()) HIKESHI_CHECK(s_.accounts.Logout(session));
    HttpResponse response;
    response.status = 204;
    detail::AddSecurityHeaders(response);
    response.headers.emplace_back("Set-Cookie", CookieHeader(kSessionCookie, "", true, 0, options_.secure_cookies));
    response.headers.emplace_back("Set-Cookie", CookieHeader(kCsrfCookie, "", false, 0, options_.secure_cookies));
    return response;
  }

  // --- incidents ---
  Result<HttpResponse> CreateIncident(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::IncidentDraft draft;
    HIKESHI_TRY(draft.title, body.RequiredString("title"));
    HIKESHI_TRY(const auto description, body.String("description"));
    draft.description = description.value_or("");
    HIKESHI_TRY(draft.category, body.RequiredString("category"));
    HIKESHI_TRY(draft.constituency, body.String("constituency"));
    HIKESHI_TRY(const auto impact, body.Integer("impact"));
    HIKESHI_TRY(const auto urgency, body.Integer("urgency"));
    HIKESHI_TRY(draft.tlp, body.String("tlp"));
    HIKESHI_TRY(draft.owner, body.String("owner"));
    HIKESHI_TRY(const auto exercise, body.Bool("exercise"));
    HIKESHI_TRY(const auto observables, body.Observables("observables"));
    HIKESHI_TRY(draft.playbook, body.String("playbook"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(draft.impact, Level(impact, "/impact"));
    HIKESHI_TRY(draft.urgency, Level(urgency, "/urgency"));
    draft.exercise = exercise.value_or(false);
    draft.observables = observables.value_or(std::vector<core::RawObservable>{});
    HIKESHI_TRY(const auto incident, s_.incidents.Create(call.principal(), draft));
    Names names(s_.store, call.principal());
    auto response = Json(201, detail::RenderIncident(incident, names));
    response.headers.emplace_back("Location", "/api/v1/incidents/" + incident.human_id);
    return response;
  }

  static Result<int> Level(const std::optional<std::int64_t>& value, const std::string& field) {
    if (!value) return 3;
    if (*value < 1 || *value > 4)
      return Fail(Error::InvalidArgument("must be between 1 (highest) and 4 (lowest)", field));
    return static_cast<int>(*value);
  }

  Result<HttpResponse> ListIncidents(Call& call) const {
    QueryReader q(call.request);
    core::IncidentListRequest request;
    request.status = q.Get("status");
    request.category = q.Get("category");
    request.constituency = q.Get("constituency");
    request.owner = q.Get("owner");
    request.text = q.Get("q").value_or("");
    request.sla = q.Get("sla");
    if (auto priority = q.Get("priority")) {
      std::string_view p = *priority;
      if (p.size() == 2 && (p[0] == 'P' || p[0] == 'p')) p.remove_prefix(1);
      if (p.size() != 1 || p[0] < '1' || p[0] > '4') {
        return Fail(Error::InvalidArgument("must be P1, P2, P3 or P4", "/priority"));
      }
      request.priority = p[0] - '0';
    }
    HIKESHI_TRY(request.before_id, q.Cursor());
    HIKESHI_TRY(const auto limit, q.Int("limit"));
    request.limit = limit.value_or(50);
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto page, s_.incidents.List(call.principal(), request));
    HIKESHI_TRY(const auto breaches, s_.incidents.SlaBreachesOf(page.items));
    Names names(s_.store, call.principal());
    ordered_json items = ordered_json::array();
    for (const auto& i : page.items) {
      ordered_json item = detail::RenderIncident(i, names);
      const auto it = breaches.find(i.id);
      item["sla_breaches"] = it == breaches.end() ? ordered_json::array() : ordered_json(it->second);
      items.push_back(std::move(item));
    }
    return Json(200, {{"items", items}, {"next_cursor", NextCursor(page.next_before_id)}});
  }

  Result<HttpResponse> GetIncident(Call& call) const {
    HIKESHI_TRY(const auto incident, s_.incidents.Get(call.principal(), call.params[0]));
    Names names(s_.store, call.principal());
    return Json(200, detail::RenderIncident(incident, names));
  }

  Result<HttpResponse> PatchIncident(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::IncidentPatch patch;
    HIKESHI_TRY(patch.title, body.String("title"));
    HIKESHI_TRY(patch.description, body.String("description"));
    HIKESHI_TRY(patch.category, body.String("category"));
    HIKESHI_TRY(const auto impact, body.Integer("impact"));
    HIKESHI_TRY(const auto urgency, body.Integer("urgency"));
    HIKESHI_TRY(patch.status, body.String("status"));
    HIKESHI_TRY(patch.phase, body.String("phase"));
    HIKESHI_TRY(patch.owner, body.NullableString("owner"));
    HIKESHI_TRY(patch.tlp, body.String("tlp"));
    HIKESHI_TRY(patch.exercise, body.Bool("exercise"));
    HIKESHI_TRY(patch.merged_into, body.String("merged_into"));
    HIKESHI_TRY(patch.observables, body.Observables("observables"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (impact) {
      HIKESHI_TRY(patch.impact, Level(impact, "/impact"));
    }
    if (urgency) {
      HIKESHI_TRY(patch.urgency, Level(urgency, "/urgency"));
    }
    HIKESHI_TRY(const auto incident, s_.incidents.Update(call.principal(), call.params[0], patch));
    Names names(s_.store, call.principal());
    return Json(200, detail::RenderIncident(incident, names));
  }

  Result<HttpResponse> Timeline(Call& call) const {
    HIKESHI_TRY(const auto entries, s_.incidents.Timeline(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& e : entries) items.push_back(detail::RenderTimelineEntry(e));
    return Json(200, {{"items", items}});
  }

  Result<HttpResponse> IncidentMail(Call& call) const {
    HIKESHI_TRY(const auto mail, s_.incidents.Mail(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& m : mail) items.push_back(detail::RenderMail(m));
    return Json(200, {{"items", items}});
  }

  // The raw message or an attachment, always as a download: never rendered by the browser.
  static std::string PercentEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }
  static HttpResponse Download(core::MailFile file) {
    HttpResponse response;
    response.status = 200;
    response.headers.emplace_back("Content-Type", "application/octet-stream");
    response.headers.emplace_back("Content-Disposition",
                                  "attachment; filename*=UTF-8''" + PercentEncode(file.filename));
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
    response.headers.emplace_back("Cache-Control", "no-store");
    response.body = std::move(file.content);
    return response;
  }
  static Result<std::int64_t> MailId(std::string_view text) {
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
      return Fail(Error::NotFound("message '" + std::string(text) + "'"));
    }
    return id;
  }
  Result<HttpResponse> MailRaw(Call& call) const {
    if (s_.mail_files == nullptr) return Fail(Error::Unavailable("mail files are not configured on this server"));
    HIKESHI_TRY(const auto id, MailId(call.params[1]));
    HIKESHI_TRY(auto file, s_.mail_files->Raw(call.principal(), call.params[0], id));
    return Download(std::move(file));
  }
  Result<HttpResponse> MailAttachment(Call& call) const {
    if (s_.mail_files == nullptr) return Fail(Error::Unavailable("mail files are not configured on this server"));
    HIKESHI_TRY(const auto id, MailId(call.params[1]));
    HIKESHI_TRY(auto file, s_.mail_files->Attachment(call.principal(), call.params[0], id, call.params[2]));
    return Download(std::move(file));
  }

  // --- reports ---
  Result<HttpResponse> ReportMail(Call& call) const {
    HIKESHI_TRY(const auto mail, s_.reports.Mail(call.principal(), call.params[0]));
    ordered_json items = ordered_json::array();
    for (const auto& m : mail) items.push_back(detail::RenderMail(m));
    return Json(200, {{"items", items}});
  }

  Result<HttpResponse> CreateReport(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::ReportDraft draft;
    HIKESHI_TRY(const auto channel, body.String("channel"));
    draft.channel = channel.value_or("api");
    HIKESHI_TRY(const auto reporter, body.String("reporter"));
    draft.reporter = reporter.value_or("");
    HIKESHI_TRY(draft.subject, body.RequiredString("subject"));
    HIKESHI_TRY(const auto text, body.String("body"));
    draft.body = text.value_or("");
    HIKESHI_TRY(draft.category, body.String("category"));
    HIKESHI_TRY(draft.constituency, body.String("constituency"));
    HIKESHI_TRY(draft.tlp, body.String("tlp"));
    HIKESHI_TRY(const auto observables, body.Observables("observables"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    draft.observables = observables.value_or(std::vector<core::RawObservable>{});
    HIKESHI_TRY(const auto report, s_.reports.Create(call.principal(), draft));
    Names names(s_.store, call.principal());
    auto response = Json(201, detail::RenderReport(report, names));
    response.headers.emplace_back("Location", "/api/v1/reports/" + report.human_id);
    return response;
  }

  Result<HttpResponse> ListReports(Call& call) const {
    QueryReader q(call.request);
    core::ReportListRequest request;
    request.status = q.Get("status");
    request.constituency = q.Get("constituency");
    request.incident = q.Get("incident");
    request.flag = q.Get("flag");
    request.text = q.Get("q").value_or("");
    HIKESHI_TRY(request.before_id, q.Cursor());
    HIKESHI_TRY(const auto limit, q.Int("limit"));
    request.limit = limit.value_or(50);
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto page, s_.reports.List(call.principal(), request));
    Names names(s_.store, call.principal());
    ordered_json items = ordered_json::array();
    for (const auto& r : page.items) items.push_back(detail::RenderReport(r, names));
    return Json(200, {{"items", items}, {"next_cursor", NextCursor(page.next_before_id)}});
  }

  Result<HttpResponse> GetReport(Call& call) const {
    HIKESHI_TRY(const auto report, s_.reports.Get(call.principal(), call.params[0]));
    HIKESHI_TRY(const auto correlations, s_.reports.Correlations(call.principal(), report));
    Names names(s_.store, call.principal());
    auto out = detail::RenderReport(report, names);
    ordered_json candidates = ordered_json::array();
    for (const auto& c : correlations) {
      const auto incident = names.Incident(c.incident_id);
      if (incident.is_null()) continue;  // outside the caller's scope
      candidates.push_back(
          {{"incident", incident},
           {"observable", {{"type", core::ObservableTypeName(c.observable.type)}, {"value", c.observable.value}}},
           {"at", common::FormatRfc3339(c.at)}});
    }
    out["correlations"] = candidates;
    return Json(200, out);
  }

  // --- observables and feeds ---
  Result<HttpResponse> PivotObservable(Call& call) const {
    QueryReader q(call.request);
    const auto type = q.Get("type");
    HIKESHI_TRY(const auto limit, q.Int("limit"));
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto pivot,
                s_.observables.Find(call.principal(), call.params[0],
                                    type ? std::optional<std::string_view>(*type) : std::nullopt, limit.value_or(100)));
    Names names(s_.store, call.principal());
    ordered_json incidents = ordered_json::array();
    for (const auto& i : pivot.sightings.incidents) incidents.push_back(detail::RenderIncident(i, names));
    ordered_json reports = ordered_json::array();
    for (const auto& r : pivot.sightings.reports) reports.push_back(detail::RenderReport(r, names));
    return Json(200, {{"observable",
                       {{"type", core::ObservableTypeName(pivot.observable.type)}, {"value", pivot.observable.value}}},
                      {"incidents", incidents},
                      {"reports", reports}});
  }

  Result<HttpResponse> PostEvents(Call& call) const {
    QueryReader q(call.request);
    core::FeedRequest request;
    request.format = q.Get("format").value_or("ndjson");
    request.mapping_name = q.Get("mapping").value_or("");
    request.source = q.Get("source").value_or("api");
    if (const auto tlp = q.Get("tlp")) {
      request.tlp = core::ParseTlp(*tlp);
      if (!request.tlp) {
        return Fail(Error::InvalidArgument("must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED", "/tlp"));
      }
    }
    HIKESHI_CHECK(q.RejectUnknown());
    if (s_.intake == nullptr) return Fail(Error::Unavailable("feed intake is not configured on this server"));
    // Through the HTTP server the body streams in (Api::StreamsBody): read as the pipeline parses,
    // in constant memory, after the caller was authenticated and the parameters checked.
    core::MemorySource whole(call.request.body);
    StreamedBody streamed(call.request.body_stream.get());
    core::ByteSource& body = call.request.body_stream ? static_cast<core::ByteSource&>(streamed) : whole;
    HIKESHI_TRY(const auto run, s_.intake->Ingest(call.principal(), request, body));
    auto response = Json(200, detail::RenderFeedRun(run));
    response.headers.emplace_back("Location", "/api/v1/feeds/runs/" + std::to_string(run.id));
    return response;
  }

  // One raw RFC 5322 message (Content-Type message/rfc822), as `hikeshi mailgate --url` sends it.
  // 201 once committed, with what became of it.
  Result<HttpResponse> PostMail(Call& call) const {
    QueryReader q(call.request);
    HIKESHI_CHECK(q.RejectUnknown());
    if (s_.mail == nullptr) return Fail(Error::Unavailable("mail intake is not configured on this server"));
    if (call.request.body.empty()) return Fail(Error::InvalidArgument("the request body must be the message"));
    HIKESHI_TRY(const auto receipt, s_.mail->Deliver(call.principal(), call.request.body));
    return Json(receipt.outcome == core::MailOutcome::kDuplicate ? 200 : 201,
                {{"outcome", core::MailOutcomeName(receipt.outcome)},
                 {"report", receipt.report.empty() ? ordered_json(nullptr) : ordered_json(receipt.report)},
                 {"incident", receipt.incident.empty() ? ordered_json(nullptr) : ordered_json(receipt.incident)},
                 {"acknowledgement", receipt.ack},
                 {"flags", receipt.flags}});
  }

  // Feed runs, newest first: ?cursor= continues after the last page, ?limit= 1..200 (default 50).
  Result<HttpResponse> ListFeedRuns(Call& call) const {
    QueryReader q(call.request);
    HIKESHI_TRY(const auto before, q.Cursor());
    HIKESHI_TRY(const auto limit, q.Int("limit"));
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto page, s_.feeds.Runs(call.principal(), before.value_or(0), limit.value_or(50)));
    ordered_json items = ordered_json::array();
    for (const auto& run : page.items) items.push_back(detail::RenderFeedRun(run));
    return Json(200, {{"items", items}, {"next_cursor", NextCursor(page.next_before_id)}});
  }

  Result<HttpResponse> GetFeedRun(Call& call) const {
    HIKESHI_TRY(const auto id, RunId(call.params[0]));
    HIKESHI_TRY(const auto run, s_.feeds.GetRun(call.principal(), id));
    return Json(200, detail::RenderFeedRun(run));
  }

  Result<HttpResponse> ListFeedRejects(Call& call) const {
    HIKESHI_TRY(const auto id, RunId(call.params[0]));
    QueryReader q(call.request);
    HIKESHI_TRY(const auto after, q.Int("after"));
    HIKESHI_TRY(const auto limit, q.Int("limit"));
    HIKESHI_CHECK(q.RejectUnknown());
    HIKESHI_TRY(const auto page, s_.feeds.Rejects(call.principal(), id, after.value_or(0), limit.value_or(100)));
    ordered_json items = ordered_json::array();
    for (const auto& r : page.items) {
      items.push_back(
          {{"record", r.record}, {"reason", r.reason}, {"raw", r.raw}, {"at", common::FormatRfc3339(r.at)}});
    }
    return Json(200, {{"items", items},
                      {"next_after", page.next_after ? ordered_json(*page.next_after) : ordered_json(nullptr)}});
  }

  static Result<std::int64_t> RunId(const std::string& text) {
    std::int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
      return Fail(Error::NotFound("feed run " + text));
    }
    return id;
  }

  Result<HttpResponse> LinkReport(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto incident, body.RequiredString("incident"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto report, s_.reports.Link(call.principal(), call.params[0], incident));
    Names names(s_.store, call.principal());
    return Json(200, detail::RenderReport(report, names));
  }

  Result<HttpResponse> RejectReport(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto reason, body.RequiredString("reason"));
    HIKESHI_TRY(const auto comment, body.String("comment"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(const auto report, s_.reports.Reject(call.principal(), call.params[0], reason, comment.value_or("")));
    Names names(s_.store, call.principal());
    return Json(200, detail::RenderReport(report, names));
  }

  // --- constituencies, users, tokens ---
  Result<HttpResponse> ListConstituencies(Call& call) const {
    HIKESHI_TRY(const auto list, s_.constituencies.List(call.principal()));
    ordered_json items = ordered_json::array();
    for (const auto& c : list) items.push_back(detail::RenderConstituency(c));
    return Json(200, {{"items", items}});
  }

  Result<HttpResponse> CreateConstituency(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::NewConstituency request;
    HIKESHI_TRY(request.name, body.RequiredString("name"));
    HIKESHI_TRY(const auto description, body.String("description"));
    HIKESHI_TRY(const auto cidrs, body.StringArray("cidrs"));
    HIKESHI_TRY(const auto asns, body.StringArray("asns"));
    HIKESHI_TRY(const auto domains, body.StringArray("domains"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    request.description = description.value_or("");
    request.cidrs = cidrs.value_or(std::vector<std::string>{});
    request.asns = asns.value_or(std::vector<std::string>{});
    request.domains = domains.value_or(std::vector<std::string>{});
    HIKESHI_TRY(const auto created, s_.constituencies.Add(call.principal(), request));
    auto response = Json(201, detail::RenderConstituency(created));
    response.headers.emplace_back("Location", "/api/v1/constituencies/" + created.name);
    return response;
  }

  Result<HttpResponse> ListUsers(Call& call) const {
    HIKESHI_TRY(const auto users, s_.accounts.ListUsers(call.principal()));
    Names names(s_.store, call.principal());
    ordered_json items = ordered_json::array();
    for (const auto& u : users) items.push_back(detail::RenderUser(u, names));
    return Json(200, {{"items", items}});
  }

  Result<HttpResponse> CreateUser(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    core::NewUser request;
    HIKESHI_TRY(request.username, body.RequiredString("username"));
    HIKESHI_TRY(const auto display_name, body.String("display_name"));
    HIKESHI_TRY(request.password, body.RequiredString("password"));
    HIKESHI_TRY(const auto role, body.RequiredString("role"));
    HIKESHI_TRY(const auto scope_all, body.Bool("all_constituencies"));
    HIKESHI_TRY(const auto constituencies, body.StringArray("constituencies"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    const auto parsed_role = core::ParseRole(role);
    if (!parsed_role) {
      return Fail(Error::InvalidArgument("must be admin, handler, viewer or constituent", "/role"));
    }
    request.role = *parsed_role;
    request.display_name = display_name.value_or("");
    request.scope_all = scope_all.value_or(false);
    request.constituencies = constituencies.value_or(std::vector<std::string>{});
    HIKESHI_TRY(const auto user, s_.accounts.AddUser(call.principal(), request));
    Names names(s_.store, call.principal());
    return Json(201, detail::RenderUser(user, names));
  }

  Result<HttpResponse> CreateToken(Call& call) const {
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto username, body.String("username"));
    HIKESHI_TRY(const auto name, body.String("name"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    HIKESHI_TRY(
        const auto issued,
        s_.accounts.CreateToken(call.principal(), username.value_or(call.principal().username), name.value_or("")));
    ordered_json out;
    out["id"] = issued.token.id;
    out["name"] = issued.token.name;
    out["username"] = username.value_or(call.principal().username);
    out["token"] = issued.secret;
    return Json(201, out);
  }

  // --- public pages (no login) ---
  Result<HttpResponse> SubmitPublicReport(Call& call) const {
    const std::string& from = call.request.remote_address;
    if (!public_reports_.Allow(from)) {
      spdlog::warn("public report from {} refused: more than {} in an hour", from, options_.public_reports_per_hour);
      return Fail(
          Error::ResourceExhausted("too many reports from your address; please try again later or write to us"));
    }
    if (call.request.body.size() > kMaxPublicReportBytes) {
      return Fail(Error::TooLarge("a report may be at most 64 KiB; send larger material by e-mail", "/body"));
    }
    HIKESHI_TRY(auto body, JsonObjectReader::Parse(call.request.body));
    HIKESHI_TRY(const auto category, body.String("category"));
    HIKESHI_TRY(const auto subject, body.String("subject"));
    HIKESHI_TRY(const auto description, body.RequiredString("description"));
    HIKESHI_TRY(const auto contact, body.String("contact"));
    HIKESHI_TRY(const auto honeypot, body.String("website"));
    HIKESHI_CHECK(body.RejectUnknownFields());
    if (honeypot && !honeypot->empty()) {
      spdlog::warn("public report from {} discarded: the hidden honeypot field was filled in", from);
      return Json(201, {{"id", DecoyTrackingId()}});
    }
    if (description.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Fail(Error::InvalidArgument("please describe what happened", "/description"));
    }
    const std::string reporter = contact.value_or("");
    if (!reporter.empty() && !LooksLikeEmail(reporter)) {
      return Fail(Error::InvalidArgument("not an e-mail address we can answer", "/contact"));
    }
    core::ReportDraft draft;
    draft.channel = "web";
    draft.reporter = reporter;
    draft.body = description;
    draft.subject = subject.value_or("");
    if (draft.subject.find_first_not_of(' ') == std::string::npos) {
      // The first line of the description, cut at a character boundary.
      std::string_view first = std::string_view(description).substr(description.find_first_not_of(" \t\r\n"));
      first = first.substr(0, first.find_first_of("\r\n"));
      std::size_t cut = std::min<std::size_t>(first.size(), 120);
      while (cut < first.size() && (static_cast<unsigned char>(first[cut]) & 0xC0) == 0x80) --cut;
      draft.subject = std::string(first.substr(0, cut));
    }
    if (category && !category->empty()) draft.category = *category;
    HIKESHI_TRY(const auto report, s_.reports.Create(PublicFormPrincipal(), draft));
    spdlog::info("public report {} received from {}", report.human_id, from);
    return Json(201, {{"id", report.human_id}, {"received_at", common::FormatRfc3339(report.received_at)}});
  }

  Result<HttpResponse> PublicTeam(Call&) const {
    if (options_.team_profile.empty()) return Fail(Error::NotFound("team profile"));
    HIKESHI_TRY(auto profile, detail::LoadTeamProfileJson(options_.team_profile));
    HttpResponse response;
    response.headers.emplace_back("Content-Type", "application/json");
    detail::AddSecurityHeaders(response);
    response.body = std::move(profile);
    return response;
  }

  static constexpr std::size_t kMaxPublicReportBytes = 64 * 1024;

  ApiServices s_;
  ApiOptions options_;
  detail::StaticFiles static_files_;
  mutable AddressRateLimit public_reports_;
  std::vector<Route> routes_;
};

void Api::Impl::AddRoutes() {
  using std::placeholders::_1;
  const auto bind = [this](Result<HttpResponse> (Impl::*method)(Call&) const) {
    return [this, method](Call& call) { return (this->*method)(call); };
  };
  Add("GET", "/api/v1/health", false, [](Call&) -> Result<HttpResponse> { return Json(200, {{"status", "ok"}}); });
  Add("GET", "/api/v1/openapi.json", false, [](Call&) -> Result<HttpResponse> {
    HttpResponse response;
    response.headers.emplace_back("Content-Type", "application/json");
    detail::AddSecurityHeaders(response);
    response.body = std::string(OpenApiDocument());
    return response;
  });
  Add("POST", "/api/v1/session", false, bind(&Impl::Login));
  Add("GET", "/api/v1/session", true, bind(&Impl::WhoAmI));
  Add("DELETE", "/api/v1/session", true, bind(&Impl::Logout));
  Add("POST", "/api/v1/incidents", true, bind(&Impl::CreateIncident));
  Add("GET", "/api/v1/incidents", true, bind(&Impl::ListIncidents));
  Add("GET", "/api/v1/incidents/{id}", true, bind(&Impl::GetIncident));
  Add("PATCH", "/api/v1/incidents/{id}", true, bind(&Impl::PatchIncident));
  Add("GET", "/api/v1/incidents/{id}/timeline", true, bind(&Impl::Timeline));
  Add("GET", "/api/v1/incidents/{id}/mail", true, bind(&Impl::IncidentMail));
  Add("GET", "/api/v1/incidents/{id}/mail/{mail}/raw", true, bind(&Impl::MailRaw));
  Add("GET", "/api/v1/incidents/{id}/mail/{mail}/attachments/{sha256}", true, bind(&Impl::MailAttachment));
  Add("POST", "/api/v1/reports", true, bind(&Impl::CreateReport));
  Add("GET", "/api/v1/reports", true, bind(&Impl::ListReports));
  Add("GET", "/api/v1/reports/{id}", true, bind(&Impl::GetReport));
  Add("GET", "/api/v1/reports/{id}/mail", true, bind(&Impl::ReportMail));
  Add("GET", "/api/v1/reports/{id}/mail/{mail}/raw", true, bind(&Impl::MailRaw));
  Add("GET", "/api/v1/reports/{id}/mail/{mail}/attachments/{sha256}", true, bind(&Impl::MailAttachment));
  Add("POST", "/api/v1/reports/{id}/link", true, bind(&Impl::LinkReport));
  Add("POST", "/api/v1/reports/{id}/reject", true, bind(&Impl::RejectReport));
  Add("GET", "/api/v1/observables/{value*}", true, bind(&Impl::PivotObservable));
  Add("POST", "/api/v1/events", true, bind(&Impl::PostEvents));
  Add("POST", "/api/v1/mail", true, bind(&Impl::PostMail));
  Add("GET", "/api/v1/feeds/runs", true, bind(&Impl::ListFeedRuns));
  Add("GET", "/api/v1/feeds/runs/{id}", true, bind(&Impl::GetFeedRun));
  Add("GET", "/api/v1/feeds/runs/{id}/rejects", true, bind(&Impl::ListFeedRejects));
  Add("GET", "/api/v1/constituencies", true, bind(&Impl::ListConstituencies));
  Add("POST", "/api/v1/constituencies", true, bind(&Impl::CreateConstituency));
  Add("GET", "/api/v1/users", true, bind(&Impl::ListUsers));
  Add("POST", "/api/v1/users", true, bind(&Impl::CreateUser));
  Add("POST", "/api/v1/tokens", true, bind(&Impl::CreateToken));
  Add("POST", "/api/v1/public/reports", false, bind(&Impl::SubmitPublicReport));
  Add("GET", "/api/v1/public/team", false, bind(&Impl::PublicTeam));

  // The route modules (detail/modules.hpp).
  const detail::RouteSink sink = [this](std::string method, std::string pattern, bool authenticated,
                                        RouteHandler handler) {
    Add(std::move(method), std::move(pattern), authenticated, std::move(handler));
  };
  (void)sink;
  detail::AddSecondFactorRoutes(sink, s_);
  detail::AddCoordinationRoutes(sink, s_);
  detail::AddResponseRoutes(sink, s_);
  detail::AddTriageRoutes(sink, s_);
  detail::AddStatsRoutes(sink, s_);
  detail::AddLiveRoutes(sink, s_, options_);
}

Api::Api(ApiServices services, ApiOptions options) : impl_(std::make_unique<Impl>(services, options)) {}
Api::~Api() = default;
HttpResponse Api::Handle(const HttpRequest& request) const { return impl_->Handle(request); }
// Any method, so that `curl -T feed.json` (a PUT) learns to use POST (405) before it sends the body,
// instead of a 413 about the body's size.
bool Api::StreamsBody(const HttpRequest& head) { return head.path == "/api/v1/events"; }
std::vector<std::string> Api::Routes() const { return impl_->Routes(); }

}  // namespace hikeshi::api
