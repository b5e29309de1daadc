#include "hikeshi/core/investigations.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/utf8.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/snapshot.hpp"

#include "detail/resolve.hpp"
#include "detail/text.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kKind = "investigation";
constexpr std::string_view kInvestigationPrefix = "investigation:";
constexpr std::string_view kEncryptToPrefix = "encrypt-to:";
constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxSubject = 500;
constexpr std::size_t kMaxBody = 256 * 1024;
constexpr std::size_t kMaxReferences = 20;

constexpr std::array<std::string_view, 4> kStates = {"open", "waiting", "answered", "closed"};

Result<void> RequireHandler(const Principal& actor, std::string_view what) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not " + std::string(what)));
  }
  return {};
}

// One line of text: no control characters (a subject or a name goes into a mail header).
Result<void> CheckLine(std::string_view value, std::size_t max, bool required, const std::string& field) {
  HIKESHI_CHECK(detail::CheckText(value, max, required, field));
  if (!common::IsValidUtf8(value)) return Fail(Error::InvalidArgument("is not valid UTF-8", field));
  for (const unsigned char c : value) {
    if (c < 0x20 || c == 0x7f)
      return Fail(Error::InvalidArgument("must be one line without control characters", field));
  }
  return {};
}

// An addr-spec the composer accepts: printable ASCII, one '@', a dot in the domain.
bool IsMailAddress(std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= text.size() || text.size() > 254) return false;
  if (text.rfind('@') != at || text.find('.', at) == std::string_view::npos) return false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')') {
      return false;
    }
  }
  return true;
}

std::string DomainOf(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string("localhost") : std::string(address.substr(at + 1));
}

Result<Tlp> ParseTlpField(std::string_view text, const std::string& field) {
  auto tlp = ParseTlp(text);
  if (!tlp) {
    return Fail(Error::InvalidArgument(
        "'" + std::string(text) +
            "' is not a TLP 2.0 label (TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED)",
        field));
  }
  return *tlp;
}

// Shared contacts (peer teams, the police) have no constituency and are seen by everyone; a
// constituency's own contacts only by those who see the constituency.
bool MaySee(const Principal& actor, const Contact& contact) {
  return !contact.constituency_id || actor.scope.Allows(contact.constituency_id);
}

Result<std::optional<Contact>> FindContact(StoreReader& reader, std::int64_t id) {
  HIKESHI_TRY(auto contacts, reader.ListContacts());
  for (auto& c : contacts) {
    if (c.id == id) return std::optional<Contact>(std::move(c));
  }
  return std::optional<Contact>();
}

Result<ContactTrust> ParseTrustField(std::string_view text) {
  const auto trust = ParseContactTrust(text);
  if (!trust) {
    return Fail(Error::InvalidArgument(
        "'" + std::string(text) + "' is not a trust level (vetted, introduced, unvetted)", "/trust"));
  }
  return *trust;
}

// The contact who introduced `self` (0 for a contact not yet created) must be another contact the
// actor can see.
Result<void> CheckIntroducer(StoreReader& reader, const Principal& actor, std::int64_t self,
                             std::optional<std::int64_t> introducer) {
  if (!introducer) return {};
  if (*introducer == self) return Fail(Error::InvalidArgument("a contact cannot introduce itself", "/introduced_by"));
  HIKESHI_TRY(const auto found, FindContact(reader, *introducer));
  if (!found || !MaySee(actor, *found)) {
    return Fail(Error::InvalidArgument("there is no contact " + std::to_string(*introducer), "/introduced_by"));
  }
  return {};
}

Result<Incident> FindVisibleIncident(StoreReader& reader, const Principal& actor, std::string_view id) {
  HIKESHI_TRY(auto incident, reader.FindIncident(actor.scope, id));
  if (!incident) return Fail(Error::NotFound("incident '" + std::string(id) + "'"));
  return std::move(*incident);
}

// --- the record body ---

ordered_json OptionalTime(const std::optional<Timestamp>& t) {
  return t ? ordered_json(common::FormatRfc3339(*t)) : ordered_json(nullptr);
}

Result<std::optional<Timestamp>> ReadTime(const ordered_json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<Timestamp>();
  if (!it->is_string()) return Fail(Error::DataLoss(std::string("investigation: '") + key + "' is not a time"));
  auto t = common::ParseRfc3339(it->get<std::string>());
  if (!t) return Fail(Error::DataLoss(std::string("investigation: '") + key + "' is not an RFC 3339 time"));
  return t;
}

