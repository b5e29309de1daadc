// The HTML-to-text renderer on its own: what is dropped, what becomes a line break, entities, links,
// and linear time on hostile markup.
#include "detail/html_text.hpp"

#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hikeshi::intake::mail::detail {
namespace {

TEST(HtmlToText, BlocksBecomeLinesAndInlineTextFlows) {
  EXPECT_EQ(HtmlToText("<p>one <b>two</b>\n  three</p><p>four</p>"), "one two three\n\nfour\n");
  EXPECT_EQ(HtmlToText("a<br>b<br/>c"), "a\nb\nc\n");
  EXPECT_EQ(HtmlToText("<ul><li>x</li><li>y</li></ul>after"), "x\ny\n\nafter\n");
  EXPECT_EQ(HtmlToText("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"), "a b\nc\n");
}

TEST(HtmlToText, ScriptStyleHeadAndCommentsAreDropped) {
  EXPECT_EQ(HtmlToText("<html><head><title>T</title><style>p{}</style></head><body>text</body></html>"), "text\n");
  EXPECT_EQ(HtmlToText("a<script>if (a < b) { x = '</p>'; }</script>b"), "ab\n");
  EXPECT_EQ(HtmlToText("a<SCRIPT type=x>hidden</SCRIPT >b"), "ab\n");
  EXPECT_EQ(HtmlToText("a<!-- <p>hidden</p> -->b"), "ab\n");
  EXPECT_EQ(HtmlToText("<header>kept</header>"), "kept\n");  // </header> does not close <head>
  EXPECT_EQ(HtmlToText("<head><p>unclosed head keeps the body</p>"), "unclosed head keeps the body\n");
}

TEST(HtmlToText, Entities) {
  EXPECT_EQ(HtmlToText("&lt;tag&gt; &amp; &quot;q&quot; &#39;s&#39;"), "<tag> & \"q\" 's'\n");
  EXPECT_EQ(HtmlToText("&#x65E5;&#26412; caf&eacute; 5&euro;"), "日本 café 5€\n");
  EXPECT_EQ(HtmlToText("&#x1F600;"), "😀\n");
  EXPECT_EQ(HtmlToText("bad &#xD800; &#1114112; &nosuch; &amp"), "bad \xEF\xBF\xBD \xEF\xBF\xBD &nosuch; &\n");
}

TEST(HtmlToText, LinksKeepTheirTarget) {
  EXPECT_EQ(HtmlToText("<a href=\"http://evil.example/?a=1&amp;b=2\">Your bank</a>"),
            "Your bank <http://evil.example/?a=1&b=2>\n");
  EXPECT_EQ(HtmlToText("<a href='https://x.example/'>https://x.example/</a>"), "https://x.example/\n");
  EXPECT_EQ(HtmlToText("<a href=mailto:abuse@example.jp>abuse@example.jp</a>"), "abuse@example.jp\n");
  EXPECT_EQ(HtmlToText("<a title=\"a>b\" href=\"http://q.example/\">x</a>"), "x <http://q.example/>\n");
}

TEST(HtmlToText, PreformattedTextKeepsItsLines) { EXPECT_EQ(HtmlToText("<pre>a  b\n  c</pre>"), "a  b\n  c\n"); }

// A quadratic renderer would take minutes here; a linear one, well under a second.
TEST(HtmlToText, LinearOnHostileMarkup) {
  std::string hostile;
  for (int i = 0; i < 100000; ++i) hostile += "<head><title><script <a href='x &#x;<!--";
  const auto start = std::chrono::steady_clock::now();
  const std::string text = HtmlToText(hostile);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  std::string opens;
  for (int i = 0; i < 200000; ++i) opens += "<head>x";
  const auto second = std::chrono::steady_clock::now();
  EXPECT_THAT(HtmlToText(opens), ::testing::StartsWith("xxx"));
  EXPECT_LT(std::chrono::steady_clock::now() - second, std::chrono::seconds(20));
}

}  // namespace
}  // namespace hikeshi::intake::mail::detail
