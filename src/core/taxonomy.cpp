#include "hikeshi/core/taxonomy.hpp"

#include <array>

#include "detail/text.hpp"

namespace hikeshi::core {

namespace {
using namespace std::string_view_literals;

// RSIT v1003 (corpora/rsit/working_copy/machinev1); core/tests/taxonomy_test.cpp checks this
// table against the corpus so that it cannot drift.
constexpr std::array kAbusive = {"spam"sv, "harmful-speech"sv, "violence"sv};
constexpr std::array kMalicious = {"infected-system"sv, "c2-server"sv, "malware-distribution"sv,
                                   "malware-configuration"sv};
constexpr std::array kGathering = {"scanner"sv, "sniffing"sv, "social-engineering"sv};
constexpr std::array kAttempts = {"ids-alert"sv, "brute-force"sv, "exploit"sv};
constexpr std::array kIntrusions = {"privileged-account-compromise"sv, "unprivileged-account-compromise"sv,
                                    "application-compromise"sv, "system-compromise"sv, "burglary"sv};
constexpr std::array kAvailability = {"dos"sv, "ddos"sv, "misconfiguration"sv, "sabotage"sv, "outage"sv};
constexpr std::array kContent = {"unauthorised-information-access"sv, "unauthorised-information-modification"sv,
                                 "data-loss"sv, "data-leak"sv};
constexpr std::array kFraud = {"unauthorised-use-of-resources"sv, "copyright"sv, "masquerade"sv, "phishing"sv};
constexpr std::array kVulnerable = {"weak-crypto"sv, "ddos-amplifier"sv, "potentially-unwanted-accessible"sv,
                                    "information-disclosure"sv, "vulnerable-system"sv};
constexpr std::array kOther = {"other"sv, "undetermined"sv};
constexpr std::array kTest = {"test"sv};

const std::array<RsitClass, 11> kClasses = {{
    {"abusive-content", kAbusive},
    {"malicious-code", kMalicious},
    {"information-gathering", kGathering},
    {"intrusion-attempts", kAttempts},
    {"intrusions", kIntrusions},
    {"availability", kAvailability},
    {"information-content-security", kContent},
    {"fraud", kFraud},
    {"vulnerable", kVulnerable},
    {"other", kOther},
    {"test", kTest},
}};

struct GuideMapping {
  GuideCategory guide;
  std::string_view name;
  std::string_view rsit_class;
  std::string_view rsit_type;
};
// The guide's categories and the RSIT type each one is recorded as. "Forged" is the guide's
// web-site alteration (改ざん); APT is recorded as a system compromise with the APT flag set.
constexpr std::array<GuideMapping, 8> kGuide = {{
    {GuideCategory::kScan, "Scan", "information-gathering", "scanner"},
    {GuideCategory::kForged, "Forged", "information-content-security", "unauthorised-information-modification"},
    {GuideCategory::kIntrusion, "Intrusion", "intrusions", "system-compromise"},
    {GuideCategory::kPhishing, "Phishing", "fraud", "phishing"},
    {GuideCategory::kDdos, "DDoS", "availability", "ddos"},
    {GuideCategory::kVirus, "Virus", "malicious-code", "infected-system"},
    {GuideCategory::kSpam, "Spam", "abusive-content", "spam"},
    {GuideCategory::kApt, "APT", "intrusions", "system-compromise"},
}};
}  // namespace

std::span<const RsitClass> RsitClasses() { return kClasses; }

std::string_view GuideCategoryName(GuideCategory category) {
  for (const auto& g : kGuide) {
    if (g.guide == category) return g.name;
  }
  return "Other";
}

std::optional<ParsedCategory> ParseCategory(std::string_view text) {
  text = detail::Trim(text);
  for (const auto& g : kGuide) {
    if (detail::EqualsIgnoreCase(text, g.name)) {
      return ParsedCategory{{std::string(g.rsit_class), std::string(g.rsit_type)}, g.guide == GuideCategory::kApt};
    }
  }
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string cls = detail::AsciiLowerCopy(text.substr(0, slash));
  std::string type = detail::AsciiLowerCopy(text.substr(slash + 1));
  if (type.starts_with("unauthorized-")) type.replace(0, 13, "unauthorised-");  // IntelMQ's spelling
  for (const auto& c : kClasses) {
    if (c.name != cls) continue;
    for (const auto t : c.types) {
      if (t == type) return ParsedCategory{{cls, type}, false};
    }
  }
  return std::nullopt;
}

GuideCategory GuideCategoryOf(const Category& category, bool apt) {
  const std::string_view cls = category.rsit_class;
  const std::string_view type = category.rsit_type;
  if (apt) return GuideCategory::kApt;
  if (cls == "information-gathering" || cls == "intrusion-attempts") return GuideCategory::kScan;
  if (cls == "intrusions") return GuideCategory::kIntrusion;
  if (cls == "malicious-code") return GuideCategory::kVirus;
  if (cls == "availability" && (type == "dos" || type == "ddos")) return GuideCategory::kDdos;
  if (cls == "fraud" && type == "phishing") return GuideCategory::kPhishing;
  if (cls == "fraud" && type == "masquerade") return GuideCategory::kForged;
  if (cls == "information-content-security" && type == "unauthorised-information-modification") {
    return GuideCategory::kForged;
  }
  if (cls == "abusive-content" && type == "spam") return GuideCategory::kSpam;
  return GuideCategory::kOther;
}

}  // namespace hikeshi::core