std::string EncodeBody(const Investigation& v) {
  ordered_json j;
  j["contact_id"] = v.contact_id;
  j["title"] = v.title;
  j["due"] = OptionalTime(v.due);
  j["sent"] = v.sent;
  j["replies"] = v.replies;
  j["last_sent_at"] = OptionalTime(v.last_sent_at);
  j["last_reply_at"] = OptionalTime(v.last_reply_at);
  j["created_by"] = v.created_by;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Investigation> Decode(const Record& record, std::string incident) {
  const auto j = ordered_json::parse(record.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Fail(Error::DataLoss("investigation " + record.key + ": body is not JSON"));
  Investigation v;
  v.id = record.key;
  v.incident = std::move(incident);
  auto state = ParseInvestigationState(record.state);
  if (!state) return Fail(Error::DataLoss("investigation " + record.key + ": unknown state '" + record.state + "'"));
  v.state = *state;
  try {
    v.contact_id = j.at("contact_id").get<std::int64_t>();
    v.title = j.at("title").get<std::string>();
    v.sent = j.value("sent", std::int64_t{0});
    v.replies = j.value("replies", std::int64_t{0});
    v.created_by = j.value("created_by", std::string());
  } catch (const nlohmann::json::exception& e) {
    return Fail(Error::DataLoss("investigation " + record.key + ": " + e.what()));
  }
  HIKESHI_TRY(v.due, ReadTime(j, "due"));
  HIKESHI_TRY(v.last_sent_at, ReadTime(j, "last_sent_at"));
  HIKESHI_TRY(v.last_reply_at, ReadTime(j, "last_reply_at"));
  v.created_at = record.created_at;
  v.updated_at = record.updated_at;
  return v;
}

Record ToRecord(Record record, const Investigation& v, Timestamp now) {
  record.state = std::string(InvestigationStateName(v.state));
  record.body = EncodeBody(v);
  record.updated_at = now;
  return record;
}

// The investigation `id` on `incident`; anything else (another incident's) is not found.
Result<Record> FindOn(StoreReader& reader, const Incident& incident, std::string_view id) {
  HIKESHI_TRY(auto record, reader.FindRecord(kKind, id));
  if (!record || record->incident_id != incident.id) {
    return Fail(Error::NotFound("investigation '" + std::string(id) + "' of incident " + incident.human_id));
  }
  return std::move(*record);
}

// The mail of one investigation: the incident's mail carrying its flag, oldest first.
Result<std::vector<MailMessage>> ThreadMail(StoreReader& reader, std::int64_t incident_id, std::string_view id) {
  HIKESHI_TRY(auto all, reader.ListMailForIncident(incident_id));
  std::vector<MailMessage> out;
  for (auto& m : all) {
    if (InvestigationOfMail(m) == id) out.push_back(std::move(m));
  }
  return out;
}

ContactKey KeyStatus(KeyRing* keyring, const Contact& contact) {
  ContactKey out;
  if (contact.pgp_fingerprint.empty()) {
    out.problem = "no PGP key on file for this contact";
    return out;
  }
  if (keyring == nullptr) {
    out.problem = "this server has no team keyring (DATA/gnupg), so it cannot encrypt";
    return out;
  }
  auto info = keyring->DescribeKey(contact.pgp_fingerprint);
  if (!info) {
    out.problem = "key " + contact.pgp_fingerprint + ": " + info.error().message();
    return out;
  }
  out.usable = info->can_encrypt;
  out.problem = info->problem;
  out.key = std::move(*info);
  return out;
}

std::string TlpLabelOf(Tlp tlp) {
  const std::string_view name = TlpName(tlp);  // "TLP:AMBER"
  return std::string(name.substr(name.find(':') + 1));
}

}  // namespace

// --- flags and tags ---

std::string InvestigationFlag(std::string_view investigation_id) {
  return std::string(kInvestigationPrefix) + std::string(investigation_id);
}

std::string InvestigationOfMail(const MailMessage& mail) {
  for (const auto& flag : mail.flags) {
    if (flag.starts_with(kInvestigationPrefix)) return flag.substr(kInvestigationPrefix.size());
  }
  return "";
}

std::string EncryptToFlag(std::string_view fingerprint) {
  return std::string(kEncryptToPrefix) + std::string(fingerprint);
}

std::vector<std::string> EncryptionRecipients(const MailMessage& mail) {
  std::vector<std::string> out;
  for (const auto& flag : mail.flags) {
    if (flag.starts_with(kEncryptToPrefix)) out.push_back(flag.substr(kEncryptToPrefix.size()));
  }
  return out;
}

bool IsInvestigationId(std::string_view text) {
  if (text.size() < 13 || text.size() > 24 || !text.starts_with("V-") || text[6] != '-') return false;
  const auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(text.substr(2, 4)) && digits(text.substr(7)) && text.size() - 7 >= 6;
}

std::optional<std::string> TaggedInvestigationId(std::string_view subject, std::string_view tag) {
  const std::string open = "[" + std::string(tag) + " ";
  for (std::size_t pos = subject.find(open); pos != std::string_view::npos; pos = subject.find(open, pos + 1)) {
    const std::size_t start = pos + open.size();
    const std::size_t close = subject.find(']', start);
    if (close == std::string_view::npos) break;
    std::string_view inside = subject.substr(start, close - start);
    while (!inside.empty()) {
      const auto space = inside.find(' ');
      const auto word = inside.substr(0, space);
      if (IsInvestigationId(word)) return std::string(word);
      if (space == std::string_view::npos) break;
      inside.remove_prefix(space + 1);
    }
  }
  return std::nullopt;
}

// --- contacts ---

Result<Contact> Contacts::Create(const Principal& actor, const ContactDraft& draft) {
  HIKESHI_CHECK(RequireHandler(actor, "add contacts"));
  HIKESHI_CHECK(CheckLine(draft.name, 200, true, "/name"));
  const std::string email(detail::Trim(draft.email));
  if (!IsMailAddress(email)) {
    return Fail(Error::InvalidArgument("must be a mail address such as abuse@example.net", "/email"));
  }
  HIKESHI_CHECK(CheckLine(draft.organisation, 200, false, "/organisation"));
  const auto kind = ParseContactKind(draft.kind);
  if (!kind) {
    return Fail(Error::InvalidArgument(
        "'" + draft.kind + "' is not a contact kind (csirt, isp, hosting, vendor, police, expert, constituent, other)",
        "/kind"));
  }
  HIKESHI_TRY(const Tlp clearance, ParseTlpField(draft.tlp_clearance, "/tlp_clearance"));
  HIKESHI_TRY(const ContactTrust trust, ParseTrustField(draft.trust));

  Contact contact;
  contact.name = draft.name;
  contact.email = email;
  contact.organisation = draft.organisation;
  contact.kind = *kind;
  contact.tlp_clearance = clearance;
  contact.trust = trust;
  contact.introduced_by = draft.introduced_by;
  contact.created_at = clock_.Now();

  if (draft.pgp_key) {
    if (keyring_ == nullptr) {
      return Fail(
          Error::FailedPrecondition("this server has no team keyring (DATA/gnupg): run hikeshi init", "/pgp_key"));
    }
    auto imported = keyring_->ImportKeys(*draft.pgp_key);
    if (!imported) return Fail(Error(imported.error().code(), imported.error().message(), "/pgp_key"));
    if (imported->size() != 1) {
      return Fail(Error::InvalidArgument(
          "the key block holds " + std::to_string(imported->size()) + " keys; give the contact's key only",
          "/pgp_key"));
    }
    auto info = keyring_->DescribeKey(imported->front());
    if (!info) return Fail(Error(info.error().code(), info.error().message(), "/pgp_key"));
    if (!info->can_encrypt) {
      return Fail(Error::FailedPrecondition("mail cannot be encrypted to this key: " + info->problem, "/pgp_key"));
    }
    contact.pgp_fingerprint = info->fingerprint;
  }

  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    if (draft.constituency || !actor.scope.all) {
      HIKESHI_TRY(contact.constituency_id, detail::ResolveConstituency(tx, actor, draft.constituency, "/constituency"));
    }
    HIKESHI_CHECK(CheckIntroducer(tx, actor, 0, contact.introduced_by));
    HIKESHI_TRY(contact, tx.CreateContact({actor.username, contact.created_at}, contact));
    return {};
  }));
  return contact;
}

