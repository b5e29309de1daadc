// hikeshi: the command-line entry point and composition root. Only this folder names concrete
// backends (through store_factory: SQLite or PostgreSQL) and wires them to core's use cases and the API.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "hikeshi/api/api.hpp"
#include "hikeshi/api/http_server.hpp"
#include "hikeshi/api/problem.hpp"
#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/accounts.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/bulk_actions.hpp"
#include "hikeshi/core/change_signal.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/constituencies.hpp"
#include "hikeshi/core/feed_ingest.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/investigations.hpp"
#include "hikeshi/core/observables.hpp"
#include "hikeshi/core/playbooks.hpp"
#include "hikeshi/core/reporter_notices.hpp"
#include "hikeshi/core/reports.hpp"
#include "hikeshi/core/response.hpp"
#include "hikeshi/core/sla_monitor.hpp"
#include "hikeshi/core/stats.hpp"
#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/intake/feed/sources.hpp"
#include "hikeshi/intake/lmtp/lmtp_server.hpp"
#include "hikeshi/intake/pipeline/feed_pipeline.hpp"
#include "hikeshi/pgp/gpg_keyring.hpp"
#include "hikeshi/store/files/file_blob_store.hpp"
#include "hikeshi/triage/rules_toml.hpp"

#include "default_playbooks.hpp"
#include "exit_codes.hpp"
#include "mail_commands.hpp"
#include "migrate_command.hpp"
#include "report_command.hpp"
#include "rules_commands.hpp"
#include "sla_service.hpp"
#include "store_factory.hpp"
#include "triage_file.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

// Everything a command needs, wired once. Members are declared in dependency order.
struct Hikeshi {
  core::SystemClock clock;
  StoreLocation location;  // where `store` lives (and its blobs: OpenBlobStore)
  std::unique_ptr<core::Store> store;
  std::unique_ptr<core::Accounts> accounts;
  std::unique_ptr<core::Incidents> incidents;
  std::unique_ptr<::hikeshi::triage::TomlRuleSetCodec> rule_codec;
  std::unique_ptr<core::TriageService> triage;  // triages every report intake stores
  std::unique_ptr<core::Reports> reports;
  std::unique_ptr<core::Constituencies> constituencies;
  std::unique_ptr<core::Observables> observables;
  std::unique_ptr<core::FeedIngest> feeds;
  std::unique_ptr<core::Playbooks> playbooks;
  std::unique_ptr<core::ResponseLoop> response;
  std::unique_ptr<core::BulkActions> bulk;
  std::unique_ptr<extract::Extractor> extractor;
};

// The feed pipeline over an opened store. Named mappings live in DATA/feeds/<name>.toml.
Result<std::unique_ptr<intake::pipeline::FeedPipeline>> MakePipeline(Hikeshi& h, const fs::path& data_dir,
                                                                     intake::pipeline::PipelineOptions options) {
  if (!h.extractor) {
    HIKESHI_TRY(h.extractor, extract::Extractor::Create());
  }
  options.mappings_dir = data_dir / "feeds";
  options.ingest.triage = h.triage.get();
  return std::make_unique<intake::pipeline::FeedPipeline>(*h.store, h.clock, h.extractor.get(), std::move(options));
}

// The --store option of the command being run (set once by Main, before any command runs); empty
// means HIKESHI_STORE, then the SQLite file in the data directory (store_factory.hpp).
std::string& StoreOption() {
  static std::string store;
  return store;
}

// Where the store lives, for messages: the SQLite file, or the PostgreSQL URL without its password.
std::string StoreShown(const fs::path& data_dir) {
  const char* env = std::getenv("HIKESHI_STORE");
  const auto location = ResolveStore(StoreOption(), env == nullptr ? "" : env, data_dir);
  return location ? location->Describe() : data_dir.string();
}

