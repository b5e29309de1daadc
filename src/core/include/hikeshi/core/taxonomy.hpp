#pragma once
// Incident categories: the RSIT v1003 taxonomy (class/type) and the JPCERT/CC guide's eight
// categories mapped onto it. Value types; the tables are immutable and thread-safe.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hikeshi::core {

// One RSIT class/type pair, always valid when obtained from ParseCategory.
struct Category {
  std::string rsit_class;  // "fraud"
  std::string rsit_type;   // "phishing"
  std::string ToString() const { return rsit_class + "/" + rsit_type; }
  bool operator==(const Category&) const = default;
};

struct RsitClass {
  std::string_view name;
  std::span<const std::string_view> types;
};
// The eleven RSIT v1003 classes with their types, in the taxonomy's order.
std::span<const RsitClass> RsitClasses();

// The guide's categories ("CSIRT ガイド"), used in statistics and as input shorthands.
enum class GuideCategory { kScan, kForged, kIntrusion, kPhishing, kDdos, kVirus, kSpam, kApt, kOther };
std::string_view GuideCategoryName(GuideCategory category);  // "Scan", ..., "APT", "Other"

struct ParsedCategory {
  Category category;
  bool apt = false;  // true when the input was the guide's "APT", which RSIT has no type for
};

// Accepts "class/type" (RSIT, with IntelMQ's "unauthorized-" spelling read as RSIT's
// "unauthorised-"), or one of the guide's eight names case-insensitively ("phishing", "APT").
// nullopt for anything else.
std::optional<ParsedCategory> ParseCategory(std::string_view text);

// Which of the guide's categories an RSIT category counts as; `apt` marks an APT incident.
GuideCategory GuideCategoryOf(const Category& category, bool apt);

}  // namespace hikeshi::core