Result<std::vector<Contact>> Contacts::List(const Principal& actor) {
  std::vector<Contact> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(auto all, r.ListContacts());
    for (auto& c : all) {
      if (MaySee(actor, c)) out.push_back(std::move(c));
    }
    return {};
  }));
  return out;
}

Result<Contact> Contacts::Get(const Principal& actor, std::int64_t id) {
  std::optional<Contact> found;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(found, FindContact(r, id));
    return {};
  }));
  if (!found || !MaySee(actor, *found)) return Fail(Error::NotFound("contact " + std::to_string(id)));
  return std::move(*found);
}

Result<Contact> Contacts::Update(const Principal& actor, std::int64_t id, const ContactChange& change) {
  HIKESHI_CHECK(RequireHandler(actor, "change contacts"));
  if (change.name) {
    HIKESHI_CHECK(CheckLine(*change.name, 200, true, "/name"));
  }
  if (change.organisation) {
    HIKESHI_CHECK(CheckLine(*change.organisation, 200, false, "/organisation"));
  }
  std::optional<Tlp> clearance;
  if (change.tlp_clearance) {
    HIKESHI_TRY(clearance, ParseTlpField(*change.tlp_clearance, "/tlp_clearance"));
  }
  std::optional<ContactTrust> trust;
  if (change.trust) {
    HIKESHI_TRY(trust, ParseTrustField(*change.trust));
  }
  Contact after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto before, FindContact(tx, id));
    if (!before || !MaySee(actor, *before)) return Fail(Error::NotFound("contact " + std::to_string(id)));
    after = *before;
    if (change.name) after.name = *change.name;
    if (change.organisation) after.organisation = *change.organisation;
    if (clearance) after.tlp_clearance = *clearance;
    if (trust) after.trust = *trust;
    if (change.introduced_by) {
      after.introduced_by = *change.introduced_by;
      if (after.introduced_by != before->introduced_by) {
        HIKESHI_CHECK(CheckIntroducer(tx, actor, id, after.introduced_by));
      }
    }
    if (Snapshot(after) == Snapshot(*before)) return {};
    return tx.UpdateContact({actor.username, clock_.Now()}, *before, after);
  }));
  return after;
}

