// Playbook selection and the parts of a playbook that are pure: which playbook an incident gets
// (APT first, then the exact RSIT class/type, then the class), how a playbook's category is written
// down, and how a mail template's placeholders are filled in.

#include "hikeshi/core/playbooks.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

Playbook Named(std::string name, std::string category) {
  Playbook p;
  p.name = std::move(name);
  p.version = 1;
  p.category = std::move(category);
  return p;
}

std::string Selected(const std::vector<Playbook>& playbooks, const Category& category, bool apt = false) {
  const auto* p = SelectPlaybook(playbooks, category, apt);
  return p ? p->name : "(none)";
}

const Category kPhishing{"fraud", "phishing"};
const Category kMasquerade{"fraud", "masquerade"};
const Category kCompromise{"intrusions", "system-compromise"};
const Category kScanner{"information-gathering", "scanner"};

TEST(SelectPlaybookTest, ExactClassAndTypeWinsOverTheClass) {
  const std::vector<Playbook> playbooks = {Named("fraud-general", "fraud"), Named("phishing", "fraud/phishing")};
  EXPECT_EQ(Selected(playbooks, kPhishing), "phishing");
  // Listed the other way round, the answer is the same.
  const std::vector<Playbook> reversed = {Named("phishing", "fraud/phishing"), Named("fraud-general", "fraud")};
  EXPECT_EQ(Selected(reversed, kPhishing), "phishing");
}

TEST(SelectPlaybookTest, TheClassPlaybookCoversTheOtherTypesOfItsClass) {
  const std::vector<Playbook> playbooks = {Named("fraud-general", "fraud"), Named("phishing", "fraud/phishing")};
  EXPECT_EQ(Selected(playbooks, kMasquerade), "fraud-general");
}

TEST(SelectPlaybookTest, NoPlaybookForACategoryNobodyWroteOneFor) {
  const std::vector<Playbook> playbooks = {Named("phishing", "fraud/phishing"),
                                           Named("scanning", "information-gathering")};
  EXPECT_EQ(Selected(playbooks, kCompromise), "(none)");
  EXPECT_EQ(Selected({}, kPhishing), "(none)");
}

TEST(SelectPlaybookTest, AnAptGetsTheAptPlaybookAndOthersOfTheSameTypeDoNot) {
  const std::vector<Playbook> playbooks = {Named("intrusion", "intrusions/system-compromise"), Named("apt", "apt")};
  EXPECT_EQ(Selected(playbooks, kCompromise, /*apt=*/true), "apt");
  EXPECT_EQ(Selected(playbooks, kCompromise, /*apt=*/false), "intrusion");
  // Without an APT playbook, an APT falls back to its category's.
  const std::vector<Playbook> without_apt = {Named("intrusion", "intrusions/system-compromise")};
  EXPECT_EQ(Selected(without_apt, kCompromise, /*apt=*/true), "intrusion");
}

TEST(SelectPlaybookTest, TypeOfAnotherClassDoesNotMatch) {
  // "scanner" belongs to information-gathering; a playbook for intrusion-attempts is not its class.
  const std::vector<Playbook> playbooks = {Named("attempts", "intrusion-attempts")};
  EXPECT_EQ(Selected(playbooks, kScanner), "(none)");
}

TEST(PlaybookCategoryTest, ClassTypeGuideNamesClassesAndApt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fraud/phishing", "fraud/phishing"},
      {"Phishing", "fraud/phishing"},
      {"DDoS", "availability/ddos"},
      {"malicious-code", "malicious-code"},
      {"Malicious-Code", "malicious-code"},
      {"APT", "apt"},
      {" apt ", "apt"},
      {"intrusions/unauthorized-information-access", ""},  // a type of another class
      {"fraud/", ""},
      {"phish", ""},
      {"", ""},
  };
  for (const auto& [input, expected] : cases) {
    const auto result = NormalizePlaybookCategory(input);
    if (expected.empty()) {
      ASSERT_FALSE(result) << input;
      EXPECT_EQ(result.error().field(), "/category");
    } else {
      ASSERT_TRUE(result) << input << ": " << result.error().message();
      EXPECT_EQ(*result, expected) << input;
    }
  }
}

TEST(MailTemplateTest, PlaceholdersAreFilledInAndTheRestIsKept) {
  const std::map<std::string, std::string, std::less<>> values = {
      {"incident", "I-2026-000007"}, {"title", "偽ログインページ"}, {"reporter", "soc@example.ac.jp"}};
  const auto out = RenderMailTemplate("[{{incident}}] {{ title }}: thanks {{reporter}}, from {{handler}}.", values);
  ASSERT_TRUE(out) << out.error().message();
  // A known placeholder without a value becomes empty.
  EXPECT_EQ(*out, "[I-2026-000007] 偽ログインページ: thanks soc@example.ac.jp, from .");
}

TEST(MailTemplateTest, UnknownOrUnclosedPlaceholdersAreRefused) {
  for (const std::string text : {"Dear {{name}}", "{{incident", "{{}}", "{{INCIDENT}}"}) {
    const auto out = RenderMailTemplate(text, {});
    ASSERT_FALSE(out) << text;
    EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  }
  // Single braces are ordinary text.
  const auto plain = RenderMailTemplate("{ \"json\": {} }", {});
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, "{ \"json\": {} }");
}

}  // namespace
}  // namespace hikeshi::core