// With `changes` (serve), every committed write is announced there for live updates; `changes`
// must then outlive the result.
Result<std::unique_ptr<Hikeshi>> Open(const fs::path& data_dir, bool create, core::ChangeSignal* changes = nullptr) {
  const char* env = std::getenv("HIKESHI_STORE");
  HIKESHI_TRY(const StoreLocation location, ResolveStore(StoreOption(), env == nullptr ? "" : env, data_dir));
  auto h = std::make_unique<Hikeshi>();
  h->location = location;
  HIKESHI_TRY(h->store, OpenStore(location, create));
  if (changes != nullptr) h->store = std::make_unique<core::SignallingStore>(std::move(h->store), *changes);
  h->accounts = std::make_unique<core::Accounts>(*h->store, h->clock);
  h->incidents = std::make_unique<core::Incidents>(*h->store, h->clock);
  h->rule_codec = std::make_unique<triage::TomlRuleSetCodec>();
  h->triage = std::make_unique<core::TriageService>(*h->store, h->clock, *h->incidents, *h->rule_codec);
  h->reports = std::make_unique<core::Reports>(*h->store, h->clock, h->triage.get());
  h->constituencies = std::make_unique<core::Constituencies>(*h->store, h->clock);
  h->observables = std::make_unique<core::Observables>(*h->store);
  h->feeds = std::make_unique<core::FeedIngest>(*h->store, h->clock);
  h->playbooks = std::make_unique<core::Playbooks>(*h->store, h->clock);
  h->response = std::make_unique<core::ResponseLoop>(*h->store, h->clock);
  h->bulk = std::make_unique<core::BulkActions>(*h->reports, *h->incidents);
  return h;
}

// Loads the key that seals TOTP secrets (DATA/keys/totp.key), making it when missing, and rebuilds
// Accounts over it. Like the blob key it must be backed up: without it, users who turned on two-factor
// login cannot log in until an admin resets it (`hikeshi user reset-totp`).
Result<void> UseTotpKey(Hikeshi& h, const fs::path& data_dir, std::string_view issuer) {
  const fs::path key_file = data_dir / "keys" / "totp.key";
  auto key = store::files::LoadBlobKey(key_file, true);
  if (!key) return Fail(Error(key.error().code(), "TOTP key " + key_file.string() + ": " + key.error().message()));
  core::AccountsOptions options;
  options.totp_key = std::move(*key);
  if (!issuer.empty()) options.totp_issuer = std::string(issuer);
  h.accounts = std::make_unique<core::Accounts>(*h.store, h.clock, std::move(options));
  return {};
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : std::move(fallback);
}

Result<int> Init(const fs::path& data_dir) {
  HIKESHI_TRY(auto h, Open(data_dir, true));
  const std::string from_env = EnvOr("HIKESHI_ADMIN_PASSWORD", "");
  const std::string password = from_env.empty() ? common::RandomToken(18) : from_env;
  HIKESHI_TRY(const auto admin, h->accounts->Bootstrap(password));
  // Mail: a commented configuration file, the key that seals stored mail, the team's PGP key.
  // Made when missing, so running init again upgrades an older data directory.
  HIKESHI_CHECK(WriteDefaultConfig(data_dir));
  HIKESHI_TRY(const auto mail_config, LoadMailConfig(data_dir));
  HIKESHI_CHECK(InitMailKeys(h->location, mail_config));
  // Triage: the default rule file when there is none, stored as the rule set's first version.
  HIKESHI_CHECK(WriteDefaultTriageRules(data_dir));
  HIKESHI_TRY(const auto rules, LoadTriageRules(*h->triage, core::Principal::LocalOperator(), data_dir));
  if (rules.created) {
    fmt::print("Stored {} as triage rule set version {}\n", TriageFile(data_dir).string(), rules.stored.version);
  }
  HIKESHI_CHECK(UseTotpKey(*h, data_dir, mail_config.team_name));
  // The default playbooks, in Japanese and English; one a team already has is left alone.
  HIKESHI_TRY(const int playbooks, InstallDefaultPlaybooks(*h->playbooks));
  if (playbooks > 0) fmt::print("Added {} default playbooks (GET /api/v1/playbooks).\n", playbooks);
  if (!admin) {
    fmt::print("Hikeshi store in {} is already initialised; nothing changed.\n", StoreShown(data_dir));
    return kExitOk;
  }
  fmt::print("Initialised Hikeshi store in {}\n", StoreShown(data_dir));
  if (from_env.empty()) {
    fmt::print("Created user 'admin' with password: {}\nIt is shown only this once.\n", password);
  } else {
    fmt::print("Created user 'admin' with the password from HIKESHI_ADMIN_PASSWORD.\n");
  }
  return kExitOk;
}

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int request_timeout_ms = 15'000;
  int upload_idle_timeout_ms = 300'000;
  int threads = 4;
  bool secure_cookies = false;
  std::string port_file;
  std::string web_root;              // empty: the source tree's web/dist
  std::string lmtp;                  // host:port of the LMTP listener; empty: none
  int lmtp_workers = 16;             // LMTP deliveries at once (they share commits)
  int max_streams = 256;             // live-update streams open at once
  int change_poll_ms = 1000;         // journal poll, the fallback for missed notifications; 0: none
  int stream_heartbeat_ms = 15'000;  // keep-alive comment on an idle stream
};