ContactKey Contacts::KeyOf(const Contact& contact) const { return KeyStatus(keyring_, contact); }

// --- investigations ---

std::string_view InvestigationStateName(InvestigationState state) { return kStates[static_cast<int>(state)]; }

std::optional<InvestigationState> ParseInvestigationState(std::string_view text) {
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    if (kStates[i] == text) return static_cast<InvestigationState>(i);
  }
  return std::nullopt;
}

Result<Investigation> Investigations::Open(const Principal& actor, std::string_view incident_id,
                                           const NewInvestigation& draft) {
  HIKESHI_CHECK(RequireHandler(actor, "open investigations"));
  HIKESHI_CHECK(CheckLine(draft.title, kMaxTitle, true, "/title"));
  const Timestamp now = clock_.Now();
  Investigation v;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const Incident incident, FindVisibleIncident(tx, actor, incident_id));
    if (incident.status == IncidentStatus::kMerged) {
      return Fail(Error::FailedPrecondition("incident " + incident.human_id +
                                            " was merged into another; coordinate on that one"));
    }
    HIKESHI_TRY(const auto contact, FindContact(tx, draft.contact_id));
    if (!contact || !MaySee(actor, *contact)) {
      return Fail(
          Error{ErrorCode::kNotFound, "contact " + std::to_string(draft.contact_id) + " not found", "/contact"});
    }
    const int year = common::YearOf(now);
    HIKESHI_TRY(const auto number, tx.NextNumber(fmt::format("investigation-{}", year)));
    v = Investigation{};
    v.id = fmt::format("V-{}-{:06}", year, number);
    v.incident = incident.human_id;
    v.contact_id = contact->id;
    v.title = draft.title;
    v.state = InvestigationState::kOpen;
    v.due = draft.due;
    v.created_by = actor.username;
    v.created_at = v.updated_at = now;
    Record record;
    record.kind = std::string(kKind);
    record.key = v.id;
    record.incident_id = incident.id;
    record.created_at = now;
    record = ToRecord(std::move(record), v, now);
    HIKESHI_CHECK(tx.CreateRecord({actor.username, now}, record, incident.human_id));
    return {};
  }));
  return v;
}

