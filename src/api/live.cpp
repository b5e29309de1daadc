// GET /api/v1/stream: live updates as server-sent events. The audit journal is the change feed
// (every change appends one entry, in seq order); a stream sends one small event per entry the
// user may see, after the last seq it sent, and waits on core::ChangeSignal in between.
//
//   id: 123
//   event: change
//   data: {"seq":123,"object_type":"incident","object_id":"I-2026-000001","action":"incident.update",
//          "incident":"I-2026-000001"}
//
// Events carry names, never field values: the client fetches what changed through the ordinary,
// scoped API. What a user may see is decided through the store with the user's scope: an entry
// about an incident or report (or touching an incident's timeline) only when the store finds that
// object in the scope now; entries about other objects (users, tokens, constituencies, feed runs,
// mail of no incident) only for admins; login and logout for nobody. The credential is checked
// again every heartbeat and after any change to users, tokens or sessions, so a stream ends soon
// after a logout, a revoked token or a disabled account, and follows a changed scope.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "hikeshi/core/change_signal.hpp"

#include "detail/headers.hpp"
#include "detail/modules.hpp"

namespace hikeshi::api::detail {
namespace {

using Steady = std::chrono::steady_clock;

// Journal entries read per store round trip.
constexpr int kBatch = 200;
// A resume further back than this is not replayed: the client is told to reload (event "reset").
constexpr std::int64_t kMaxReplay = 1000;
// How long a client waits before reconnecting (the SSE "retry" field).
constexpr int kRetryMs = 2000;
// After a failed store read, the stream tries again after this.
constexpr std::chrono::seconds kReadRetry{1};

// How the stream's request was authenticated, kept to check it again later.
struct Credential {
  bool bearer = false;
  std::string secret;  // the token or the session secret; never logged
};

std::string_view CookieValue(const HttpRequest& request, std::string_view name) {
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

Credential CredentialOf(const HttpRequest& request) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view authorization = request.Header("authorization");
  if (authorization.starts_with(kBearer)) return {true, std::string(authorization.substr(kBearer.size()))};
  return {false, std::string(CookieValue(request, "hikeshi_session"))};
}

Result<std::optional<std::int64_t>> ParseSeq(std::string_view text, std::string_view field) {
  std::int64_t seq = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || seq < 0) {
    return Fail(Error::InvalidArgument("must be a journal sequence number (0 or more)", std::string(field)));
  }
  return std::optional<std::int64_t>(seq);
}

bool ChangesCredentials(const core::AuditEntry& entry) {
  return entry.object_type == "session" || entry.object_type == "user" || entry.object_type == "api_token";
}

class ChangeStream final : public ResponseStream {
 public:
  ChangeStream(const ApiServices& services, std::chrono::milliseconds heartbeat, Credential credential,
               core::Principal principal, std::int64_t after_seq)
      : s_(services),
        heartbeat_(heartbeat),
        credential_(std::move(credential)),
        principal_(std::move(principal)),
        after_seq_(after_seq),
        last_id_sent_(after_seq) {
    next_heartbeat_ = Steady::now() + heartbeat_;
    next_check_ = next_heartbeat_;
  }

  std::optional<std::string> Next(std::stop_token stop) override {
    while (!stop.stop_requested()) {
      const auto now = Steady::now();
      if (now >= next_check_ && !StillAuthenticated()) return std::nullopt;
      const std::int64_t latest = s_.changes->Latest();
      if (latest > after_seq_ && now >= retry_after_) {
        auto events = ReadBatch();
        if (!events) {
          // The store is busy or away: keep the connection and try again shortly.
          spdlog::warn("live stream of {}: cannot read the journal: {}", principal_.username, events.error().message());
          retry_after_ = now + kReadRetry;
        } else if (!events->empty()) {
          next_heartbeat_ = now + heartbeat_;
          return std::move(*events);
        } else if (ended_) {
          return std::nullopt;
        } else if (more_) {
          continue;
        }
        // Not to be woken again for what was just read (nor for a seq published ahead of its commit).
        waited_past_ = std::max(waited_past_, latest);
      }
      if (ended_) return std::nullopt;
      if (now >= next_heartbeat_) {
        next_heartbeat_ = now + heartbeat_;
        return Heartbeat();
      }
      auto deadline = std::min(next_heartbeat_, next_check_);
      if (retry_after_ > now) deadline = std::min(deadline, retry_after_);
      s_.changes->WaitForChange(std::max(after_seq_, waited_past_), deadline, stop);
    }
    return std::nullopt;
  }

