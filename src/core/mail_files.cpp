#include "hikeshi/core/mail_files.hpp"

#include "hikeshi/core/human_id.hpp"

#include "detail/incident_mail.hpp"

namespace hikeshi::core {

Result<MailMessage> MailFiles::Visible(const Principal& actor, std::string_view owner, std::int64_t mail_id) {
  std::optional<MailMessage> found;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    const auto id = ParseHumanId(owner);
    if (!id) return {};
    std::vector<MailMessage> mail;
    if (id->kind == IdKind::kReport) {
      HIKESHI_TRY(const auto report, r.FindReport(actor.scope, owner));
      if (!report) return {};
      HIKESHI_TRY(mail, r.ListMailForReport(report->id));
    } else {
      HIKESHI_TRY(const auto incident, r.FindIncident(actor.scope, owner));
      if (!incident) return {};
      HIKESHI_TRY(mail, detail::IncidentMail(r, actor.scope, *incident));
    }
    for (auto& m : mail) {
      if (m.id == mail_id) found = std::move(m);
    }
    return {};
  }));
  if (!found) return Fail(Error::NotFound("message " + std::to_string(mail_id) + " of " + std::string(owner)));
  return std::move(*found);
}

Result<MailFile> MailFiles::Raw(const Principal& actor, std::string_view owner, std::int64_t mail_id) {
  HIKESHI_TRY(const auto mail, Visible(actor, owner, mail_id));
  if (mail.raw_sha256.empty())
    return Fail(Error::NotFound("message " + std::to_string(mail_id) + " has no raw form yet"));
  HIKESHI_TRY(auto content, blobs_.Get(mail.raw_sha256));
  return MailFile{"message-" + std::to_string(mail.id) + ".eml", "message/rfc822", std::move(content)};
}

Result<MailFile> MailFiles::Attachment(const Principal& actor, std::string_view owner, std::int64_t mail_id,
                                       std::string_view sha256) {
  HIKESHI_TRY(const auto mail, Visible(actor, owner, mail_id));
  for (const auto& a : mail.attachments) {
    if (a.sha256 != sha256) continue;
    HIKESHI_TRY(auto content, blobs_.Get(a.sha256));
    return MailFile{a.filename.empty() ? "attachment-" + a.sha256.substr(0, 12) : a.filename, a.content_type,
                    std::move(content)};
  }
  return Fail(Error::NotFound("attachment " + std::string(sha256) + " of message " + std::to_string(mail_id)));
}

}  // namespace hikeshi::core
