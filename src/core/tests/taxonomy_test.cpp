// The category taxonomy: RSIT v1003 exactly as published (checked against the machine-readable
// corpus, not against a copy of the table), and the JPCERT/CC guide's eight categories on top of it.

#include "hikeshi/core/taxonomy.hpp"

#include <array>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hikeshi::core {
namespace {

constexpr const char* kCorpusPath = HIKESHI_SHARED_DIR "/corpora/rsit/working_copy/machinev1";

struct CorpusClass {
  std::string name;
  std::vector<std::string> types;
};

// The MISP-taxonomy file lists the classes as "predicates" (in order) and each class's types under
// "values"; the order of both is the taxonomy's own.
std::vector<CorpusClass> LoadCorpus() {
  std::ifstream in(kCorpusPath);
  if (!in) {
    ADD_FAILURE() << "cannot open " << kCorpusPath;
    return {};
  }
  const nlohmann::json corpus = nlohmann::json::parse(in);
  EXPECT_EQ(corpus.at("namespace"), "rsit");
  EXPECT_EQ(corpus.at("version"), 1003);
  std::vector<CorpusClass> classes;
  for (const nlohmann::json& predicate : corpus.at("predicates")) {
    CorpusClass rsit_class{predicate.at("value").get<std::string>(), {}};
    for (const nlohmann::json& values : corpus.at("values")) {
      if (values.at("predicate") != rsit_class.name) continue;
      for (const nlohmann::json& entry : values.at("entry")) rsit_class.types.push_back(entry.at("value"));
    }
    classes.push_back(std::move(rsit_class));
  }
  return classes;
}

TEST(TaxonomyTest, RsitClassesAreExactlyTheCorpusInOrder) {
  const std::vector<CorpusClass> corpus = LoadCorpus();
  ASSERT_EQ(corpus.size(), 11u) << "RSIT v1003 has eleven classes";

  const std::span<const RsitClass> classes = RsitClasses();
  ASSERT_EQ(classes.size(), corpus.size());
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    EXPECT_EQ(classes[i].name, corpus[i].name) << "class #" << i;
    ASSERT_EQ(classes[i].types.size(), corpus[i].types.size()) << corpus[i].name;
    for (std::size_t j = 0; j < corpus[i].types.size(); ++j) {
      EXPECT_EQ(classes[i].types[j], corpus[i].types[j]) << corpus[i].name << " type #" << j;
    }
  }
}

TEST(TaxonomyTest, EveryCorpusCategoryParses) {
  const std::vector<CorpusClass> corpus = LoadCorpus();
  std::size_t pairs = 0;
  for (const CorpusClass& rsit_class : corpus) {
    for (const std::string& type : rsit_class.types) {
      const std::string text = rsit_class.name + "/" + type;
      const std::optional<ParsedCategory> parsed = ParseCategory(text);
      ASSERT_TRUE(parsed.has_value()) << text;
      EXPECT_EQ(parsed->category, (Category{rsit_class.name, type})) << text;
      EXPECT_EQ(parsed->category.ToString(), text);
      EXPECT_FALSE(parsed->apt) << text;
      ++pairs;
    }
  }
  EXPECT_EQ(pairs, 39u) << "RSIT v1003 has 39 class/type pairs";
}

// IntelMQ writes the American spelling; feeds from it must land in RSIT's category.
TEST(TaxonomyTest, IntelMqSpellingReadsAsRsit) {
  const struct {
    std::string_view input;
    Category expected;
  } cases[] = {
      {"fraud/unauthorized-use-of-resources", {"fraud", "unauthorised-use-of-resources"}},
      {"information-content-security/unauthorized-information-access",
       {"information-content-security", "unauthorised-information-access"}},
      {"information-content-security/unauthorized-information-modification",
       {"information-content-security", "unauthorised-information-modification"}},
  };
  for (const auto& c : cases) {
    const std::optional<ParsedCategory> parsed = ParseCategory(c.input);
    ASSERT_TRUE(parsed.has_value()) << c.input;
    EXPECT_EQ(parsed->category, c.expected) << c.input;
    EXPECT_FALSE(parsed->apt);
  }
}