Result<int> Serve(const fs::path& data_dir, const ServeOptions& o) {
  core::ChangeSignal changes;  // outlives the store that signals it
  HIKESHI_TRY(auto h, Open(data_dir, false, &changes));
  HIKESHI_TRY(const auto rules, LoadTriageRules(*h->triage, core::Principal::LocalOperator(), data_dir));
  if (rules.created) {
    spdlog::info("triage rule set version {} stored from {}", rules.stored.version, TriageFile(data_dir).string());
  }
  HIKESHI_TRY(auto pipeline, MakePipeline(*h, data_dir, {}));
  HIKESHI_TRY(auto mail, OpenMailServices(h->location, *h->store, h->clock, h->extractor.get(), h->triage.get()));
  HIKESHI_CHECK(UseTotpKey(*h, data_dir, mail->config.team_name));
  core::MailFiles mail_files(*h->store, *mail->blobs);
  // Coordination with outside parties: contacts, investigations, and the notice to reporters when
  // an incident is resolved.
  const core::TeamMailOptions team_mail{mail->config.team_address, mail->config.team_name, mail->config.subject_tag};
  core::Contacts contacts(*h->store, h->clock, mail->keyring.get());
  core::Investigations investigations(*h->store, h->clock, mail->keyring.get(), team_mail);
  const core::ReporterNotices reporter_notices(team_mail);
  h->incidents->SetReporterNotices(&reporter_notices);
  api::ApiServices services{*h->store,       *h->accounts, *h->incidents,  *h->reports,          *h->constituencies,
                            *h->observables, *h->feeds,    pipeline.get(), mail->pipeline.get(), &mail_files};
  services.contacts = &contacts;
  services.investigations = &investigations;
  services.playbooks = h->playbooks.get();
  services.response = h->response.get();
  services.bulk = h->bulk.get();
  services.triage = h->triage.get();
  // SLA clocks from the journal, breaches recorded in the background, statistics.
  HIKESHI_TRY(const auto sla_config, LoadSlaConfig(data_dir));
  core::SlaMonitor sla(*h->store, h->clock, sla_config.policy);
  core::Statistics statistics(*h->store, sla, h->clock);
  services.sla = &sla;
  services.stats = &statistics;
  // Live updates (GET /api/v1/stream): the journal's end now; then this node's commits
  // (SignallingStore), other nodes' (PostgreSQL LISTEN), and a poll of the journal as the fallback.
  HIKESHI_TRY(const auto journal_end, core::FindJournalEnd(*h->store));
  changes.Publish(journal_end);
  HIKESHI_TRY(const auto change_watch,
              WatchChanges(h->location, changes, [](std::string_view message) { spdlog::warn("{}", message); }));
  std::optional<core::JournalPoller> change_poller;
  if (o.change_poll_ms > 0) change_poller.emplace(*h->store, changes, std::chrono::milliseconds(o.change_poll_ms));
  services.changes = &changes;
  api::Api api(services, {.secure_cookies = o.secure_cookies,
                          .web_root = o.web_root,
                          .team_profile = data_dir / "team.toml",
                          .stream_heartbeat = std::chrono::milliseconds(o.stream_heartbeat_ms)});
  std::optional<BreachWatch> breach_watch;
  if (sla_config.check_interval_seconds > 0) {
    breach_watch.emplace(sla, std::chrono::seconds(sla_config.check_interval_seconds));
  }
  std::optional<DeliveryWorker> delivery;
  if (mail->delivery) {
    delivery.emplace(*mail->delivery, std::chrono::milliseconds(mail->config.delivery_interval_ms));
  } else {
    spdlog::warn("no [mail] smtp_url in {}: acknowledgements are queued, not sent",
                 (data_dir / "hikeshi.toml").string());
  }
  // LMTP: each recipient is answered only after the message is committed; a failure to store it is
  // 451, so the MTA keeps the message and retries.
  std::unique_ptr<intake::lmtp::LmtpServer> lmtp;
  if (!o.lmtp.empty()) {
    intake::lmtp::LmtpOptions lmtp_options;
    lmtp_options.listen = o.lmtp;
    lmtp_options.delivery_threads = o.lmtp_workers;
    lmtp_options.max_message_bytes = std::max(mail->config.max_message_bytes, std::size_t{1} << 20) * 4;
    auto* pipeline_ptr = mail->pipeline.get();
    HIKESHI_TRY(lmtp, intake::lmtp::LmtpServer::Start(
                          lmtp_options, [pipeline_ptr](const intake::lmtp::LmtpEnvelope& envelope, std::string raw) {
                            auto receipt = pipeline_ptr->Deliver(MailGateway("lmtp"), raw);
                            Result<void> stored;
                            if (!receipt) {
                              spdlog::warn("LMTP from {}: not stored (451): {}", envelope.client_address,
                                           receipt.error().message());
                              stored = Fail(receipt.error());
                            } else {
                              spdlog::info("LMTP: {} {}", core::MailOutcomeName(receipt->outcome),
                                           receipt->report.empty() ? receipt->incident : receipt->report);
                            }
                            return std::vector<Result<void>>(envelope.recipients.size(), stored);
                          }));
    spdlog::info("LMTP listening on port {}", lmtp->Port());
    if (!o.port_file.empty()) std::ofstream(o.port_file + ".lmtp") << lmtp->Port() << "\n";
  }
  api::HttpServerOptions options;
  options.listen = o.listen;
  options.max_body_bytes = o.max_body_bytes;
  options.max_header_bytes = o.max_header_bytes;
  options.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
  options.streamed_body_idle_timeout = std::chrono::milliseconds(o.upload_idle_timeout_ms);
  options.threads = o.threads;
  options.max_streams = o.max_streams;
  options.stream_body = &api::Api::StreamsBody;  // feeds of any size, in constant memory
  // Access log: method, path (never the query or body, which may hold search terms or secrets),
  // status and duration.
  auto handler = [&api](const api::HttpRequest& request) {
    const auto start = std::chrono::steady_clock::now();
    auto response = api.Handle(request);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    spdlog::info("{} {} {} {} {}us", request.remote_address, request.method, request.path, response.status, us.count());
    return response;
  };
  auto refused = [](const Error& error) {
    spdlog::warn("refused request: {}", error.message());
    return api::ProblemResponse(error);
  };
  api::HttpServer server(options, handler, refused);
  HIKESHI_CHECK(server.Start());
  const std::string host = o.listen.substr(0, o.listen.rfind(':'));
  spdlog::info("Hikeshi serving {} on http://{}:{}/ (stop with Ctrl-C or SIGTERM)", StoreShown(data_dir), host,
               server.port());
  if (!o.port_file.empty()) {
    std::ofstream(o.port_file) << server.port() << "\n";
  }
  server.Run();
  if (lmtp) lmtp->Stop();
  delivery.reset();
  breach_watch.reset();
  (void)pgp::StopAgent(data_dir / "gnupg");  // decryption started it; it must not outlive the server
  spdlog::info("Hikeshi stopped");
  return kExitOk;
}