 private:
  // A comment keeps proxies and the client from timing the connection out. The id line moves the
  // client's Last-Event-ID past entries it was not shown, so a reconnect does not scan them again.
  std::string Heartbeat() {
    std::string out = ": keep-alive\n";
    if (after_seq_ > last_id_sent_) {
      out += fmt::format("id: {}\n", after_seq_);
      last_id_sent_ = after_seq_;
    }
    return out + "\n";
  }

  bool StillAuthenticated() {
    next_check_ = Steady::now() + heartbeat_;
    auto auth = credential_.bearer ? s_.accounts.AuthenticateToken(credential_.secret)
                                   : s_.accounts.AuthenticateSession(credential_.secret);
    if (!auth) {
      if (auth.error().code() != ErrorCode::kUnauthenticated) {
        // Not a verdict on the credential (the store is busy): check again later.
        next_check_ = Steady::now() + kReadRetry;
        return true;
      }
      ended_ = true;
      return false;
    }
    principal_ = std::move(auth->principal);
    return true;
  }

  // The events for the next journal entries the user may see (possibly none), advancing after_seq_
  // past every entry read. Sets more_ when the batch was full.
  Result<std::string> ReadBatch() {
    std::vector<core::AuditEntry> entries;
    HIKESHI_CHECK(s_.store.Read([&](core::StoreReader& reader) -> Result<void> {
      HIKESHI_TRY(entries, reader.ListAudit(after_seq_, kBatch));
      return {};
    }));
    more_ = static_cast<int>(entries.size()) == kBatch;
    if (entries.empty()) return std::string();
    if (std::any_of(entries.begin(), entries.end(), ChangesCredentials) && !StillAuthenticated()) {
      return std::string();
    }
    std::vector<bool> visible(entries.size(), false);
    HIKESHI_CHECK(s_.store.Read([&](core::StoreReader& reader) -> Result<void> {
      std::map<std::string, bool, std::less<>> incidents;
      std::map<std::string, bool, std::less<>> reports;
      const auto incident_visible = [&](const std::string& id) -> Result<bool> {
        if (auto it = incidents.find(id); it != incidents.end()) return it->second;
        HIKESHI_TRY(const auto found, reader.FindIncident(principal_.scope, id));
        return incidents[id] = found.has_value();
      };
      const auto report_visible = [&](const std::string& id) -> Result<bool> {
        if (auto it = reports.find(id); it != reports.end()) return it->second;
        HIKESHI_TRY(const auto found, reader.FindReport(principal_.scope, id));
        return reports[id] = found.has_value();
      };
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        if (e.object_type == "session") continue;
        bool scoped = false;
        bool allowed = true;
        if (e.object_type == "incident") {
          HIKESHI_TRY(const bool ok, incident_visible(e.object_id));
          scoped = true;
          allowed = allowed && ok;
        } else if (e.object_type == "report") {
          HIKESHI_TRY(const bool ok, report_visible(e.object_id));
          scoped = true;
          allowed = allowed && ok;
        }
        if (!e.incident.empty() && allowed) {
          HIKESHI_TRY(const bool ok, incident_visible(e.incident));
          scoped = true;
          allowed = ok;
        }
        visible[i] = scoped ? allowed : principal_.role == core::Role::kAdmin;
      }
      return {};
    }));
    std::string out;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!visible[i]) continue;
      const auto& e = entries[i];
      nlohmann::ordered_json data;
      data["seq"] = e.seq;
      data["object_type"] = e.object_type;
      data["object_id"] = e.object_id;
      data["action"] = e.action;
      data["incident"] = e.incident.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.incident);
      out += fmt::format("id: {}\nevent: change\ndata: {}\n\n", e.seq,
                         data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      last_id_sent_ = e.seq;
    }
    after_seq_ = entries.back().seq;
    return out;
  }

  const ApiServices s_;
  const std::chrono::milliseconds heartbeat_;
  const Credential credential_;
  core::Principal principal_;
  std::int64_t after_seq_;     // the last journal entry read (sent or not)
  std::int64_t last_id_sent_;  // the last id the client was given
  std::int64_t waited_past_ = 0;
  bool more_ = false;
  bool ended_ = false;
  Steady::time_point next_heartbeat_;
  Steady::time_point next_check_;
  Steady::time_point retry_after_{};
};

