#pragma once
// Coordination with outside parties (the guide's 関係組織との情報連携): the contact directory and
// investigations. An investigation is one coordination thread of an incident with one contact (a
// peer CSIRT, an ISP, a hosting provider, a vendor, the police, an expert), with its own state
// (open, waiting, answered, closed) and due date. Messages to the contact go out as mail through the
// delivery queue, signed with the team key and encrypted to the contact's key when the contact has
// one; nothing above the contact's TLP clearance is ever sent in clear text. Replies thread back
// into the investigation (MailIngest calls NoteInvestigationReply).
//
// An investigation is a Record of kind "investigation", key "V-<year>-NNNNNN", on its incident's
// timeline. Every call first finds the incident within the principal's scope: an incident the
// principal cannot see is kNotFound, and so is everything on it. Viewers and constituents may
// read; only admins and handlers write (kPermissionDenied).
//
// Thread-safe; Store, Clock and KeyRing must outlive the objects that borrow them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/keyring.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// Who Hikeshi's outgoing mail is from, and the subject tag that threads replies back
// ("[Hikeshi I-2026-000001 V-2026-000001]"): the [mail] configuration.
struct TeamMailOptions {
  std::string team_address = "csirt@localhost";
  std::string team_name = "CSIRT";
  std::string subject_tag = "Hikeshi";
};

// --- how investigation mail is marked (MailMessage::flags) ---

// "investigation:V-2026-000001": the message belongs to that investigation (sent, or a reply).
std::string InvestigationFlag(std::string_view investigation_id);
// The investigation a message belongs to, or "".
std::string InvestigationOfMail(const MailMessage& mail);
// "encrypt-to:<FINGERPRINT>": the composer must encrypt the message to that key (and never send it
// in clear when it cannot).
std::string EncryptToFlag(std::string_view fingerprint);
// The fingerprints of every "encrypt-to:" flag, in order.
std::vector<std::string> EncryptionRecipients(const MailMessage& mail);

// True when `text` is exactly "V-<4-digit year>-<6+ digits>".
bool IsInvestigationId(std::string_view text);
// The V- id inside the subject tag "[<tag> ... V-YYYY-NNNNNN]", if any.
std::optional<std::string> TaggedInvestigationId(std::string_view subject, std::string_view tag);

// --- contacts ---

struct ContactDraft {
  std::string name;   // required, 1..200 bytes
  std::string email;  // required, an addr-spec
  std::string organisation;
  std::string kind = "other";  // csirt, isp, hosting, vendor, police, expert, constituent, other
  std::string tlp_clearance = "TLP:CLEAR";
  std::optional<std::string> constituency;    // name; absent: shared by every constituency
  std::optional<std::string> pgp_key;         // ASCII-armoured public key of exactly one key
  std::string trust = "unvetted";             // unvetted, introduced, vetted
  std::optional<std::int64_t> introduced_by;  // the id of a contact the actor may see
};

// A change to a contact: absent fields keep their value.
struct ContactChange {
  std::optional<std::string> name;
  std::optional<std::string> organisation;
  std::optional<std::string> tlp_clearance;
  std::optional<std::string> trust;
  std::optional<std::optional<std::int64_t>> introduced_by;  // set to nullopt: introduced by nobody
};

// Whether mail to a contact can be encrypted now.
struct ContactKey {
  bool usable = false;               // a key is on file and the keyring can encrypt to it
  std::optional<PublicKeyInfo> key;  // what the keyring says about it, when it has it
  std::string problem;               // why not usable ("no PGP key on file", "... has expired"), "" when usable
};

class Contacts {
 public:
  // `keyring` may be null (no team keyring): contacts with a key cannot then be added.
  Contacts(Store& store, const Clock& clock, KeyRing* keyring) : store_(store), clock_(clock), keyring_(keyring) {}

  // Adds a contact; its key, if given, is imported into the team keyring first and its fingerprint
  // kept. Errors: kPermissionDenied unless admin or handler, kInvalidArgument naming the field (a
  // key block holding no key, a secret key or several keys is "/pgp_key"), kNotFound for a
  // constituency outside the scope, kFailedPrecondition ("/pgp_key") when there is no team keyring
  // or the key cannot be used for encryption (expired, revoked, no encryption subkey).
  [[nodiscard]] Result<Contact> Create(const Principal& actor, const ContactDraft& draft);
  // The contacts the principal may see: those of its constituencies and the shared ones, oldest first.
  [[nodiscard]] Result<std::vector<Contact>> List(const Principal& actor);
  // Errors: kNotFound (also for a contact of a constituency outside the scope).
  [[nodiscard]] Result<Contact> Get(const Principal& actor, std::int64_t id);
  // Changes a contact's name, organisation, clearance or place in the trust circle, audited as
  // "contact.update" (nothing is written when nothing changes). Errors: kPermissionDenied unless
  // admin or handler, kNotFound for a contact outside the scope, kInvalidArgument naming the field
  // (an introducer that is the contact itself, or one the actor cannot see, is "/introduced_by").
  [[nodiscard]] Result<Contact> Update(const Principal& actor, std::int64_t id, const ContactChange& change);
  // Asks the keyring about the contact's key (runs gpg). Never fails: problems are in the result.
  [[nodiscard]] ContactKey KeyOf(const Contact& contact) const;