Result<std::string> NewPassword(bool from_stdin, bool& generated) {
  std::string password = EnvOr("HIKESHI_PASSWORD", "");
  generated = false;
  if (from_stdin) {
    if (!std::getline(std::cin, password)) return Fail(Error::InvalidArgument("no password on standard input"));
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else if (password.empty()) {
    password = common::RandomToken(18);
    generated = true;
  }
  return password;
}

struct UserOptions {
  std::string username;
  std::string display_name;
  std::string role = "handler";
  std::vector<std::string> constituencies;
  bool all_constituencies = false;
  bool password_stdin = false;
};

Result<int> UserAdd(const fs::path& data_dir, const UserOptions& o) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  const auto role = core::ParseRole(o.role);
  if (!role) return Fail(Error::InvalidArgument("--role must be admin, handler, viewer or constituent"));
  bool generated = false;
  HIKESHI_TRY(const auto password, NewPassword(o.password_stdin, generated));
  core::NewUser request{o.username, o.display_name, password, *role, o.all_constituencies, o.constituencies};
  HIKESHI_TRY(const auto user, h->accounts->AddUser(core::Principal::LocalOperator(), request));
  fmt::print("Added {} '{}'\n", core::RoleName(user.role), user.username);
  if (generated) fmt::print("Password: {}\nIt is shown only this once.\n", password);
  return kExitOk;
}

// For the admin who lost the phone: the local operator removes anyone's second factor.
Result<int> UserResetTotp(const fs::path& data_dir, const std::string& username) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  HIKESHI_CHECK(h->accounts->ResetTotp(core::Principal::LocalOperator(), username));
  fmt::print("Two-factor login of '{}' removed; they log in with the password alone until they enrol again.\n",
             username);
  return kExitOk;
}

