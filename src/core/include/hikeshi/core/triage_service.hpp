#pragma once
// Triage in use (docs/triage.md): the rule set's versions as the store keeps them (Records of kind
// "ruleset", key "v00000003"), the current version compiled once and cached, the decision applied
// to every new report inside the transaction that stores it (Records of kind "triage", keyed by the
// report), and a person's override of that decision, with a reason.
//
// The cache is swapped atomically when a version is stored through this object, and refreshed when
// another process or node stored one: before deciding, and at most once per refresh interval, the
// service looks up whether the version after its own exists (one keyed read).
//
// Thread-safe: every method may be called from several threads at once. Store, Clock, Incidents
// and the codec must outlive the service.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/core/triage.hpp"

namespace hikeshi::core {

// The rule set's text form (TOML, implemented by src/triage), so that core needs no parser.
// Implementations must be thread-safe.
class RuleSetCodec {
 public:
  virtual ~RuleSetCodec() = default;
  // Reads and validates. Errors: kInvalidArgument naming the line, the rule and the key; kTooLarge.
  [[nodiscard]] virtual Result<RuleSet> Parse(std::string_view text, int version) const = 0;
  virtual std::string Format(const RuleSet& rules) const = 0;
};

// What intake knows about a new report beyond the report itself.
struct IntakeSignals {
  std::string format;                      // "arf", "xarf-4"... (mail abuse reports), a feed's format
  std::vector<SignatureCheck> signatures;  // of the mail that opened the report; empty: unsigned
};

// The report as triage sees it. `constituency` is the name of the report's constituency ("" for
// none); the source is the reporter as stored ("Name <addr>" is read as addr, a feed's
// "format:source" as the feed).
TriageInput TriageInputOf(const Report& report, std::string constituency, const IntakeSignals& signals);

// What triage did with a new report.
struct IntakeTriageResult {
  Report report;                           // as it is after triage (unchanged when nothing matched)
  std::optional<TriageDecision> decision;  // set when a rule matched (and was stored)
  std::string incident;                    // the incident triage opened for it, or ""
};

// The port intake uses (Reports, MailIngest, FeedIngest): narrow, so that they need no more of
// triage than this. Implemented by TriageService.
class IntakeTriage {
 public:
  virtual ~IntakeTriage() = default;
  // Decides for `report`, just stored with CreateReport in `tx` (status new), with the current
  // rule set, and applies the decision in `tx`: category and TLP set on the report, flags added;
  // spam or out of scope: the report rejected with that reason; a priority: an incident opened
  // from the report (title, category, impact, urgency, owner, TLP, constituency, playbook) and
  // the report linked to it. The decision is stored as the report's "triage" record. Without a
  // rule set, or when no rule matches, nothing is written and the report stays new.
  // Errors: storage errors (the caller's transaction fails with them).
  [[nodiscard]] virtual Result<IntakeTriageResult> TriageNewReport(WriteTx& tx, const Report& report,
                                                                   const IntakeSignals& signals) const = 0;
};

// One stored version of the rule set.
struct RuleSetVersion {
  int version = 0;     // 1, 2, 3...; 0: no rule set has been stored yet
  std::string toml;    // as it was given (comments and all)
  std::string by;      // who stored it
  Timestamp at{};      // when
  std::string note;    // why, as given ("loaded from triage.toml" for the data directory's file)
  std::string source;  // "api" or "file"
  RuleSet rules;       // parsed (version set)
};

struct RuleSetPut {
  RuleSetVersion stored;
  bool created = false;  // false: the text was the current version's already, nothing was stored
};

// A person's change to an automatic (or missing) triage decision. Absent fields are left alone;
// `reason` is required.
struct TriageOverride {
  std::optional<std::string> category;  // ParseCategory syntax
  std::optional<int> impact;            // 1..4
  std::optional<int> urgency;           // 1..4
  std::optional<std::string> tlp;
  std::optional<std::string> owner;        // a username; needs an incident (or impact/urgency to open one)
  std::optional<std::string> disposition;  // none, spam, out-of-scope
  std::string reason;
};

struct TriageChange {
  std::string field;  // "category", "tlp", "impact", "urgency", "owner", "disposition", "incident"
  std::string from;   // "-" for nothing
  std::string to;
};

struct TriageOverrideEntry {
  std::string by;
  Timestamp at{};
  std::string reason;
  std::vector<TriageChange> changes;
};

// A report's triage record: the automatic decision (if one was made), what it did, and every
// override since.
struct TriageRecord {
  std::string report;                      // its human id
  std::optional<TriageDecision> decision;  // absent: triaged by hand only (or not at all)
  std::optional<Timestamp> decided_at;
  std::string incident;            // the incident triage (or an override) opened, or ""
  std::vector<std::string> notes;  // what could not be applied ("owner 'x' ...: left unassigned")
  std::vector<TriageOverrideEntry> overrides;
  std::string state;  // "auto", "overridden", "manual", or "untriaged" when there is no record
};

struct TriageServiceOptions {
  // How often the cache checks whether another node stored a newer version.
  std::chrono::milliseconds refresh_interval{2000};
};

class TriageService final : public IntakeTriage {
 public:
  TriageService(Store& store, const Clock& clock, const Incidents& incidents, const RuleSetCodec& codec,
                TriageServiceOptions options = {});
  ~TriageService() override;
  TriageService(const TriageService&) = delete;
  TriageService& operator=(const TriageService&) = delete;

