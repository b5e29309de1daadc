#include "hikeshi/core/reporter_notices.hpp"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "hikeshi/common/crypto.hpp"

#include "detail/text.hpp"

namespace hikeshi::core {
namespace {

constexpr std::size_t kMaxSubject = 1000;

constexpr std::string_view kNoticeEn =
    "Dear {name},\n"
    "\n"
    "This is about your report {report} (\"{subject}\").\n"
    "\n"
    "The incident it was handled in, {incident}, has been resolved. Thank you for reporting it:\n"
    "reports like yours are how we learn of incidents.\n"
    "\n"
    "If you see the problem again or have anything to add, reply to this message and keep\n"
    "\"{tag}\" in the subject.\n"
    "\n"
    "{team}\n";

constexpr std::string_view kNoticeJa =
    "{name} 様\n"
    "\n"
    "{report}（件名: {subject}）としてご報告いただいた件について、お知らせします。\n"
    "\n"
    "本件は対応を完了しました（インシデント番号 {incident}）。ご報告いただき、ありがとうございました。\n"
    "\n"
    "再発した場合や追加の情報がある場合は、件名の「{tag}」を残したまま、このメールにご返信ください。\n"
    "\n"
    "{team}\n";

// Cuts `text` to at most `max` bytes on a UTF-8 boundary.
std::string Cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// Fills "{key}" placeholders in one pass, so that a value (the sender's name or subject) holding
// something like "{team}" stays as written.
std::string Expand(std::string_view text, const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    bool replaced = false;
    if (text[pos] == '{') {
      for (const auto& [key, value] : values) {
        if (text.substr(pos).starts_with(key)) {
          out += value;
          pos += key.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[pos++];
  }
  return out;
}

std::string DomainOf(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string("localhost") : std::string(address.substr(at + 1));
}

bool LooksLikeAddress(std::string_view address) {
  const auto at = address.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
         address.find_first_of(" \t\r\n<>,;\"") == std::string_view::npos;
}

// Every report linked to the incident, whatever its scope (the incident's own).
Result<std::vector<Report>> LinkedReports(StoreReader& reader, std::int64_t incident_id) {
  std::vector<Report> out;
  ReportQuery query;
  query.incident_id = incident_id;
  query.limit = 500;
  while (true) {
    HIKESHI_TRY(auto page, reader.ListReports(Scope::All(), query));
    for (auto& r : page.items) out.push_back(std::move(r));
    if (!page.next_before_id) break;
    query.before_id = page.next_before_id;
  }
  return out;
}

}  // namespace

ReporterNotices::ReporterNotices(TeamMailOptions options) : options_(std::move(options)) {
  options_.team_address = detail::AsciiLowerCopy(options_.team_address);
}

Result<void> ReporterNotices::AfterIncidentChange(WriteTx& tx, const AuditContext& ctx, const Incident& before,
                                                  const Incident& after) const {
  if (after.status != IncidentStatus::kResolved || before.status == IncidentStatus::kResolved) return {};
  HIKESHI_TRY(auto reports, LinkedReports(tx, after.id));
  // Oldest first, so that a reporter who sent several reports hears about the first one.
  std::sort(reports.begin(), reports.end(), [](const Report& a, const Report& b) { return a.id < b.id; });
  std::set<std::string> notified;
  for (const Report& report : reports) {
    if (report.channel != Channel::kMail) continue;
    HIKESHI_TRY(const auto mail, tx.ListMailForReport(report.id));
    const MailMessage* opened = nullptr;
    for (const auto& m : mail) {
      if (m.direction == MailDirection::kIn && m.kind == "report") {
        opened = &m;
        break;
      }
    }
    if (opened == nullptr) continue;
    const std::string from = detail::AsciiLowerCopy(opened->from_address);
    // Never to spam, automatic mail or ourselves: a notice must not start a mail loop.
    if (opened->spam || !opened->auto_reason.empty() || !LooksLikeAddress(from) || from == options_.team_address) {
      continue;
    }
    if (!notified.insert(from).second) continue;

    const bool ja = opened->language == "ja";
    const std::string tag = "[" + options_.subject_tag + " " + report.human_id + "]";
    MailMessage out;
    out.direction = MailDirection::kOut;
    out.kind = "notice";
    out.message_id = "notice." + report.human_id + "." + common::RandomToken(9) + "@" + DomainOf(options_.team_address);
    out.report_id = report.id;
    out.incident_id = after.id;
    out.from_address = options_.team_address;
    out.from_name = options_.team_name;
    out.to = {from};
    out.language = ja ? "ja" : "en";
    out.subject = Cut(tag + (ja ? " 対応完了: " : " Resolved: ") + report.subject, kMaxSubject);
    out.text = Expand(ja ? kNoticeJa : kNoticeEn,
                      {{"{name}", opened->from_name.empty() ? (ja ? std::string("ご報告者") : std::string("reporter"))
                                                            : Cut(opened->from_name, 200)},
                       {"{report}", report.human_id},
                       {"{subject}", Cut(report.subject, 300)},
                       {"{incident}", after.human_id},
                       {"{tag}", tag},
                       {"{team}", options_.team_name}});
    out.in_reply_to = opened->message_id;
    out.references = opened->references;
    out.references.push_back(opened->message_id);
    // A drill mails no outsider: the notice is kept, as what would have been sent, and never sent.
    out.status = after.exercise ? "suppressed: exercise" : "pending";
    out.at = ctx.at;
    HIKESHI_CHECK(tx.CreateMail(ctx, std::move(out), after.human_id));
  }
  return {};
}

}  // namespace hikeshi::core
