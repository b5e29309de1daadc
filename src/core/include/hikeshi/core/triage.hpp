#pragma once
// Triage rules: criteria fixed in advance that decide, for each new report, its category, priority
// (impact x urgency through the matrix), owner, team, playbook, TLP and SLA class, or that it is
// spam or out of scope. Pure computation: no I/O. The TOML form is read and written by src/triage.
//
// Semantics (docs/triage.md): enabled rules are tried in order. A rule matches when every condition
// it gives holds; a condition's list means "any of". A matching rule applies its actions; a field
// set by a later matching rule replaces the value an earlier one set, and flags accumulate. A
// matching rule with `stop` (the default) ends the evaluation; one without lets the following rules
// add to or override what it set. The decision names the last rule that matched (the one that
// stopped, or the last one reached) and the rule set's version.
//
// Value types are plain and copyable. CompiledRuleSet is immutable once built and safe to use from
// several threads at once.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/keyring.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/observable.hpp"
#include "hikeshi/core/taxonomy.hpp"
#include "hikeshi/core/tlp.hpp"

namespace hikeshi::core {

// Bounds that keep a rule set (which may arrive through the API) cheap to check and to run.
inline constexpr std::size_t kMaxTriageRules = 10'000;
inline constexpr std::size_t kMaxTriageListEntries = 10'000;  // one condition's list
inline constexpr std::size_t kMaxTriageEntries = 100'000;     // every list entry of every rule together
inline constexpr std::size_t kMaxTriageKeywordBytes = 256;    // one keyword, after folding
inline constexpr std::size_t kMaxTriageTextBytes = 1'000;     // a description, a source pattern

// What a rule looks at (members default to empty, so designated initializers may name a few).
// Every list that is not empty must hold; an entry list means "any of".
// Entries are kept as written, so that what is stored and shown is what the author wrote.
struct TriageMatch {
  // "fraud/phishing" (RSIT class/type), "fraud" (any type of the RSIT class), or one of the guide's
  // categories ("Phishing", "Scan", "APT"...), which matches every RSIT type the guide counts as it.
  std::vector<std::string> category{};
  std::vector<std::string> constituency{};  // constituency names
  std::vector<std::string> channel{};       // api, mail, web, feed, phone, manual
  // The reporter: "alice@example.org" or "example.org" (the address, or its domain, exactly),
  // "@example.org" (any address at example.org), "*.example.org" (any address at a subdomain of
  // example.org), or a feed ("shadowserver", or the whole "shadowserver:file.csv").
  std::vector<std::string> source{};
  // The machine format the report came in: "arf", "xarf-0.2", "xarf-4" (mail), a feed format.
  std::vector<std::string> format{};
  // The watch list (a constituency's critical assets, say): IPv4/IPv6 addresses and CIDR prefixes,
  // and domains. `ip` and `domain` are one condition: it holds when an observable is inside one of
  // the prefixes, or equal to or under (a subdomain of) one of the domains.
  std::vector<std::string> ip{};
  std::vector<std::string> domain{};
  std::vector<std::string> keyword{};  // Japanese or English words, found in the subject or the body
  // The sender's PGP signature: good, bad, unknown-key, expired-key, revoked-key, error, or
  // unsigned (the report's mail carried no signature, or the report did not come by mail).
  std::vector<std::string> pgp{};
  bool operator==(const TriageMatch&) const = default;
};

// What a matching rule sets. Absent fields are left alone.
struct TriageActions {
  std::optional<std::string> category{};  // as ParseCategory reads it; "APT" also sets apt
  std::optional<bool> apt{};
  std::optional<int> impact{};         // 1..4, given together with urgency
  std::optional<int> urgency{};        // 1..4
  std::optional<std::string> owner{};  // a username
  std::optional<std::string> team{};
  std::optional<std::string> playbook{};  // a playbook's name
  std::optional<std::string> tlp{};       // as ParseTlp reads it
  std::optional<std::string> sla_class{};
  std::optional<std::string> disposition{};  // none, spam, out-of-scope
  std::vector<std::string> flag{};           // flags added to the report
  bool operator==(const TriageActions&) const = default;
};

struct TriageRule {
  std::string id;  // unique in its set: 1-64 of a-z, 0-9, '.', '_', '-'
  std::string description;
  bool enabled = true;
  TriageMatch match;
  TriageActions set;
  bool stop = true;
  bool operator==(const TriageRule&) const = default;
};

struct RuleSet {
  int version = 0;  // assigned by the store: every edit makes a new version
  std::vector<TriageRule> rules;
  bool operator==(const RuleSet&) const = default;
};

enum class TriageDisposition { kNone, kSpam, kOutOfScope };
std::string_view TriageDispositionName(TriageDisposition disposition);  // "none", "spam", "out-of-scope"
std::optional<TriageDisposition> ParseTriageDisposition(std::string_view text);

// What triage looks at: a report as received, in plain values.
struct TriageInput {
  std::optional<Category> category;
  bool apt = false;
  std::string constituency;  // name, empty when none
  Channel channel = Channel::kApi;
  std::string source;  // the reporter: "addr", "Name <addr>", or a feed's "format:source"
  std::string format;  // "arf", "xarf-4"... for mail abuse reports, the feed format for feeds
  std::string subject;
  std::string body;
  std::vector<Observable> observables;
  std::vector<SignatureCheck> signatures;  // of the mail that opened the report; empty: unsigned
};

struct TriageDecision {
  int rule_set_version = 0;
  std::string rule_id;                     // the last rule that matched; empty when none did
  std::vector<std::string> matched_rules;  // every rule that matched, in order
  std::optional<Category> category;
  std::optional<bool> apt;
  std::optional<int> impact;
  std::optional<int> urgency;
  std::optional<int> priority;  // PriorityOf(impact, urgency), 1..4 for P1..P4
  std::optional<std::string> owner;
  std::optional<std::string> team;
  std::optional<std::string> playbook;
  std::optional<Tlp> tlp;
  std::optional<std::string> sla_class;
  std::optional<TriageDisposition> disposition;
  std::vector<std::string> flags;  // in the order the rules added them, without repeats
  // Why: one line per matching rule, naming each condition and what in the report satisfied it,
  // then what it set. "no rule matched" when none did.
  std::string explanation;