Result<int> ConstituencyAdd(const fs::path& data_dir, const core::NewConstituency& request) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  HIKESHI_TRY(const auto c, h->constituencies->Add(core::Principal::LocalOperator(), request));
  fmt::print("Added constituency '{}' ({} CIDRs, {} ASNs, {} domains)\n", c.name, c.cidrs.size(), c.asns.size(),
             c.domains.size());
  return kExitOk;
}

Result<int> TokenCreate(const fs::path& data_dir, const std::string& username, const std::string& name) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  HIKESHI_TRY(const auto issued, h->accounts->CreateToken(core::Principal::LocalOperator(), username, name));
  // The secret alone on stdout, so scripts can capture it: TOKEN=$(hikeshi token create ...).
  fmt::print("{}\n", issued.secret);
  fmt::print(stderr, "Token {} for '{}' created; it is shown only this once.\n", issued.token.id, username);
  return kExitOk;
}

Result<int> AuditVerify(const fs::path& data_dir) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  HIKESHI_TRY(const auto verdict, core::VerifyAudit(*h->store));
  if (verdict.ok()) {
    fmt::print("audit journal intact: {} entries verified, {} objects match the journal\n", verdict.entries_checked,
               verdict.objects_checked);
    return kExitOk;
  }
  if (verdict.first_bad_seq && *verdict.first_bad_seq > 0) {
    fmt::print(stderr, "AUDIT VERIFICATION FAILED at entry #{}: {}\n", *verdict.first_bad_seq, verdict.problem);
  } else {
    fmt::print(stderr, "AUDIT VERIFICATION FAILED: {}\n", verdict.problem);
  }
  return kExitVerifyFailed;
}

struct IngestFeedOptions {
  std::string format;
  std::string mapping;
  std::string input = "-";
  std::size_t batch = 10'000;
  std::size_t fold_memory_mib = 64;
  bool auto_link = false;
  std::string unmatched = "coordination";
  std::string tlp = "AMBER";
  bool quiet = false;
};

Result<int> IngestFeed(const fs::path& data_dir, const IngestFeedOptions& o) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  intake::pipeline::PipelineOptions options;
  options.batch_size = o.batch;
  options.max_pending_bytes = o.fold_memory_mib << 20;
  options.allow_mapping_paths = true;
  options.ingest.auto_link = o.auto_link;
  if (o.unmatched == "out-of-scope") {
    options.unmatched = routing::UnmatchedPolicy::kOutOfScope;
  } else if (o.unmatched != "coordination") {
    return Fail(Error::InvalidArgument("--unmatched must be coordination or out-of-scope"));
  }
  const auto tlp = core::ParseTlp(o.tlp);
  if (!tlp) return Fail(Error::InvalidArgument("--tlp must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED"));
  const auto started = std::chrono::steady_clock::now();
  if (!o.quiet) {
    // Progress on stderr after every committed batch, so a long feed shows it is alive.
    options.on_batch = [started](const core::FeedRun& run) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      fmt::print(stderr, "run {}: {} records ({} new, {} duplicate, {} rejected) in {:.1f}s, {:.0f} records/s\n",
                 run.id, run.records, run.events_new, run.duplicates, run.rejects, s, run.records / std::max(s, 1e-6));
    };
  }
  HIKESHI_TRY(auto pipeline, MakePipeline(*h, data_dir, std::move(options)));
  std::unique_ptr<core::ByteSource> input;
  if (o.input == "-") {
    input = std::make_unique<intake::feed::FdSource>(0);
  } else {
    HIKESHI_TRY(auto file, intake::feed::FileSource::Open(o.input));
    input = std::make_unique<intake::feed::FileSource>(std::move(file));
  }
  const core::FeedRequest request{.format = o.format,
                                  .source = o.input == "-" ? "-" : fs::path(o.input).filename().string(),
                                  .mapping_name = o.mapping,
                                  .tlp = tlp};
  auto ingested = pipeline->Ingest(core::Principal::LocalOperator(), request, *input);
  if (!ingested) {
    const ErrorCode code = ingested.error().code();
    if (code == ErrorCode::kUnavailable || code == ErrorCode::kInternal) {
      // A storage error: nothing stored is lost, and the command is safe to repeat.
      fmt::print(stderr,
                 "the events stored before this error are kept; once it is resolved, run the same command again: "
                 "it stores the rest and brings the feed's reports up to date\n");
    }
    return Fail(ingested.error());
  }
  const auto& run = *ingested;
  fmt::print(
      "feed run {} ({}, {}): {} records: {} stored, {} duplicate, {} rejected; reports {} created, {} updated; "
      "{} correlations\n",
      run.id, run.format, run.source, run.records, run.events_new, run.duplicates, run.rejects, run.reports_created,
      run.reports_updated, run.correlations);
  if (run.skipped > 0) {
    fmt::print(
        "{} more with nothing to store were skipped (blank lines, Suricata events other than alerts, MISP "
        "attributes marked deleted)\n",
        run.skipped);
  }
  if (run.rejects > 0) {
    // The first rejects with their record (line) numbers and reasons, so that the summary alone says
    // what was wrong; all of them are kept with the run.
    constexpr int kShown = 10;
    std::vector<core::FeedReject> first;
    const auto read = h->store->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(first, r.ListFeedRejects(run.id, 0, kShown));
      return {};
    });
    if (read && !first.empty()) {
      fmt::print("rejected ({}{}):\n",
                 run.rejects > static_cast<std::int64_t>(first.size())
                     ? fmt::format("the first {} of {}", first.size(), run.rejects)
                     : std::string("all"),
                 ", each kept with its raw record");
      for (const auto& reject : first) fmt::print("  {}\n", reject.reason);
    }
    fmt::print("rejected records are kept: GET /api/v1/feeds/runs/{}/rejects, or the web UI's Feeds page\n", run.id);
  }
  return kExitOk;
}

