#pragma once
// The REST API under /api/v1: routing, authentication (session cookie with CSRF token, or bearer
// token), request parsing and JSON rendering. Business rules live in core's use cases; this layer
// only translates. Thread-safe: Handle() is called concurrently by the HTTP server's threads.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hikeshi/api/http_server.hpp"
#include "hikeshi/core/accounts.hpp"
#include "hikeshi/core/bulk_actions.hpp"
#include "hikeshi/core/change_signal.hpp"
#include "hikeshi/core/constituencies.hpp"
#include "hikeshi/core/feed_ingest.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/investigations.hpp"
#include "hikeshi/core/mail_files.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/observables.hpp"
#include "hikeshi/core/playbooks.hpp"
#include "hikeshi/core/reports.hpp"
#include "hikeshi/core/response.hpp"
#include "hikeshi/core/sla_monitor.hpp"
#include "hikeshi/core/stats.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/core/triage_service.hpp"

namespace hikeshi::api {

// The use cases the API serves; all must outlive the Api.
struct ApiServices {
  core::Store& store;  // read-only use: turning ids into names for display
  core::Accounts& accounts;
  core::Incidents& incidents;
  core::Reports& reports;
  core::Constituencies& constituencies;
  core::Observables& observables;
  core::FeedIngest& feeds;                // reading feed runs and their rejects
  core::FeedIntake* intake = nullptr;     // POST /events; answers 503 when absent
  core::MailIntake* mail = nullptr;       // POST /mail; answers 503 when absent
  core::MailFiles* mail_files = nullptr;  // raw messages and attachments; 503 when absent
  core::TriageService* triage = nullptr;  // /triage/rules, /reports/{id}/triage; 503 when absent
  core::Playbooks* playbooks = nullptr;    // /playbooks; 503 when absent
  core::ResponseLoop* response = nullptr;  // tasks, plan, countermeasures, review, links; 503 when absent
  core::BulkActions* bulk = nullptr;       // /reports/bulk, /incidents/bulk; 503 when absent
  core::Contacts* contacts = nullptr;              // /contacts; 503 when absent
  core::Investigations* investigations = nullptr;  // /incidents/{id}/investigations; 503 when absent
  core::ChangeSignal* changes = nullptr;           // GET /stream (live updates); 503 when absent
  core::SlaMonitor* sla = nullptr;                 // /sla/breaches, /incidents/{id}/sla; 503 when absent
  core::Statistics* stats = nullptr;               // /stats; 503 when absent
};

struct ApiOptions {
  bool secure_cookies = false;  // set when served over TLS (directly or behind a proxy)
  std::chrono::seconds session_ttl{12 * 3600};
  // The built web UI served for GET paths outside /api/; empty: the source tree's web/dist.
  std::filesystem::path web_root;
  // team.toml, shown on the public team page; absent file: the page says there is none.
  std::filesystem::path team_profile;
  // POST /api/v1/public/reports: how many one client address may submit per hour.
  int public_reports_per_hour = 10;
  // GET /api/v1/stream: how often an idle stream sends a keep-alive comment (and checks that its
  // credential is still valid).
  std::chrono::milliseconds stream_heartbeat{15'000};
};

class Api {
 public:
  Api(ApiServices services, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Answers one request. Expected failures become problem+json responses; never throws for them.
  HttpResponse Handle(const HttpRequest& request) const;
  // Whether a request's body is to reach Handle() as it arrives (HttpServerOptions::stream_body):
  // a feed (POST /api/v1/events), whatever its size. Every other body is read whole, within the
  // server's max_body_bytes.
  static bool StreamsBody(const HttpRequest& head);
  // "METHOD /path/{param}" for every route, so tests can hold the OpenAPI document to them.
  std::vector<std::string> Routes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3.1 document served at /api/v1/openapi.json.
std::string_view OpenApiDocument();

}  // namespace hikeshi::api