  bool matched() const { return !rule_id.empty(); }
};

// Checks a rule set. Errors: kInvalidArgument naming the rule (its id and position) and the key,
// with field a JSON pointer such as "/rules/2/match/ip/0": duplicate or malformed ids, unknown
// categories, channels, TLPs, PGP validities or dispositions, malformed IPs, CIDRs or domains,
// impact or urgency out of 1..4 or given alone, a rule that sets nothing, an empty entry, and the
// bounds above (kTooLarge for those).
[[nodiscard]] Result<void> Validate(const RuleSet& rules);

// A rule set prepared for evaluation: prefixes, domains and the keyword automaton built once.
// Deciding costs time linear in the subject and body, plus a lookup per observable and rule.
class CompiledRuleSet {
 public:
  // Validates, then compiles. Errors: as Validate.
  [[nodiscard]] static Result<CompiledRuleSet> Compile(RuleSet rules);

  CompiledRuleSet(CompiledRuleSet&&) noexcept;
  CompiledRuleSet& operator=(CompiledRuleSet&&) noexcept;
  CompiledRuleSet(const CompiledRuleSet&) = delete;
  CompiledRuleSet& operator=(const CompiledRuleSet&) = delete;
  ~CompiledRuleSet();

  // Deterministic: the same rules and input always give the same decision.
  TriageDecision Decide(const TriageInput& input) const;
  const RuleSet& rules() const;

  struct Impl;  // opaque: defined in triage.cpp

 private:
  explicit CompiledRuleSet(std::unique_ptr<const Impl> impl);
  std::unique_ptr<const Impl> impl_;
};

// Compiles `rules` and decides once. Meant for a rule set that passed Validate; in one that did
// not, an entry that cannot be read never matches and an action that cannot be read is skipped.
TriageDecision Decide(const RuleSet& rules, const TriageInput& input);

// Folds text the way keywords are compared: full-width ASCII to ASCII, half-width katakana to
// full-width (with voiced marks joined), the ideographic space to a space, A-Z to a-z. Bytes that
// are not well-formed UTF-8 are kept as they are.
std::string FoldForKeywords(std::string_view text);

}  // namespace hikeshi::core