  // The current version (version 0 and no rules when none was stored). Admins, handlers and
  // viewers may read rules. Errors: kPermissionDenied, storage errors.
  [[nodiscard]] Result<RuleSetVersion> Current(const Principal& actor) const;
  // Every version, oldest first, without their text and rules (see Version).
  [[nodiscard]] Result<std::vector<RuleSetVersion>> Versions(const Principal& actor) const;
  // Errors: kNotFound.
  [[nodiscard]] Result<RuleSetVersion> Version(const Principal& actor, int version) const;

  // Stores `toml` as the next version (previous + 1), unless it is the current version's text
  // already, and makes it current. Admins and handlers only. Errors: kPermissionDenied;
  // kInvalidArgument naming the line, rule and key (from the codec) or the note ("/note");
  // kTooLarge; storage errors.
  [[nodiscard]] Result<RuleSetPut> Put(const Principal& actor, std::string_view toml, std::string_view note) const;
  // The same for a rule set given as values; its canonical TOML is stored.
  [[nodiscard]] Result<RuleSetPut> Put(const Principal& actor, const RuleSet& rules, std::string_view note) const;
  // The data directory's rule file, read at `hikeshi serve` and `init`: stored as a new version
  // (note "loaded from triage.toml", source "file") when it differs from the current version,
  // unless it is the very text last loaded from the file and a later version was stored through
  // the API (an edit made there is not undone by a restart). Returns whether a version was stored.
  // Errors: as Put.
  [[nodiscard]] Result<RuleSetPut> LoadFile(const Principal& actor, std::string_view toml) const;

  // The triage record of a report the principal may see; state "untriaged" when it has none.
  // Errors: kNotFound (also outside the scope).
  [[nodiscard]] Result<TriageRecord> Get(const Principal& actor, std::string_view report_id) const;
  // Applies a person's change to the report (and to the incident it is linked to, or opens one when
  // impact or urgency is given for a new report), and appends it, with who, when, the reason and
  // each field's old and new value, to the report's triage record (audited "triage.override").
  // Admins and handlers only. Errors: kPermissionDenied; kInvalidArgument ("/reason" when missing,
  // a bad value naming its field, nothing to change); kNotFound; kFailedPrecondition when the
  // change does not fit the report's state (an owner without an incident, rejecting a report
  // linked to an incident triage did not open for it).
  [[nodiscard]] Result<TriageRecord> Override(const Principal& actor, std::string_view report_id,
                                              const TriageOverride& change) const;

  [[nodiscard]] Result<IntakeTriageResult> TriageNewReport(WriteTx& tx, const Report& report,
                                                           const IntakeSignals& signals) const override;

  // Reads a stored "triage" record (for `hikeshi rules test`). Errors: kDataLoss when malformed.
  [[nodiscard]] static Result<TriageRecord> DecodeRecord(const Record& record);
  // The record key of a version: "v" and the version zero-padded to 8 digits.
  static std::string VersionKey(int version);

 private:
  struct Loaded;
  // The cached version, first brought up to date through `reader` when `force` or when the refresh
  // interval has passed. Null when no version is stored.
  Result<std::shared_ptr<const Loaded>> Fresh(StoreReader& reader, bool force) const;
  Result<std::shared_ptr<const Loaded>> LoadVersion(const Record& record) const;
  std::shared_ptr<const Loaded> Cached() const;
  // Makes `loaded` current unless the cache already holds that version or a later one.
  void Install(std::shared_ptr<const Loaded> loaded) const;
  Result<RuleSetPut> StoreVersion(const Principal& actor, std::string_view toml, std::string_view note,
                                  bool from_file) const;
  // Opens an incident from `report` in `tx` (triage's decision, or an override's).
  Result<Incident> OpenIncident(WriteTx& tx, const Principal& actor, const Report& report, int impact, int urgency,
                                const std::optional<std::string>& owner, const std::optional<std::string>& playbook,
                                bool apt, std::string_view origin, std::vector<std::string>& notes) const;

  Store& store_;
  const Clock& clock_;
  const Incidents& incidents_;
  const RuleSetCodec& codec_;
  TriageServiceOptions options_;
  // A mutex-guarded shared_ptr rather than std::atomic<std::shared_ptr>, as routing::Router does
  // (docs/architecture.md): libstdc++ 12's atomic one is not lock-free either and trips TSan.
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const Loaded> current_;       // guarded by mutex_
  mutable std::atomic<std::int64_t> last_check_us_{0};  // microseconds since the epoch; 0: never
};

}  // namespace hikeshi::core
