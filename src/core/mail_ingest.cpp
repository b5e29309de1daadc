#include "hikeshi/core/mail_ingest.hpp"

#include <algorithm>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/utf8.hpp"
#include "hikeshi/core/human_id.hpp"
#include "hikeshi/core/investigations.hpp"
#include "hikeshi/core/triage_service.hpp"

namespace hikeshi::core {
namespace {

// A report keeps at most this much of the text (the message keeps all of it): the report's text
// is what full-text search indexes and what a handler reads first.
constexpr std::size_t kMaxReportBody = 1 << 20;
constexpr std::size_t kMaxSubject = 1000;

// Cuts `text` to at most `max` bytes on a UTF-8 boundary.
std::string Cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
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

void Replace(std::string& text, std::string_view key, std::string_view value) {
  for (std::size_t pos = 0; (pos = text.find(key, pos)) != std::string::npos; pos += value.size()) {
    text.replace(pos, key.size(), value);
  }
}

constexpr std::string_view kAckEn =
    "Dear {name},\n"
    "\n"
    "Thank you for your report. We have received it and registered it as {id}.\n"
    "Please keep \"{tag}\" in the subject of any further mail about it.\n"
    "\n"
    "  Your message: {subject}\n"
    "  Received:     {time}\n"
    "\n"
    "This acknowledgement was sent automatically by {team}.\n";

constexpr std::string_view kAckJa =
    "{name} 様\n"
    "\n"
    "ご報告ありがとうございます。受け付けました。受付番号は {id} です。\n"
    "本件についてご連絡いただく際は、件名の「{tag}」を残したままお送りください。\n"
    "\n"
    "  件名:     {subject}\n"
    "  受付日時: {time}\n"
    "\n"
    "このメールは {team} から自動的にお送りしています。\n";

struct Thread {
  std::optional<std::int64_t> report_id;
  std::optional<std::int64_t> incident_id;
  std::string report;
  std::string incident;
  std::string investigation{};  // the V- id when the reply belongs to an investigation
};

// The incident or report a reply belongs to: by the subject tag first, then by the messages it
// references (newest reference first).
Result<std::optional<Thread>> FindThread(WriteTx& tx, const InboundMail& mail, std::string_view tag) {
  const auto all = Scope::All();
  // A reply from an outside party in an investigation ("[Hikeshi I-... V-...]"): its incident.
  if (auto v = TaggedInvestigationId(mail.subject, tag)) {
    HIKESHI_TRY(const auto record, tx.FindRecord("investigation", *v));
    if (record && record->incident_id) return Thread{std::nullopt, record->incident_id, "", "", *v};
  }
  if (auto id = MailIngest::TaggedId(mail.subject, tag)) {
    if ((*id)[0] == 'I') {
      HIKESHI_TRY(const auto incident, tx.FindIncident(all, *id));
      if (incident) return Thread{std::nullopt, incident->id, "", incident->human_id};
    } else {
      HIKESHI_TRY(const auto report, tx.FindReport(all, *id));
      if (report) return Thread{report->id, report->incident_id, report->human_id, ""};
    }
  }
  std::vector<std::string> refs;
  if (!mail.in_reply_to.empty()) refs.push_back(mail.in_reply_to);
  refs.insert(refs.end(), mail.references.rbegin(), mail.references.rend());
  for (const auto& ref : refs) {
    for (const auto direction : {MailDirection::kOut, MailDirection::kIn}) {
      HIKESHI_TRY(const auto earlier, tx.FindMail(direction, ref));
      if (earlier && (earlier->report_id || earlier->incident_id)) {
        return Thread{earlier->report_id, earlier->incident_id, "", "", InvestigationOfMail(*earlier)};
      }
    }
  }
  return std::nullopt;
}

MailMessage FromInbound(const ReceivedMail& received, std::string message_id, Timestamp now) {
  const InboundMail& in = received.mail;
  MailMessage m;
  m.direction = MailDirection::kIn;
  m.message_id = std::move(message_id);
  m.from_address = in.from_address;
  m.from_name = in.from_name;
  m.to = in.to;
  m.subject = in.subject;
  m.text = in.text;
  m.in_reply_to = in.in_reply_to;
  m.references = in.references;
  m.raw_sha256 = received.raw_sha256;
  m.raw_size = received.raw_size;
  for (const auto& a : in.attachments) {
    m.attachments.push_back(
        {a.sha256, a.filename, a.content_type, a.magic_type, static_cast<std::int64_t>(a.content.size())});
  }
  m.encrypted = in.encrypted;
  m.decrypted = in.decrypted;
  m.signatures = in.signatures;
  m.abuse = in.abuse;
  m.auto_reason = in.auto_generated ? (in.auto_reason.empty() ? "automatic" : in.auto_reason) : "";
  m.spam = in.spam;
  m.flags = in.flags;
  m.problems = in.problems;
  m.language = MailIngest::DetectLanguage(in.subject + "\n" + in.text);
  m.at = now;
  return m;
}

}  // namespace

std::string_view MailOutcomeName(MailOutcome outcome) {
  switch (outcome) {
    case MailOutcome::kStored:
      return "stored";
    case MailOutcome::kThreaded:
      return "threaded";
    case MailOutcome::kDuplicate:
      return "duplicate";
  }
  return "stored";
}

MailIngest::MailIngest(Store& store, const Clock& clock, MailIngestOptions options, const IntakeTriage* triage)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      triage_(triage),
      group_(std::make_unique<WriteGroup>(store, options_.max_group)) {
  options_.team_address = Lower(options_.team_address);
}

std::string MailIngest::SyntheticMessageId(std::string_view raw_sha256) {
  return "sha256." + std::string(raw_sha256) + "@no-message-id.invalid";
}

std::string MailIngest::DetectLanguage(std::string_view text) {
  std::size_t japanese = 0;
  std::size_t latin = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto cp = common::DecodeUtf8(text, pos);
    if (cp.length == 0) {
      ++pos;
      continue;
    }
    const char32_t c = cp.value;
    if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xFF66 && c <= 0xFF9F)) {
      ++japanese;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      ++latin;
    }
    pos += cp.length;
  }
  // A Japanese sentence needs far fewer characters than an English one says the same in.
  return japanese * 3 >= latin && japanese > 0 ? "ja" : "en";
}

