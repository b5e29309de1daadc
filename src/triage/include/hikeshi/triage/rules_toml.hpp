#pragma once
// The triage rule set as TOML: how it lives in the data directory (DATA/triage.toml) and what
// the API takes and returns. docs/triage.md describes the format. Pure functions; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/triage.hpp"
#include "hikeshi/core/triage_service.hpp"

namespace hikeshi::triage {

// A rule set file larger than this is refused before it is parsed. A realistic set is a few
// hundred lines; core's own bounds (kMaxTriageRules and friends) apply after parsing.
inline constexpr std::size_t kMaxRuleSetBytes = 2u << 20;
// How many dotted key parts (a.b.c) one line may hold outside strings: nested tables are parsed
// recursively, so thousands of them would exhaust the stack. No rule set needs more than 3.
inline constexpr int kMaxDottedKeyParts = 16;

// Reads a rule set and checks it with core::Validate. `version` becomes its version (the store
// numbers the edits). Unknown keys, wrong types and explicitly empty lists are errors, so typos are
// caught. Errors: kInvalidArgument whose message starts with "line N:" and names the key (and the
// rule, by id and position), with field the JSON pointer of the offending value
// ("/rules/2/match/ip/0"); kTooLarge for input over kMaxRuleSetBytes or over core's bounds.
[[nodiscard]] Result<core::RuleSet> ParseRuleSet(std::string_view toml_text, int version);

// The canonical TOML of a rule set: the same keys in the same order every time, defaults written
// out, so that ParseRuleSet(FormatRuleSet(r), r.version) == r for every valid `r`.
std::string FormatRuleSet(const core::RuleSet& rules);

// ParseRuleSet and FormatRuleSet as core's codec port, through which core::TriageService stores
// and reads the rule set's versions. Stateless; thread-safe.
class TomlRuleSetCodec final : public core::RuleSetCodec {
 public:
  [[nodiscard]] Result<core::RuleSet> Parse(std::string_view text, int version) const override {
    return ParseRuleSet(text, version);
  }
  std::string Format(const core::RuleSet& rules) const override { return FormatRuleSet(rules); }
};

}  // namespace hikeshi::triage