Result<std::vector<Investigation>> Investigations::List(const Principal& actor, std::string_view incident_id) {
  std::vector<Investigation> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const Incident incident, FindVisibleIncident(r, actor, incident_id));
    HIKESHI_TRY(const auto records, r.ListRecordsForIncident(incident.id, kKind));
    for (const auto& record : records) {
      HIKESHI_TRY(auto v, Decode(record, incident.human_id));
      out.push_back(std::move(v));
    }
    return {};
  }));
  return out;
}

Result<InvestigationDetail> Investigations::Get(const Principal& actor, std::string_view incident_id,
                                                std::string_view id) {
  InvestigationDetail detail;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const Incident incident, FindVisibleIncident(r, actor, incident_id));
    HIKESHI_TRY(const Record record, FindOn(r, incident, id));
    HIKESHI_TRY(detail.investigation, Decode(record, incident.human_id));
    HIKESHI_TRY(const auto contact, FindContact(r, detail.investigation.contact_id));
    if (!contact) return Fail(Error::DataLoss("investigation " + record.key + ": its contact is gone"));
    detail.contact = *contact;
    HIKESHI_TRY(detail.mail, ThreadMail(r, incident.id, record.key));
    return {};
  }));
  detail.key = KeyStatus(keyring_, detail.contact);
  return detail;
}

Result<Investigation> Investigations::Update(const Principal& actor, std::string_view incident_id, std::string_view id,
                                             const InvestigationPatch& patch) {
  HIKESHI_CHECK(RequireHandler(actor, "change investigations"));
  std::optional<InvestigationState> state;
  if (patch.state) {
    state = ParseInvestigationState(*patch.state);
    if (!state) {
      return Fail(
          Error::InvalidArgument("'" + *patch.state + "' is not a state (open, waiting, answered, closed)", "/state"));
    }
  }
  if (patch.title) {
    HIKESHI_CHECK(CheckLine(*patch.title, kMaxTitle, true, "/title"));
  }
  const Timestamp now = clock_.Now();
  Investigation after;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const Incident incident, FindVisibleIncident(tx, actor, incident_id));
    HIKESHI_TRY(const Record before_record, FindOn(tx, incident, id));
    HIKESHI_TRY(const Investigation before, Decode(before_record, incident.human_id));
    after = before;
    if (state) after.state = *state;
    if (patch.due) after.due = *patch.due;
    if (patch.title) after.title = *patch.title;
    if (EncodeBody(after) == EncodeBody(before) && after.state == before.state) return {};
    after.updated_at = now;
    std::string action = "investigation.update";
    if (after.state != before.state && after.state == InvestigationState::kClosed) action = "investigation.close";
    if (after.state != before.state && before.state == InvestigationState::kClosed) action = "investigation.reopen";
    return tx.UpdateRecord({actor.username, now}, action, before_record, ToRecord(before_record, after, now),
                           incident.human_id);
  }));
  return after;
}

