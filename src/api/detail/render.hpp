#pragma once
// JSON renderings of domain objects as the API shows them: names instead of row ids, human ids,
// RFC 3339 times. Not a public header; api .cpp files only.

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::api::detail {

// Resolves row ids to the names people know, loading each table at most once per request.
// Incidents outside the principal's scope render as null, never as their id.
class Names {
 public:
  Names(core::Store& store, const core::Principal& principal) : store_(store), principal_(principal) {}
  nlohmann::ordered_json Constituency(std::optional<std::int64_t> id);
  nlohmann::ordered_json User(std::optional<std::int64_t> id);
  nlohmann::ordered_json Incident(std::optional<std::int64_t> id);

 private:
  void Load();
  core::Store& store_;
  const core::Principal& principal_;
  bool loaded_ = false;
  std::map<std::int64_t, std::string> constituencies_;
  std::map<std::int64_t, std::string> users_;
  std::map<std::int64_t, std::optional<std::string>> incidents_;
};

nlohmann::ordered_json RenderIncident(const core::Incident& incident, Names& names);
nlohmann::ordered_json RenderReport(const core::Report& report, Names& names);
nlohmann::ordered_json RenderConstituency(const core::Constituency& constituency);
nlohmann::ordered_json RenderFeedRun(const core::FeedRun& run);
nlohmann::ordered_json RenderUser(const core::User& user, Names& names);
// A journal entry as a timeline item, with the changed fields as {"field": {"from": .., "to": ..}}.
nlohmann::ordered_json RenderTimelineEntry(const core::AuditEntry& entry);
// A mail message as handlers see it: parsed fields, PGP status, flags; never the raw bytes.
nlohmann::ordered_json RenderMail(const core::MailMessage& mail);

}  // namespace hikeshi::api::detail
