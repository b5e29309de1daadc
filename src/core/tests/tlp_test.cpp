// TLP 2.0 labels: the names shown on every shared object, what a handler or a peer team may type,
// and the order that sharing checks rely on.

#include "hikeshi/core/tlp.hpp"

#include <array>
#include <optional>
#include <string_view>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

struct Label {
  Tlp tlp;
  std::string_view name;
};
constexpr std::array<Label, 5> kLabels{{
    {Tlp::kClear, "TLP:CLEAR"},
    {Tlp::kGreen, "TLP:GREEN"},
    {Tlp::kAmber, "TLP:AMBER"},
    {Tlp::kAmberStrict, "TLP:AMBER+STRICT"},
    {Tlp::kRed, "TLP:RED"},
}};

TEST(TlpTest, CanonicalNames) {
  for (const Label& label : kLabels) EXPECT_EQ(TlpName(label.tlp), label.name);
}

TEST(TlpTest, ParsesCanonicalNamesBack) {
  for (const Label& label : kLabels) EXPECT_EQ(ParseTlp(label.name), label.tlp) << label.name;
}

TEST(TlpTest, ParsesWithoutPrefixAndInAnyCase) {
  constexpr struct {
    std::string_view text;
    Tlp expected;
  } kCases[] = {
      {"CLEAR", Tlp::kClear},
      {"clear", Tlp::kClear},
      {"tlp:clear", Tlp::kClear},
      {"Green", Tlp::kGreen},
      {"tlp:green", Tlp::kGreen},
      {"TLP:Green", Tlp::kGreen},
      {"amber", Tlp::kAmber},
      {"Tlp:Amber", Tlp::kAmber},
      {"AMBER+STRICT", Tlp::kAmberStrict},
      {"amber+strict", Tlp::kAmberStrict},
      {"tlp:amber+strict", Tlp::kAmberStrict},
      {"red", Tlp::kRed},
      {"TLP:red", Tlp::kRed},
  };
  for (const auto& c : kCases) EXPECT_EQ(ParseTlp(c.text), c.expected) << c.text;
}

// Mail and documents from before TLP 2.0 still say WHITE; it means what CLEAR means now.
TEST(TlpTest, WhiteFromTlp1IsReadAsClear) {
  EXPECT_EQ(ParseTlp("TLP:WHITE"), Tlp::kClear);
  EXPECT_EQ(ParseTlp("WHITE"), Tlp::kClear);
  EXPECT_EQ(ParseTlp("white"), Tlp::kClear);
  EXPECT_EQ(ParseTlp("tlp:white"), Tlp::kClear);
}

TEST(TlpTest, RejectsEverythingElse) {
  for (std::string_view text : {"", "TLP:", "TLP", "TLP:PURPLE", "AMBER STRICT", "AMBER+", "TLP:AMBER+STRICTER",
                                "TLPRED", "TLP:TLP:RED", "RED!", "REDD", "TLP-RED", "ambe"}) {
    EXPECT_EQ(ParseTlp(text), std::nullopt) << "'" << text << "' was accepted";
  }
}

// Sharing checks compare labels: a < b must mean a may be shared more widely than b.
TEST(TlpTest, OrderedFromLeastToMostRestricted) {
  EXPECT_LT(Tlp::kClear, Tlp::kGreen);
  EXPECT_LT(Tlp::kGreen, Tlp::kAmber);
  EXPECT_LT(Tlp::kAmber, Tlp::kAmberStrict);
  EXPECT_LT(Tlp::kAmberStrict, Tlp::kRed);
  EXPECT_GT(Tlp::kRed, Tlp::kClear);
}

}  // namespace
}  // namespace hikeshi::core