Result<MailMessage> Investigations::Send(const Principal& actor, std::string_view incident_id, std::string_view id,
                                         const InvestigationMessage& message) {
  HIKESHI_CHECK(RequireHandler(actor, "send mail to outside parties"));
  HIKESHI_CHECK(CheckLine(message.subject, kMaxSubject, true, "/subject"));
  HIKESHI_CHECK(detail::CheckText(message.body, kMaxBody, true, "/body"));
  if (!common::IsValidUtf8(message.body)) return Fail(Error::InvalidArgument("is not valid UTF-8", "/body"));
  std::optional<Tlp> asked;
  if (message.tlp) {
    HIKESHI_TRY(asked, ParseTlpField(*message.tlp, "/tlp"));
  }

  // First what the message may be and whether it can be encrypted: asking the keyring runs gpg,
  // which must not happen while the write transaction holds the store.
  Contact contact;
  Tlp tlp = Tlp::kAmber;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(const Incident incident, FindVisibleIncident(r, actor, incident_id));
    HIKESHI_TRY(const Record record, FindOn(r, incident, id));
    HIKESHI_TRY(const Investigation v, Decode(record, incident.human_id));
    if (v.state == InvestigationState::kClosed) {
      return Fail(
          Error::FailedPrecondition("investigation " + v.id + " is closed; reopen it to write again", "/state"));
    }
    HIKESHI_TRY(const auto found, FindContact(r, v.contact_id));
    if (!found) return Fail(Error::DataLoss("investigation " + v.id + ": its contact is gone"));
    contact = *found;
    tlp = asked.value_or(incident.tlp);
    return {};
  }));
  const ContactKey key = KeyStatus(keyring_, contact);
  const bool encrypt = key.usable;
  if (!encrypt && tlp > contact.tlp_clearance) {
    return Fail(Error::FailedPrecondition("refusing to send " + std::string(TlpName(tlp)) + " to " + contact.email +
                                              " in clear text: the contact is "
                                              "cleared for " +
                                              std::string(TlpName(contact.tlp_clearance)) +
                                              " only, and mail to them cannot be "
                                              "encrypted (" +
                                              key.problem + "). Lower the message's TLP, or add the contact's PGP key.",
                                          "/tlp"));
  }

  const Timestamp now = clock_.Now();
  MailMessage queued;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const Incident incident, FindVisibleIncident(tx, actor, incident_id));
    HIKESHI_TRY(const Record before_record, FindOn(tx, incident, id));
    HIKESHI_TRY(const Investigation before, Decode(before_record, incident.human_id));
    if (before.state == InvestigationState::kClosed) {
      return Fail(
          Error::FailedPrecondition("investigation " + before.id + " is closed; reopen it to write again", "/state"));
    }
    if (before.contact_id != contact.id) return Fail(Error::Conflict("the investigation changed; try again"));
    HIKESHI_TRY(const auto thread, ThreadMail(tx, incident.id, before.id));

    MailMessage m;
    m.direction = MailDirection::kOut;
    m.kind = std::string(kKind);
    m.message_id = "inv." + before.id + "." + common::RandomToken(9) + "@" + DomainOf(options_.team_address);
    m.incident_id = incident.id;
    m.from_address = options_.team_address;
    m.from_name = options_.team_name;
    m.to = {contact.email};
    m.subject = "[" + options_.subject_tag + " " + incident.human_id + " " + before.id + "] " + message.subject;
    // The label travels in the text as well, where it survives forwarding and quoting.
    m.text = std::string(TlpName(tlp)) + "\n\n" + message.body;
    if (!thread.empty()) {
      m.in_reply_to = thread.back().message_id;
      const std::size_t first = thread.size() > kMaxReferences ? thread.size() - kMaxReferences : 0;
      for (std::size_t i = first; i < thread.size(); ++i) m.references.push_back(thread[i].message_id);
    }
    m.flags = {InvestigationFlag(before.id), "tlp:" + TlpLabelOf(tlp)};
    if (encrypt) m.flags.push_back(EncryptToFlag(contact.pgp_fingerprint));
    m.encrypted = encrypt;
    // A drill mails no outsider (as with reporters' notices): the message is kept, as what would
    // have been sent, for the exercise's review, and the delivery queue never takes it.
    m.status = incident.exercise ? "suppressed: exercise" : "pending";
    m.language = MailIngest::DetectLanguage(message.subject + "\n" + message.body);
    m.at = now;
    const AuditContext ctx{actor.username, now};
    HIKESHI_TRY(queued, tx.CreateMail(ctx, std::move(m), incident.human_id));

    Investigation after = before;
    after.state = InvestigationState::kWaiting;
    after.sent += 1;
    after.last_sent_at = now;
    after.updated_at = now;
    return tx.UpdateRecord(ctx, "investigation.send", before_record, ToRecord(before_record, after, now),
                           incident.human_id);
  }));
  return queued;
}

Result<void> NoteInvestigationReply(WriteTx& tx, const AuditContext& ctx, std::string_view id, const MailMessage& reply,
                                    std::string_view incident) {
  HIKESHI_TRY(const auto record, tx.FindRecord(kKind, id));
  if (!record) return {};
  HIKESHI_TRY(const Investigation before, Decode(*record, std::string(incident)));
  Investigation after = before;
  after.state = InvestigationState::kAnswered;
  after.replies += 1;
  after.last_reply_at = reply.at;
  after.updated_at = ctx.at;
  return tx.UpdateRecord(ctx, "investigation.reply", *record, ToRecord(*record, after, ctx.at), incident);
}

}  // namespace hikeshi::core