std::optional<std::string> MailIngest::TaggedId(std::string_view subject, std::string_view tag) {
  const std::string open = "[" + std::string(tag) + " ";
  for (std::size_t pos = subject.find(open); pos != std::string_view::npos; pos = subject.find(open, pos + 1)) {
    const std::size_t start = pos + open.size();
    const std::size_t close = subject.find(']', start);
    if (close == std::string_view::npos) break;
    // "[Hikeshi I-2026-000001 V-2026-000001]" (an investigation's mail) names the incident first.
    const auto inside = subject.substr(start, close - start);
    const auto id = inside.substr(0, inside.find(' '));
    if (ParseHumanId(id)) return std::string(id);
  }
  return std::nullopt;
}

Result<MailReceipt> MailIngest::Receive(const Principal& actor, const ReceivedMail& received,
                                        const std::function<Result<void>()>& before_commit) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not take in mail"));
  }
  const InboundMail& in = received.mail;
  const Timestamp now = clock_.Now();
  const AuditContext ctx{actor.username, now};
  std::string message_id = in.message_id.empty() ? SyntheticMessageId(received.raw_sha256) : in.message_id;
  message_id = Cut(message_id, 998);

  MailReceipt receipt;
  receipt.flags = in.flags;
  // Run once, or twice when the shared transaction it joined failed (WriteGroup): starts afresh.
  const auto store_message = [&](WriteTx& tx) -> Result<void> {
    receipt = MailReceipt{};
    receipt.flags = in.flags;
    for (const SealedBlob& blob : received.inline_blobs) {
      HIKESHI_CHECK(tx.InsertBlob(blob, now));
    }
    HIKESHI_TRY(const auto earlier, tx.FindMail(MailDirection::kIn, message_id));
    if (earlier) {
      receipt.outcome = MailOutcome::kDuplicate;
      receipt.mail_id = earlier->id;
      receipt.ack = earlier->status;
      return {};
    }
    MailMessage mail = FromInbound(received, message_id, now);

    HIKESHI_TRY(const auto thread, FindThread(tx, in, options_.subject_tag));
    if (thread) {
      mail.kind = "reply";
      mail.report_id = thread->report_id;
      mail.incident_id = thread->incident_id;
      mail.status = "not acknowledged: reply";
      if (!thread->investigation.empty()) mail.flags.push_back(InvestigationFlag(thread->investigation));
      std::string incident = thread->incident;
      if (incident.empty() && thread->incident_id) {
        HIKESHI_TRY(const auto found, tx.FindIncidentById(Scope::All(), *thread->incident_id));
        if (found) incident = found->human_id;
      }
      HIKESHI_TRY(const auto stored, tx.CreateMail(ctx, std::move(mail), incident));
      if (!thread->investigation.empty()) {
        HIKESHI_CHECK(NoteInvestigationReply(tx, ctx, thread->investigation, stored, incident));
      }
      receipt.outcome = MailOutcome::kThreaded;
      receipt.mail_id = stored.id;
      receipt.report = thread->report;
      receipt.incident = incident;
      receipt.ack = stored.status;
      return {};
    }

    const std::string from = Lower(in.from_address);
    Report report;
    report.channel = Channel::kMail;
    report.reporter = in.from_name.empty() ? from : Cut(in.from_name, 200) + " <" + from + ">";
    report.reporter = Cut(report.reporter, 500);
    report.subject = Cut(in.subject.empty() ? "(no subject)" : in.subject, kMaxSubject);
    report.body = Cut(in.text, kMaxReportBody);
    if (in.abuse && in.abuse->category) report.category = in.abuse->category;
    report.constituency_id = received.constituency_id;
    report.tlp = options_.tlp;
    report.observables = received.observables;
    report.flags = in.flags;
    if (in.spam) report.flags.push_back("spam");
    report.received_at = now;
    report.updated_at = now;
    HIKESHI_TRY(auto stored_report, tx.CreateReport(ctx, std::move(report)));
    receipt.outcome = MailOutcome::kStored;
    receipt.report = stored_report.human_id;
    // Triage: the rules see the sender, the abuse-report format and the signatures of this message.
    std::string triaged_spam;
    if (triage_ != nullptr) {
      IntakeSignals signals{in.abuse ? in.abuse->format : "", in.signatures};
      HIKESHI_TRY(auto triaged, triage_->TriageNewReport(tx, stored_report, signals));
      stored_report = std::move(triaged.report);
      receipt.incident = triaged.incident;
      if (stored_report.reject_reason == RejectReason::kSpam && triaged.decision) {
        triaged_spam = triaged.decision->rule_id;
      }
    }

    // Whether the reporter hears back. The guide: every report gets an answer, spam none; and a
    // gateway must never answer automatic mail (or itself), or two robots mail each other forever.
    std::string ack;
    if (!options_.acknowledge) {
      ack = "not acknowledged: acknowledgements are off";
    } else if (in.spam) {
      ack = "suppressed: spam";
    } else if (!triaged_spam.empty()) {
      ack = "suppressed: spam (triage rule '" + triaged_spam + "')";
    } else if (in.auto_generated) {
      ack = "suppressed: automatic mail (" + mail.auto_reason + ")";
    } else if (!LooksLikeAddress(from)) {
      ack = "suppressed: no usable sender address";
    } else if (from == options_.team_address) {
      ack = "suppressed: from Hikeshi's own address";
    } else {
      HIKESHI_TRY(const auto recent, tx.CountMailTo("ack", from, now - options_.ack_window));
      if (recent >= options_.acks_per_sender) {
        ack = "suppressed: rate limit (" + std::to_string(recent) + " acknowledgements to this sender within " +
              std::to_string(options_.ack_window.count()) + " s)";
      } else {
        ack = "queued";
      }
    }

    mail.kind = "report";
    mail.report_id = stored_report.id;
    mail.status = ack;
    HIKESHI_TRY(const auto stored_in, tx.CreateMail(ctx, mail, ""));
    receipt.mail_id = stored_in.id;
    receipt.ack = ack;
    if (ack != "queued") return {};

    const std::string tag = "[" + options_.subject_tag + " " + stored_report.human_id + "]";
    MailMessage out;
    out.direction = MailDirection::kOut;
    out.kind = "ack";
    out.message_id = "ack." + stored_report.human_id + "." + received.raw_sha256.substr(0, 12) + "@" +
                     DomainOf(options_.team_address);
    out.report_id = stored_report.id;
    out.from_address = options_.team_address;
    out.from_name = options_.team_name;
    out.to = {from};
    out.language = mail.language;
    const bool ja = out.language == "ja";
    out.subject = Cut(tag + (ja ? " 受付: " : " Received: ") + stored_report.subject, kMaxSubject);
    std::string text(ja ? kAckJa : kAckEn);
    Replace(text, "{name}",
            in.from_name.empty() ? (ja ? std::string("ご報告者") : std::string("reporter")) : Cut(in.from_name, 200));
    Replace(text, "{id}", stored_report.human_id);
    Replace(text, "{tag}", tag);
    Replace(text, "{subject}", stored_report.subject);
    Replace(text, "{time}", common::FormatRfc3339(now));
    Replace(text, "{team}", options_.team_name);
    out.text = std::move(text);
    out.in_reply_to = message_id;
    out.references = in.references;
    out.references.push_back(message_id);
    out.status = "pending";
    out.at = now;
    HIKESHI_CHECK(tx.CreateMail(ctx, std::move(out), ""));
    return {};
  };
  HIKESHI_CHECK(group_->Write(store_message, before_commit));
  return receipt;
}

}  // namespace hikeshi::core