struct GuideName {
  std::string_view name;
  GuideCategory category;
};
constexpr std::array<GuideName, 8> kGuideNames{{
    {"Scan", GuideCategory::kScan},
    {"Forged", GuideCategory::kForged},
    {"Intrusion", GuideCategory::kIntrusion},
    {"Phishing", GuideCategory::kPhishing},
    {"DDoS", GuideCategory::kDdos},
    {"Virus", GuideCategory::kVirus},
    {"Spam", GuideCategory::kSpam},
    {"APT", GuideCategory::kApt},
}};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}
std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

// A handler may type the guide's name; it must become a real RSIT category that counts, in the
// guide's statistics, as the name that was typed.
TEST(TaxonomyTest, GuideNamesParseCaseInsensitively) {
  for (const GuideName& guide : kGuideNames) {
    for (const std::string& spelling : {std::string(guide.name), Lower(guide.name), Upper(guide.name)}) {
      const std::optional<ParsedCategory> parsed = ParseCategory(spelling);
      ASSERT_TRUE(parsed.has_value()) << spelling;
      EXPECT_EQ(parsed->apt, guide.category == GuideCategory::kApt) << spelling;
      const std::optional<ParsedCategory> as_rsit = ParseCategory(parsed->category.ToString());
      ASSERT_TRUE(as_rsit.has_value()) << spelling << " gave " << parsed->category.ToString() << ", not an RSIT pair";
      EXPECT_EQ(as_rsit->category, parsed->category);
      EXPECT_EQ(GuideCategoryOf(parsed->category, parsed->apt), guide.category) << spelling;
    }
  }
}

TEST(TaxonomyTest, UnambiguousGuideNamesGiveTheirRsitType) {
  EXPECT_EQ(ParseCategory("phishing").value().category, (Category{"fraud", "phishing"}));
  EXPECT_EQ(ParseCategory("DDoS").value().category, (Category{"availability", "ddos"}));
  EXPECT_EQ(ParseCategory("scan").value().category, (Category{"information-gathering", "scanner"}));
  EXPECT_EQ(ParseCategory("SPAM").value().category, (Category{"abusive-content", "spam"}));
}

TEST(TaxonomyTest, GarbageIsRejected) {
  for (std::string_view text : {
           "",
           "fraud",
           "fraud/",
           "/phishing",
           "fraud/phishing/extra",
           "fraud/ddos",  // a type of another class
           "abusive-content/unauthorized-use-of-resources",
           "unauthorized-use-of-resources",
           "malware",
           "APTX",
           "phish",
           "fraud//phishing",
           "fraud\\phishing",
           "no/such",
       }) {
    EXPECT_FALSE(ParseCategory(text).has_value()) << "'" << text << "' was accepted";
  }
}

TEST(TaxonomyTest, GuideCategoryOfRsitCategories) {
  const struct {
    Category category;
    bool apt;
    GuideCategory expected;
  } cases[] = {
      {{"fraud", "phishing"}, false, GuideCategory::kPhishing},
      {{"availability", "ddos"}, false, GuideCategory::kDdos},
      {{"information-gathering", "scanner"}, false, GuideCategory::kScan},
      {{"abusive-content", "spam"}, false, GuideCategory::kSpam},
      {{"intrusions", "system-compromise"}, false, GuideCategory::kIntrusion},
      {{"intrusions", "system-compromise"}, true, GuideCategory::kApt},
      {{"malicious-code", "infected-system"}, false, GuideCategory::kVirus},
      {{"other", "other"}, false, GuideCategory::kOther},
      // An APT incident counts as APT whatever its technique: spear-phishing in a campaign too.
      {{"fraud", "phishing"}, true, GuideCategory::kApt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(GuideCategoryOf(c.category, c.apt), c.expected) << c.category.ToString() << " apt=" << c.apt;
  }
}

TEST(TaxonomyTest, GuideCategoryNames) {
  for (const GuideName& guide : kGuideNames) EXPECT_EQ(GuideCategoryName(guide.category), guide.name);
  EXPECT_EQ(GuideCategoryName(GuideCategory::kOther), "Other");
}

}  // namespace
}  // namespace hikeshi::core