// Where a stream starts: after the seq the client names (Last-Event-ID, else ?after=), or at the
// journal's end. A seq too far back, or one this journal does not hold, starts at the end with a
// "reset" event, telling the client to reload what it shows.
Result<std::pair<std::int64_t, std::string>> StartingPoint(const ApiServices& s, std::optional<std::int64_t> after) {
  const std::int64_t latest = s.changes->Latest();
  std::string opening = fmt::format("retry: {}\n\n", kRetryMs);
  if (!after) return std::pair{latest, opening};
  bool known = *after <= latest;
  if (!known) {
    // Another node may have published it before this one heard: is it in the journal?
    std::vector<core::AuditEntry> probe;
    HIKESHI_CHECK(s.store.Read([&](core::StoreReader& reader) -> Result<void> {
      HIKESHI_TRY(probe, reader.ListAudit(*after - 1, 1));
      return {};
    }));
    known = !probe.empty() && probe.front().seq == *after;
    if (known) s.changes->Publish(*after);
  }
  if (known && std::max(latest, *after) - *after <= kMaxReplay) return std::pair{*after, opening};
  opening += fmt::format("id: {}\nevent: reset\ndata: {{\"seq\":{}}}\n\n", latest, latest);
  return std::pair{latest, opening};
}

}  // namespace

void AddLiveRoutes(const RouteSink& add, const ApiServices& services, const ApiOptions& options) {
  const auto heartbeat = options.stream_heartbeat;
  add("GET", "/api/v1/stream", true, [services, heartbeat](Call& call) -> Result<HttpResponse> {
    if (services.changes == nullptr) return Fail(Error::Unavailable("live updates are not enabled on this server"));
    QueryReader q(call.request);
    std::optional<std::int64_t> after;
    if (const auto text = q.Get("after")) {
      HIKESHI_TRY(after, ParseSeq(*text, "/after"));
    }
    HIKESHI_CHECK(q.RejectUnknown());
    if (const std::string_view last = call.request.Header("last-event-id"); !last.empty()) {
      // What the browser sends when it reconnects: newer than the URL's ?after=.
      HIKESHI_TRY(after, ParseSeq(last, "/Last-Event-ID"));
    }
    HIKESHI_TRY(auto start, StartingPoint(services, after));
    HttpResponse response;
    response.headers.emplace_back("Content-Type", "text/event-stream; charset=utf-8");
    AddSecurityHeaders(response);
    response.headers.emplace_back("X-Accel-Buffering", "no");  // nginx: pass each event on at once
    response.body = std::move(start.second);  // sent with the head, before anything the stream produces
    response.stream =
        std::make_shared<ChangeStream>(services, heartbeat, CredentialOf(call.request), call.principal(), start.first);
    return response;
  });
}

}  // namespace hikeshi::api::detail
