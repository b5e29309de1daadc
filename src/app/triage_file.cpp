#include "triage_file.hpp"

#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "hikeshi/triage/rules_toml.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

// The rules a new team starts with: few, safe, and each an example of one kind of rule.
constexpr std::string_view kDefaultRules = R"(# Triage rules: criteria fixed in advance (docs/triage.md).
#
# Hikeshi stores this file as a new version of the rule set when it differs from the current one,
# at `hikeshi init` and whenever `hikeshi serve` starts. Versions made through the API
# (PUT /api/v1/triage/rules) are not undone by a restart unless this file was edited since it was
# last loaded. Rules are tried in order; the first one that matches decides (stop = true).

[[rule]]
id = "unsolicited-ads"
description = "Advertising mail marked as such (未承諾広告, as Japanese law requires of it): spam"
[rule.match]
channel = ["mail", "web"]
keyword = ["未承諾広告"]
[rule.set]
disposition = "spam"

# Machine feeds are left out: an incident for every aggregate report of a phishing feed would
# bury the people's reports.
[[rule]]
id = "phishing"
description = "Reports that speak of phishing: fraud/phishing, P2, with the phishing playbook"
[rule.match]
channel = ["mail", "web", "api", "phone", "manual"]
keyword = ["フィッシング", "偽サイト", "phishing"]
[rule.set]
category = "fraud/phishing"
impact = 2
urgency = 2
playbook = "phishing"
sla_class = "standard"

# A watch list: anything that touches the constituency's critical assets is P1.
# [[rule]]
# id = "critical-assets"
# [rule.match]
# constituency = ["example-univ"]
# ip = ["192.0.2.0/27", "2001:db8:10::/48"]
# domain = ["vpn.example-univ.ac.jp", "sso.example-univ.ac.jp"]
# [rule.set]
# impact = 1
# urgency = 1
# team = "soc"
# sla_class = "critical"
)";

}  // namespace

fs::path TriageFile(const fs::path& data_dir) { return data_dir / "triage.toml"; }

Result<void> WriteDefaultTriageRules(const fs::path& data_dir) {
  const fs::path path = TriageFile(data_dir);
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  std::ofstream out(path, std::ios::binary);
  out << kDefaultRules;
  if (!out.flush()) return Fail(Error::Internal("cannot write " + path.string()));
  return {};
}

Result<core::RuleSetPut> LoadTriageRules(const core::TriageService& triage, const core::Principal& actor,
                                         const fs::path& data_dir) {
  const fs::path path = TriageFile(data_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return core::RuleSetPut{};
  const auto size = fs::file_size(path, ec);
  if (ec) return Fail(Error::Internal(path.string() + ": " + ec.message()));
  if (size > triage::kMaxRuleSetBytes) {
    return Fail(Error::TooLarge(
        fmt::format("{}: {} bytes; at most {} are allowed", path.string(), size, triage::kMaxRuleSetBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Internal("cannot read " + path.string()));
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  auto put = triage.LoadFile(actor, text);
  if (!put) {
    const Error& e = put.error();
    return Fail(Error(e.code(), path.string() + ": " + e.message(), e.field()));
  }
  return put;
}

}  // namespace hikeshi::app