// The MTA pipe: whatever fails before the commit, the MTA must keep the message (EX_TEMPFAIL).
int RunMailgate(const fs::path& data_dir, std::size_t hard_limit) {
  auto h = Open(data_dir, false);
  if (!h) {
    fmt::print(stderr, "hikeshi mailgate: store unavailable, try again later: {}\n", h.error().message());
    return kExitTempFail;
  }
  auto extractor = extract::Extractor::Create();
  if (!extractor) {
    fmt::print(stderr, "hikeshi mailgate: {}\n", extractor.error().message());
    return kExitTempFail;
  }
  (*h)->extractor = std::move(*extractor);
  auto mail = OpenMailServices((*h)->location, *(*h)->store, (*h)->clock, (*h)->extractor.get(), (*h)->triage.get());
  if (!mail) {
    fmt::print(stderr, "hikeshi mailgate: mail intake unavailable, try again later: {}\n", mail.error().message());
    return kExitTempFail;
  }
  return Mailgate(**mail, hard_limit);
}

Result<int> RunIngestMail(const fs::path& data_dir, const IngestMailOptions& options) {
  HIKESHI_TRY(auto h, Open(data_dir, false));
  HIKESHI_TRY(h->extractor, extract::Extractor::Create());
  HIKESHI_TRY(auto mail, OpenMailServices(h->location, *h->store, h->clock, h->extractor.get(), h->triage.get()));
  return IngestMail(*mail, options);
}

int Report(Result<int> result) {
  if (result) return *result;
  const Error& e = result.error();
  fmt::print(stderr, "hikeshi: {}{}\n", e.message(), e.field().empty() ? "" : " (" + e.field() + ")");
  return ExitCodeOf(e);
}

