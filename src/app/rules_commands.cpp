#include "rules_commands.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "hikeshi/common/utf8.hpp"
#include "hikeshi/triage/rules_toml.hpp"

#include "exit_codes.hpp"
#include "store_factory.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

constexpr int kPageSize = 500;
constexpr std::size_t kSubjectColumns = 40;
constexpr std::size_t kRuleColumns = 16;

// Columns a code point takes in a terminal: East Asian wide and full-width forms take two.
std::size_t Columns(char32_t c) {
  const bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
                    (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
  return wide ? 2 : 1;
}

// `text` on one line (controls and bytes that are not UTF-8 shown as spaces and '?'), cut to
// `width` columns with "..." when it does not fit, and padded to `width`.
std::string Cell(std::string_view text, std::size_t width) {
  struct Piece {
    std::string_view bytes;
    char replacement;  // 0: the bytes themselves
    std::size_t columns;
  };
  std::vector<Piece> pieces;
  std::size_t total = 0;
  for (std::size_t i = 0; i < text.size() && total <= width;) {
    const common::CodePoint cp = common::DecodeUtf8(text, i);
    Piece piece{text.substr(i, cp.length == 0 ? 1 : cp.length), 0, 1};
    if (cp.length == 0) {
      piece.replacement = '?';
    } else if (cp.value < 0x20 || cp.value == 0x7F) {
      piece.replacement = ' ';
    } else {
      piece.columns = Columns(cp.value);
    }
    total += piece.columns;
    i += piece.bytes.size();
    pieces.push_back(piece);
  }
  const std::size_t room = total > width ? width - 3 : width;
  std::string out;
  std::size_t used = 0;
  for (const Piece& piece : pieces) {
    if (used + piece.columns > room) break;
    if (piece.replacement != 0) {
      out += piece.replacement;
    } else {
      out.append(piece.bytes);
    }
    used += piece.columns;
  }
  if (total > width) {
    out += "...";
    used += 3;
  }
  out.append(width > used ? width - used : 0, ' ');
  return out;
}

std::optional<core::RejectReason> ReasonOf(core::TriageDisposition disposition) {
  switch (disposition) {
    case core::TriageDisposition::kSpam:
      return core::RejectReason::kSpam;
    case core::TriageDisposition::kOutOfScope:
      return core::RejectReason::kOutOfScope;
    case core::TriageDisposition::kNone:
      break;
  }
  return std::nullopt;
}

// "from -> to" of a field only a decision holds (the report has no column for it).
template <typename T, typename F>
void Compare(std::vector<std::string>& changes, std::string_view name, const std::optional<T>& stored,
             const std::optional<T>& decided, F&& show) {
  if (stored == decided) return;
  changes.push_back(fmt::format("{} {} -> {}", name, stored ? show(*stored) : std::string("-"),
                                decided ? show(*decided) : std::string("-")));
}

// What the decision would change on `report`, in words; empty when nothing. With a stored decision
// (the report was triaged at intake), the fields only a decision holds are compared with it.
std::vector<std::string> Changes(const core::Report& report, const core::TriageDecision& d,
                                 const std::optional<core::TriageDecision>& stored) {
  std::vector<std::string> changes;
  if (d.category && (!report.category || *report.category != *d.category)) {
    changes.push_back("category " + (report.category ? report.category->ToString() : std::string("-")) + " -> " +
                      d.category->ToString() + (d.apt.value_or(false) ? " (APT)" : ""));
  }
  if (d.tlp && *d.tlp != report.tlp) {
    changes.push_back(fmt::format("{} -> {}", core::TlpName(report.tlp), core::TlpName(*d.tlp)));
  }
  if (d.disposition) {
    if (const auto reason = ReasonOf(*d.disposition)) {
      const std::string_view name = core::RejectReasonName(*reason);
      if (report.status == core::ReportStatus::kNew) {
        changes.push_back(fmt::format("status new -> rejected ({})", name));
      } else if (report.status != core::ReportStatus::kRejected || report.reject_reason != reason) {
        changes.push_back(fmt::format("would reject ({}), but the report is already {}", name,
                                      core::ReportStatusName(report.status)));
      }
    }
  }
  const auto text = [](const std::string& s) { return s; };
  if (stored) {
    if (stored->priority != d.priority || stored->impact != d.impact || stored->urgency != d.urgency) {
      const auto show = [](const core::TriageDecision& x) {
        return x.priority ? fmt::format("P{} (impact {}, urgency {})", *x.priority, *x.impact, *x.urgency)
                          : std::string("-");
      };
      changes.push_back(show(*stored) + " -> " + show(d));
    }
    Compare(changes, "owner", stored->owner, d.owner, text);
    Compare(changes, "team", stored->team, d.team, text);
    Compare(changes, "playbook", stored->playbook, d.playbook, text);
    Compare(changes, "SLA", stored->sla_class, d.sla_class, text);
  } else {
    if (d.priority) changes.push_back(fmt::format("P{} (impact {}, urgency {})", *d.priority, *d.impact, *d.urgency));
    if (d.owner) changes.push_back("owner " + *d.owner);
    if (d.team) changes.push_back("team " + *d.team);
    if (d.playbook) changes.push_back("playbook " + *d.playbook);
    if (d.sla_class) changes.push_back("SLA " + *d.sla_class);
  }
  for (const auto& flag : d.flags) {
    if (std::find(report.flags.begin(), report.flags.end(), flag) == report.flags.end()) {
      changes.push_back("flag +" + flag);
    }
  }
  return changes;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// The report as triage sees it. Mail reports bring their signatures and abuse-report format from
// the message that opened them.
Result<core::TriageInput> InputOf(core::StoreReader& reader, const core::Report& report,
                                  const std::map<std::int64_t, std::string>& constituencies) {
  std::string constituency;
  if (report.constituency_id) {
    const auto it = constituencies.find(*report.constituency_id);
    if (it != constituencies.end()) constituency = it->second;
  }
  core::IntakeSignals signals;
  std::string from;
  if (report.channel == core::Channel::kMail) {
    HIKESHI_TRY(const auto mail, reader.ListMailForReport(report.id));
    for (const auto& m : mail) {
      if (m.direction != core::MailDirection::kIn || m.kind != "report") continue;
      signals.signatures = m.signatures;
      if (m.abuse) signals.format = m.abuse->format;
      from = m.from_address;
      break;
    }
  }
  // As intake saw it: the same input the report was triaged with when it arrived.
  core::TriageInput in = core::TriageInputOf(report, std::move(constituency), signals);
  if (!from.empty()) in.source = from;
  return in;
}

}  // namespace

CLI::App* AddRulesCommands(CLI::App& app, RulesTestOptions& options) {
  auto* rules = app.add_subcommand("rules", "Triage rules");
  rules->require_subcommand(1);
  auto* test = rules->add_subcommand(
      "test", "Replay stored reports through a rule file and print what would change (nothing is written)");
  test->add_option("--rules", options.rules_file, "The rule file (TOML; see docs/triage.md)")->required();
  test->add_option("--limit", options.limit, "Replay only the newest N reports (default: all)")
      ->check(CLI::Range(1, 100'000'000));
  test->add_flag("--explain", options.explain, "Also print why each rule matched");
  return test;
}

Result<core::RuleSet> LoadRuleFile(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Fail(Error::NotFound("rule file " + path.string() + " (" + ec.message() + ")"));
  if (size > triage::kMaxRuleSetBytes) {
    return Fail(Error::TooLarge(
        fmt::format("rule file {}: {} bytes; at most {} are allowed", path.string(), size, triage::kMaxRuleSetBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::NotFound("rule file " + path.string() + " (cannot be opened)"));
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  auto rules = triage::ParseRuleSet(text, 0);
  if (!rules) {
    const Error& e = rules.error();
    return Fail(Error(e.code(), "rule file " + path.string() + ": " + e.message()));
  }
  return rules;
}

Result<int> ReplayReports(core::Store& store, const core::RuleSet& rules, const RulesTestOptions& options) {
  HIKESHI_TRY(const auto compiled, core::CompiledRuleSet::Compile(rules));
  const auto enabled = std::count_if(rules.rules.begin(), rules.rules.end(), [](const auto& r) { return r.enabled; });
  fmt::print("Rule set {}: {} rules, {} enabled. Nothing is written.\n\n", options.rules_file, rules.rules.size(),
             enabled);
  fmt::print("{:<15} {} {} {}\n", "REPORT", Cell("SUBJECT", kSubjectColumns), Cell("RULE", kRuleColumns), "CHANGES");

  std::size_t replayed = 0;
  std::size_t changed = 0;
  std::size_t unmatched = 0;
  std::size_t compared = 0;
  std::map<std::string, std::size_t> fired;
  HIKESHI_CHECK(store.Read([&](core::StoreReader& reader) -> Result<void> {
    std::map<std::int64_t, std::string> constituencies;
    HIKESHI_TRY(const auto list, reader.ListConstituencies());
    for (const auto& c : list) constituencies.emplace(c.id, c.name);

    core::ReportQuery query;
    query.limit = kPageSize;
    while (options.limit == 0 || replayed < static_cast<std::size_t>(options.limit)) {
      if (options.limit != 0) {
        query.limit = std::min<int>(kPageSize, options.limit - static_cast<int>(replayed));
      }
      HIKESHI_TRY(const auto page, reader.ListReports(core::Scope::All(), query));
      for (const core::Report& report : page.items) {
        HIKESHI_TRY(const auto input, InputOf(reader, report, constituencies));
        const core::TriageDecision d = compiled.Decide(input);
        // The decision stored when the report was triaged at intake, if it was.
        std::optional<core::TriageDecision> stored;
        HIKESHI_TRY(const auto record, reader.FindRecord("triage", report.human_id));
        if (record) {
          HIKESHI_TRY(const auto decoded, core::TriageService::DecodeRecord(*record));
          stored = decoded.decision;
        }
        if (stored) ++compared;
        auto changes = Changes(report, d, stored);
        if (stored && !changes.empty()) {
          changes.back() += fmt::format(" (stored: rule {} of v{})", stored->rule_id, stored->rule_set_version);
        }
        ++replayed;
        if (!changes.empty()) ++changed;
        if (!d.matched()) ++unmatched;
        for (const auto& id : d.matched_rules) ++fired[id];
        fmt::print("{:<15} {} {} {}\n", report.human_id, Cell(report.subject, kSubjectColumns),
                   Cell(d.matched() ? d.rule_id : "-", kRuleColumns), changes.empty() ? "-" : Join(changes, "; "));
        if (options.explain) {
          std::string why = d.explanation;
          for (std::size_t at = why.find('\n'); at != std::string::npos; at = why.find('\n', at + 1)) {
            why.insert(at + 1, "    ");
          }
          fmt::print("    {}\n", why);
        }
      }
      if (!page.next_before_id) break;
      query.before_id = page.next_before_id;
    }
    return {};
  }));

  fmt::print("\n{} reports replayed, {} would change, {} matched no rule.\n", replayed, changed, unmatched);
  if (compared > 0) fmt::print("{} were compared with the decision stored when they were triaged.\n", compared);
  if (!fired.empty()) {
    fmt::print("Rules that fired:\n");
    for (const auto& rule : rules.rules) {
      const auto it = fired.find(rule.id);
      if (it != fired.end()) fmt::print("  {} {}\n", Cell(rule.id, kRuleColumns), it->second);
    }
  }
  return kExitOk;
}

Result<int> RulesTest(const fs::path& data_dir, const std::string& store_option, const RulesTestOptions& options) {
  // The rule file first: a mistake in it is reported without touching the store.
  HIKESHI_TRY(const auto rules, LoadRuleFile(options.rules_file));
  const char* env = std::getenv("HIKESHI_STORE");
  HIKESHI_TRY(const StoreLocation location, ResolveStore(store_option, env == nullptr ? "" : env, data_dir));
  HIKESHI_TRY(auto store, OpenStore(location, false));
  return ReplayReports(*store, rules, options);
}

}  // namespace hikeshi::app