 private:
  Store& store_;
  const Clock& clock_;
  KeyRing* keyring_;
};

// --- investigations ---

enum class InvestigationState { kOpen, kWaiting, kAnswered, kClosed };
std::string_view InvestigationStateName(InvestigationState state);  // "open", "waiting", "answered", "closed"
std::optional<InvestigationState> ParseInvestigationState(std::string_view text);

struct Investigation {
  std::string id;        // "V-2026-000001"
  std::string incident;  // the human id of the incident it belongs to now
  std::int64_t contact_id = 0;
  std::string title;
  InvestigationState state = InvestigationState::kOpen;
  std::optional<Timestamp> due;
  std::int64_t sent = 0;     // messages queued to the contact
  std::int64_t replies = 0;  // replies threaded in
  std::optional<Timestamp> last_sent_at;
  std::optional<Timestamp> last_reply_at;
  std::string created_by;
  Timestamp created_at{};
  Timestamp updated_at{};
};

// One investigation with what the UI shows beside it.
struct InvestigationDetail {
  Investigation investigation;
  Contact contact;
  ContactKey key;                 // whether the next message will be encrypted
  std::vector<MailMessage> mail;  // sent and received in this thread, oldest first
};

struct NewInvestigation {
  std::int64_t contact_id = 0;
  std::string title;  // required, 1..500 bytes
  std::optional<Timestamp> due;
};

// Absent fields are left alone; `due` holds nullopt inside to clear it.
struct InvestigationPatch {
  std::optional<std::string> state;
  std::optional<std::optional<Timestamp>> due;
  std::optional<std::string> title;
};

struct InvestigationMessage {
  std::string subject;             // required, 1..500 bytes, one line; the tag is added in front
  std::string body;                // required, at most 256 KiB
  std::optional<std::string> tlp;  // the message's TLP; absent: the incident's
};

class Investigations {
 public:
  // `keyring` may be null: then nothing can be encrypted, so only what the contact's clearance
  // allows in clear text can be sent.
  Investigations(Store& store, const Clock& clock, KeyRing* keyring, TeamMailOptions options)
      : store_(store), clock_(clock), keyring_(keyring), options_(std::move(options)) {}

  // Opens an investigation of `incident` with a contact the principal may see.
  // Errors: kPermissionDenied, kNotFound (incident; contact as "/contact"), kInvalidArgument naming
  // the field.
  [[nodiscard]] Result<Investigation> Open(const Principal& actor, std::string_view incident,
                                           const NewInvestigation& draft);
  // The incident's investigations, oldest first. Errors: kNotFound.
  [[nodiscard]] Result<std::vector<Investigation>> List(const Principal& actor, std::string_view incident);
  // Errors: kNotFound (the incident, or an investigation that is not on it).
  [[nodiscard]] Result<InvestigationDetail> Get(const Principal& actor, std::string_view incident, std::string_view id);
  // Errors: as Get, kPermissionDenied, kInvalidArgument naming the field ("/state").
  [[nodiscard]] Result<Investigation> Update(const Principal& actor, std::string_view incident, std::string_view id,
                                             const InvestigationPatch& patch);
  // Queues a message to the investigation's contact (kind "investigation", on the incident's
  // timeline), threaded after the last message of the investigation, and sets its state to
  // "waiting". It is encrypted to the contact's key whenever the contact has a usable one.
  // Errors: as Get, kPermissionDenied, kInvalidArgument naming the field, kFailedPrecondition when
  // the investigation is closed, or when the message's TLP is above the contact's clearance and it
  // cannot be encrypted to the contact (nothing is queued then).
  [[nodiscard]] Result<MailMessage> Send(const Principal& actor, std::string_view incident, std::string_view id,
                                         const InvestigationMessage& message);

 private:
  Store& store_;
  const Clock& clock_;
  KeyRing* keyring_;
  TeamMailOptions options_;
};

// Called by MailIngest inside its write transaction when a reply threads into investigation `id`:
// records the reply on the investigation (state "answered"). `incident` names the incident whose
// timeline shows it. A missing investigation is not an error (the reply is kept on the incident).
[[nodiscard]] Result<void> NoteInvestigationReply(WriteTx& tx, const AuditContext& ctx, std::string_view id,
                                                  const MailMessage& reply, std::string_view incident);

}  // namespace hikeshi::core