int Main(int argc, char** argv) {
  common::InitCrypto();
  spdlog::set_default_logger(spdlog::stderr_color_mt("hikeshi"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  CLI::App app{"Hikeshi: incident handling for CSIRTs"};
  app.require_subcommand(1);
  std::string data = "./data";
  const auto add_data = [&data](CLI::App* cmd) {
    cmd->add_option("--data", data, "Data directory holding the store")->capture_default_str();
    cmd->add_option("--store", StoreOption(),
                    "A postgres:// or postgresql:// URL to keep the store in PostgreSQL instead of the data "
                    "directory (default: $HIKESHI_STORE, else SQLite in --data)");
  };

  auto* init = app.add_subcommand("init", "Create the store and the first admin account");
  add_data(init);

  ServeOptions serve_options;
  auto* serve = app.add_subcommand("serve", "Serve the API and UI over HTTP");
  add_data(serve);
  serve->add_option("--listen", serve_options.listen, "host:port to listen on (port 0 picks a free one)")
      ->capture_default_str();
  serve->add_option("--max-body-bytes", serve_options.max_body_bytes, "Largest request body accepted")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  serve->add_option("--max-header-bytes", serve_options.max_header_bytes, "Largest request header block accepted")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 20));
  serve
      ->add_option("--request-timeout-ms", serve_options.request_timeout_ms,
                   "Time a client has to send a complete request")
      ->capture_default_str()
      ->check(CLI::Range(100, 600'000));
  serve
      ->add_option("--upload-idle-timeout-ms", serve_options.upload_idle_timeout_ms,
                   "How long a feed upload (POST /api/v1/events) may pause before it is cut off")
      ->capture_default_str()
      ->check(CLI::Range(100, 86'400'000));
  serve->add_option("--threads", serve_options.threads, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  serve->add_flag("--secure-cookies", serve_options.secure_cookies, "Mark cookies Secure (serve behind TLS)");
  serve->add_option("--port-file", serve_options.port_file, "Write the bound port to this file");
  serve->add_option("--lmtp", serve_options.lmtp,
                    "Also take mail over LMTP on host:port (e.g. 127.0.0.1:2424; port 0 picks a free one, "
                    "written to PORT_FILE.lmtp)");
  serve
      ->add_option("--lmtp-workers", serve_options.lmtp_workers,
                   "LMTP deliveries stored at once; they share commits, so more than the cores helps")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_option("--web-root", serve_options.web_root, "Directory of the built web UI (default: web/dist)");
  serve->add_option("--max-streams", serve_options.max_streams, "Live-update streams open at once (past it: 503)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  serve
      ->add_option("--change-poll-ms", serve_options.change_poll_ms,
                   "How often live updates poll the journal, the fallback for a missed notification (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 600'000));
  serve
      ->add_option("--stream-heartbeat-ms", serve_options.stream_heartbeat_ms,
                   "Keep-alive interval of an idle live-update stream")
      ->capture_default_str()
      ->check(CLI::Range(100, 600'000));

  auto* user = app.add_subcommand("user", "Manage users");
  user->require_subcommand(1);
  UserOptions user_options;
  auto* user_add = user->add_subcommand("add",
                                        "Add a user; the password comes from HIKESHI_PASSWORD, "
                                        "--password-stdin, or is generated and printed once");
  add_data(user_add);
  user_add->add_option("--username,username", user_options.username, "Login name")->required();
  user_add->add_option("--role", user_options.role, "admin, handler, viewer or constituent")->capture_default_str();
  user_add->add_option("--constituency", user_options.constituencies, "A constituency in the user's scope (repeat)");
  user_add->add_flag("--all-constituencies", user_options.all_constituencies, "The user sees every constituency");
  user_add->add_option("--display-name", user_options.display_name, "Full name");
  user_add->add_flag("--password-stdin", user_options.password_stdin, "Read the password from standard input");
  std::string reset_totp_user;
  auto* user_reset_totp = user->add_subcommand("reset-totp", "Remove a user's two-factor login (a lost phone)");
  add_data(user_reset_totp);
  user_reset_totp->add_option("--username,username", reset_totp_user, "Login name")->required();

  auto* constituency = app.add_subcommand("constituency", "Manage constituencies");
  constituency->require_subcommand(1);
  core::NewConstituency new_constituency;
  auto* constituency_add = constituency->add_subcommand("add", "Add a constituency");
  add_data(constituency_add);
  constituency_add->add_option("--name,name", new_constituency.name, "Short name, e.g. example-univ")->required();
  constituency_add->add_option("--description", new_constituency.description, "What it is");
  constituency_add->add_option("--cidr", new_constituency.cidrs, "A network it owns (repeat)");
  constituency_add->add_option("--asn", new_constituency.asns, "An AS number it operates (repeat)");
  constituency_add->add_option("--domain", new_constituency.domains, "A domain it owns (repeat)");

  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  std::string token_user;
  std::string token_name;
  auto* token_create = token->add_subcommand("create", "Print a new bearer token for a user");
  add_data(token_create);
  token_create->add_option("--user", token_user, "Whose token")->required();
  token_create->add_option("--name", token_name, "What the token is for");

  auto* ingest = app.add_subcommand("ingest", "Take in reports and events in bulk");
  ingest->require_subcommand(1);
  IngestFeedOptions feed_options;
  auto* ingest_feed = ingest->add_subcommand("feed", "Ingest a machine feed (a file, or - for stdin)");
  add_data(ingest_feed);
  ingest_feed
      ->add_option("--format", feed_options.format, "ndjson, csv, shadowserver, suricata-eve, xarf, iodef or misp")
      ->required();
  ingest_feed->add_option("--mapping", feed_options.mapping,
                          "For ndjson/csv: a mapping name (DATA/feeds/NAME.toml) or a path to a TOML file");
  ingest_feed->add_option("--batch", feed_options.batch, "Events per transaction")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  ingest_feed
      ->add_option(
          "--fold-memory", feed_options.fold_memory_mib,
          "MiB that aggregate reports may hold while they wait for a fold; a feed naming more sources "
          "than fit (about 200,000 reports per 64 MiB, fewer when each holds dozens of observables) folds sooner "
          "and rewrites its reports more often")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{65'536}));
  ingest_feed->add_flag("--auto-link", feed_options.auto_link,
                        "Link a new report to the one open incident it correlates with");
  ingest_feed
      ->add_option("--unmatched", feed_options.unmatched,
                   "Where events no constituency matches go: coordination or out-of-scope")
      ->capture_default_str();
  ingest_feed
      ->add_option("--tlp", feed_options.tlp,
                   "The TLP label of the feed's reports; a record its source labels more restrictively (a MISP "
                   "tlp: tag, an IODEF restriction, a mapped tlp field) makes its report that")
      ->capture_default_str();
  ingest_feed->add_flag("--quiet", feed_options.quiet, "No progress lines");
  ingest_feed->add_option("input", feed_options.input, "The feed file, or - for standard input")->capture_default_str();

  IngestMailOptions mail_options;
  auto* ingest_mail =
      ingest->add_subcommand("mail", "Ingest mail: a maildir, an mbox file, or a directory of .eml files");
  add_data(ingest_mail);
  ingest_mail->add_flag("--quiet", mail_options.quiet, "No progress lines");
  ingest_mail
      ->add_option("--workers", mail_options.workers,
                   "Messages delivered at once, sharing commits (1: strictly in the input's order)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  ingest_mail->add_option("path", mail_options.path, "The maildir, mbox or directory")->required();

  std::size_t mailgate_limit = std::size_t{256} << 20;
  auto* mailgate =
      app.add_subcommand("mailgate",
                         "Store one message from standard input (for an MTA pipe); exit 0 only once it is committed, "
                         "75 when it could not be stored (the MTA retries)");
  add_data(mailgate);
  mailgate->add_option("--hard-limit-bytes", mailgate_limit, "Refuse (exit 65) messages larger than this")
      ->capture_default_str();
  std::string mailgate_url;
  std::string mailgate_token_file;
  mailgate->add_option("--url", mailgate_url,
                       "Hand the message to a running server (http://host:port) instead of opening the store");
  mailgate->add_option("--token-file", mailgate_token_file,
                       "With --url: a file holding the bearer token (default: $HIKESHI_TOKEN)");

  auto* audit = app.add_subcommand("audit", "Audit journal");
  audit->require_subcommand(1);
  auto* audit_verify = audit->add_subcommand("verify", "Check the hash chain and that the data matches the journal");
  add_data(audit_verify);

  MigrateOptions migrate_options;
  auto* migrate = AddMigrateCommand(app, migrate_options);

  RulesTestOptions rules_test_options;
  auto* rules_test = AddRulesCommands(app, rules_test_options);
  add_data(rules_test);

  ReportOptions report_options;
  auto* report = AddReportCommand(app, report_options);
  add_data(report);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  const fs::path data_dir(data);
  if (*init) return Report(Init(data_dir));
  if (*serve) return Report(Serve(data_dir, serve_options));
  if (*user_add) return Report(UserAdd(data_dir, user_options));
  if (*user_reset_totp) return Report(UserResetTotp(data_dir, reset_totp_user));
  if (*constituency_add) return Report(ConstituencyAdd(data_dir, new_constituency));
  if (*token_create) return Report(TokenCreate(data_dir, token_user, token_name));
  if (*audit_verify) return Report(AuditVerify(data_dir));
  if (*migrate) return Report(Migrate(migrate_options));
  if (*rules_test) return Report(RulesTest(data_dir, StoreOption(), rules_test_options));
  if (*report) return Report(QuarterlyReport(data_dir, StoreOption(), report_options));
  if (*ingest_feed) return Report(IngestFeed(data_dir, feed_options));
  if (*ingest_mail) return Report(RunIngestMail(data_dir, mail_options));
  if (*mailgate && !mailgate_url.empty()) {
    std::string bearer = EnvOr("HIKESHI_TOKEN", "");
    if (!mailgate_token_file.empty()) {
      std::ifstream in(mailgate_token_file);
      std::getline(in, bearer);
    }
    return MailgateRemote(mailgate_url, bearer, mailgate_limit);
  }
  if (*mailgate) return RunMailgate(data_dir, mailgate_limit);
  return kExitUsage;
}

}  // namespace
}  // namespace hikeshi::app

int main(int argc, char** argv) {
  try {
    return hikeshi::app::Main(argc, argv);
  } catch (const std::exception& e) {
    // Start-up and configuration failures only; expected failures are Result values.
    std::fprintf(stderr, "hikeshi: fatal: %s\n", e.what());
    return 70;
  }
}
