#pragma once
// Mail intake's use case. A parsed message (its raw bytes kept in the BlobStore, or sealed to be
// stored as a row with the message: ReceivedMail::inline_blobs) becomes:
//   - nothing new, when the same message was stored before (redelivery is idempotent);
//   - an entry on an incident's or report's timeline, when it is a reply: its subject carries the
//     tag "[Hikeshi I-2026-000123]" (or a report's R-id), or it references a message Hikeshi sent
//     or received;
//   - otherwise a new report (channel mail) with its observables and constituency, and an
//     acknowledgement queued for the reporter in the same transaction, unless the message is spam,
//     automatic mail, mail from Hikeshi's own address, or the sender has had too many already.
// Thread-safe; Store and Clock must outlive it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/inbound_mail.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/core/write_group.hpp"

namespace hikeshi::core {

struct MailIngestOptions {
  std::string team_address = "csirt@localhost";  // Hikeshi's own address: From of what it sends
  std::string team_name = "CSIRT";
  std::string subject_tag = "Hikeshi";  // "[Hikeshi R-2026-000001]"
  bool acknowledge = true;
  int acks_per_sender = 5;  // at most this many acknowledgements to one address per window
  std::chrono::seconds ack_window{3600};
  Tlp tlp = Tlp::kAmber;
  // At most this many concurrent messages share one write transaction (1: a commit each).
  std::size_t max_group = 64;
};

// What was received: the routing and extraction the intake pipeline did around the parse.
struct ReceivedMail {
  InboundMail mail;
  std::string raw_sha256;  // the raw message in the BlobStore
  std::int64_t raw_size = 0;
  // Blobs of this message (the raw message, attachments) that BlobStore::SealInline sealed to be
  // kept as rows: Receive inserts them in the transaction that stores the message, so they are
  // durable exactly when it is. The others are in the BlobStore already.
  std::vector<SealedBlob> inline_blobs;
  std::vector<Observable> observables;
  std::optional<std::int64_t> constituency_id;
};

enum class MailOutcome { kStored, kThreaded, kDuplicate };
std::string_view MailOutcomeName(MailOutcome outcome);  // "stored", "threaded", "duplicate"

struct MailReceipt {
  MailOutcome outcome = MailOutcome::kStored;
  std::int64_t mail_id = 0;
  std::string report;    // human id of the report it opened or was threaded to, if any
  std::string incident;  // human id of the incident it was threaded to, or triage opened for it
  std::string ack;       // "queued", or why not: "suppressed: spam", ...
  std::vector<std::string> flags;
};

// Port: the whole mail intake path for one raw message (kept, parsed, extracted, routed, stored),
// implemented by intake/pipeline's MailPipeline, so that the API can take mail without depending
// on an intake adapter.
class MailIntake {
 public:
  virtual ~MailIntake() = default;
  // Returns once the message is committed. Errors: kPermissionDenied; storage errors (the caller
  // must make the sender retry).
  [[nodiscard]] virtual Result<MailReceipt> Deliver(const Principal& actor, std::string_view raw) = 0;
};

class IntakeTriage;

class MailIngest {
 public:
  // `triage` (may be null: no triage) decides for every report a message opens, in the same
  // transaction; a report it rejects as spam gets no acknowledgement. It must outlive this.
  MailIngest(Store& store, const Clock& clock, MailIngestOptions options, const IntakeTriage* triage = nullptr);
  // Move-constructible (not while a Receive runs), not copyable: it owns the WriteGroup its
  // callers share.
  MailIngest(MailIngest&&) = default;
  MailIngest& operator=(MailIngest&&) = delete;
  MailIngest(const MailIngest&) = delete;
  MailIngest& operator=(const MailIngest&) = delete;

  // Errors: kPermissionDenied unless admin or handler (the mail gateway acts as the local
  // operator), storage errors (kUnavailable: the caller must make the MTA retry).
  // Concurrent calls share write transactions (WriteGroup); each returns only once the
  // transaction holding its message is committed. `before_commit` (may be empty) runs before that
  // commit: the intake pipeline makes the message's blob files durable there. Its inline blobs are
  // inserted first (even for a duplicate: what was received is kept; the same bytes once).
  Result<MailReceipt> Receive(const Principal& actor, const ReceivedMail& received,
                              const std::function<Result<void>()>& before_commit = {});

  // The Message-ID used for a message without one: derived from its raw bytes, so that a
  // redelivery of the same bytes is still recognised.
  static std::string SyntheticMessageId(std::string_view raw_sha256);
  // "ja" when the text is mostly Japanese, else "en".
  static std::string DetectLanguage(std::string_view text);
  // The human id in "[<tag> X-YYYY-NNNNNN]" within `subject`, if any.
  static std::optional<std::string> TaggedId(std::string_view subject, std::string_view tag);

  const MailIngestOptions& Options() const { return options_; }

 private:
  Store& store_;
  const Clock& clock_;
  MailIngestOptions options_;
  const IntakeTriage* triage_;
  std::unique_ptr<WriteGroup> group_;
};

}  // namespace hikeshi::core
