// The extractor's contract beyond the table: creation errors, where each observable is reported
// (offset and raw bytes, through refanging and full-width folding), deduplication and order, the
// result cap, the input limit, the include_hosts option, and concurrent use.

#include "hikeshi/extract/extractor.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace hikeshi::extract {
namespace {

using core::ObservableType;

std::unique_ptr<Extractor> Make(ExtractorOptions options = {}) {
  auto created = Extractor::Create(std::move(options));
  EXPECT_TRUE(created) << created.error().message();
  return created ? std::move(*created) : nullptr;
}

std::vector<std::string> Values(const std::vector<Extracted>& found) {
  std::vector<std::string> out;
  for (const Extracted& x : found) {
    out.push_back(std::string(core::ObservableTypeName(x.observable.type)) + " " + x.observable.value);
  }
  return out;
}

TEST(ExtractorCreate, RefusesAZeroResultCap) {
  ExtractorOptions options;
  options.max_results = 0;
  auto created = Extractor::Create(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(created.error().field(), "/max_results");
}

TEST(ExtractorCreate, RefusesAnInputLimitHyperscanCannotTake) {
  ExtractorOptions options;
  options.max_input_bytes = std::size_t{1} << 33;
  auto created = Extractor::Create(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().field(), "/max_input_bytes");
}

TEST(ExtractorCreate, ReportsAMissingPublicSuffixList) {
  ExtractorOptions options;
  options.public_suffix_list = "/nonexistent/public_suffix_list.dat";
  auto created = Extractor::Create(options);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(created.error().message().find("/nonexistent/public_suffix_list.dat"), std::string::npos);
}

TEST(ExtractorCreate, ReadsAnExplicitPublicSuffixListFile) {
  ExtractorOptions options;
  options.public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
  auto extractor = Make(options);
  ASSERT_NE(extractor, nullptr);
  auto found = extractor->Extract("www.example.co.jp and report.pdf");
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found), std::vector<std::string>{"domain www.example.co.jp"});
}

TEST(Extract, ReportsTheOffsetAndTheBytesAsWrittenWhenDefanged) {
  auto extractor = Make();
  const std::string text = "see hxxps://evil[.]example[.]com/a now";
  auto found = extractor->Extract(text);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].observable, (core::Observable{ObservableType::kUrl, "https://evil.example.com/a"}));
  EXPECT_EQ((*found)[0].offset, 4u);
  EXPECT_EQ((*found)[0].raw, "hxxps://evil[.]example[.]com/a");
}

TEST(Extract, ReportsFullWidthTextAsWritten) {
  auto extractor = Make();
  const std::string text = "IPは１９２．０．２．１です";
  auto found = extractor->Extract(text);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].observable.value, "192.0.2.1");
  EXPECT_EQ((*found)[0].offset, 5u);  // "IP" + "は" (3 bytes)
  EXPECT_EQ((*found)[0].raw, "１９２．０．２．１");
}

TEST(Extract, OffsetsStayRightAfterBothFoldingAndRefanging) {
  auto extractor = Make();
  // A defanged form early and full-width text early shift every later byte in the scanned copy.
  const std::string text = "ｘ[.]ｙ and 192.0.2.1 then ａｂｕｓｅ[at]example[.]com";
  auto found = extractor->Extract(text);
  ASSERT_TRUE(found);
  ASSERT_EQ(Values(*found), (std::vector<std::string>{"ipv4 192.0.2.1", "email abuse@example.com"}));
  EXPECT_EQ((*found)[0].offset, text.find("192.0.2.1"));
  EXPECT_EQ((*found)[0].raw, "192.0.2.1");
  EXPECT_EQ((*found)[1].offset, text.find("ａｂｕｓｅ"));
  EXPECT_EQ((*found)[1].raw, "ａｂｕｓｅ[at]example[.]com");
}

TEST(Extract, TurnsFullWidthFoldingOff) {
  ExtractorOptions options;
  options.fold_full_width = false;
  auto extractor = Make(options);
  auto found = extractor->Extract("１９２．０．２．１ and 192.0.2.2");
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found), std::vector<std::string>{"ipv4 192.0.2.2"});
}

TEST(Extract, ReturnsEachValueOnceAtItsFirstOccurrence) {
  auto extractor = Make();
  const std::string text = "b.example.com, A.example.com, B.EXAMPLE.COM, 192.0.2.1, a.example.com";
  auto found = extractor->Extract(text);
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found),
            (std::vector<std::string>{"domain b.example.com", "domain a.example.com", "ipv4 192.0.2.1"}));
  EXPECT_EQ((*found)[0].offset, 0u);
  EXPECT_EQ((*found)[1].raw, "A.example.com");
}

TEST(Extract, KeepsTheSameValueOfDifferentTypesApart) {
  auto extractor = Make();
  // The URL holds the domain; the bare domain later is an observable of its own.
  auto found = extractor->Extract("https://example.com/login then example.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found), (std::vector<std::string>{"url https://example.com/login", "domain example.com"}));
  EXPECT_EQ((*found)[1].offset, 31u);
}

TEST(Extract, StopsAtTheResultCapAndSaysSo) {
  ExtractorOptions options;
  options.max_results = 3;
  auto extractor = Make(options);
  ExtractInfo info;
  auto found = extractor->Extract("192.0.2.1 192.0.2.2 192.0.2.1 192.0.2.3 192.0.2.4 192.0.2.5", &info);
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found), (std::vector<std::string>{"ipv4 192.0.2.1", "ipv4 192.0.2.2", "ipv4 192.0.2.3"}));
  EXPECT_TRUE(info.truncated);

  // Exactly at the cap is not truncated: duplicates do not count.
  found = extractor->Extract("192.0.2.1 192.0.2.2 192.0.2.1 192.0.2.3", &info);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), 3u);
  EXPECT_FALSE(info.truncated);
}

TEST(Extract, RefusesTextOverTheInputLimit) {
  ExtractorOptions options;
  options.max_input_bytes = 16;
  auto extractor = Make(options);
  auto found = extractor->Extract("192.0.2.1 and 192.0.2.2");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), ErrorCode::kTooLarge);
  auto at_limit = extractor->Extract("192.0.2.1 and 19");  // 16 bytes
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(Values(*at_limit), std::vector<std::string>{"ipv4 192.0.2.1"});
}

TEST(Extract, ReturnsHostsOfUrlsAndAddressesWhenAsked) {
  ExtractorOptions options;
  options.include_hosts = true;
  auto extractor = Make(options);
  auto found = extractor->Extract(
      "hxxps://Evil.Example.com/x, abuse@example.org, http://192.0.2.1/a, http://[2001:db8::1]/b, "
      "http://intranet.local/c");
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found), (std::vector<std::string>{
                                "url https://evil.example.com/x", "domain evil.example.com", "email abuse@example.org",
                                "domain example.org", "url http://192.0.2.1/a", "ipv4 192.0.2.1",
                                "url http://[2001:db8::1]/b", "ipv6 2001:db8::1",
                                "url http://intranet.local/c",  // its host is on no public suffix: no domain
                            }));
  EXPECT_EQ((*found)[1].raw, "Evil.Example.com");
}

TEST(Extract, LeavesHostsInsideUrlsAndAddressesAloneByDefault) {
  auto extractor = Make();
  auto found = extractor->Extract("hxxps://evil.example.com/x abuse@example.org http://192.0.2.1/a");
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found), (std::vector<std::string>{"url https://evil.example.com/x", "email abuse@example.org",
                                                      "url http://192.0.2.1/a"}));
}

TEST(Extract, ReadsThroughBrokenUtf8AndNuls) {
  auto extractor = Make();
  constexpr char kBytes[] =
      "\xff\xfe"
      "192.0.2.1\0example.com\x80\xc3(abuse@example.org)\xe3\x81";
  const std::string text(kBytes, sizeof(kBytes) - 1);
  auto found = extractor->Extract(text);
  ASSERT_TRUE(found);
  EXPECT_EQ(Values(*found),
            (std::vector<std::string>{"ipv4 192.0.2.1", "domain example.com", "email abuse@example.org"}));
  for (const Extracted& x : *found) EXPECT_EQ(text.substr(x.offset, x.raw.size()), x.raw);
}

TEST(Extract, ReturnsNothingForEmptyText) {
  auto extractor = Make();
  ExtractInfo info;
  info.candidates = 99;
  auto found = extractor->Extract("", &info);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  EXPECT_EQ(info.candidates, 0u);
}

TEST(Extract, GivesTheSameAnswerOnManyThreadsAtOnce) {
  auto extractor = Make();
  const std::string text =
      "本日、203.0.113.50 から example.co.jp へのスキャンを検知。hxxp://198.51.100.9/login, CVE-2021-44228, "
      "abuse[at]example[dot]com, ＡＳ６４５００, 2001:db8::1, d41d8cd98f00b204e9800998ecf8427e";
  auto expected = extractor->Extract(text);
  ASSERT_TRUE(expected);
  ASSERT_EQ(expected->size(), 8u);
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto found = extractor->Extract(text);
        if (!found || *found != *expected) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[static_cast<std::size_t>(t)], 0) << "thread " << t;
}

// Each TLD that is also a common file extension: a bare "name.ext" is a file, the same TLD under a
// subdomain is a domain. The second half proves the list holds only real TLDs.
TEST(Extract, ReadsTldsThatAreFileExtensionsAsFileNamesWhenBare) {
  auto extractor = Make();
  for (const char* ext :
       {"cab", "cc", "java", "md", "mov", "one", "pl", "pm", "ps", "pub", "py", "rs", "sh", "so", "zip"}) {
    const std::string bare = std::string("notes.") + ext;
    const std::string sub = std::string("www.example.") + ext;
    auto found = extractor->Extract(bare + " " + sub);
    ASSERT_TRUE(found);
    EXPECT_EQ(Values(*found), std::vector<std::string>{"domain " + sub}) << ext;
  }
  // Names on TLDs that are not file extensions are domains even with two labels.
  auto found = extractor->Extract("example.app example.ai example.com");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), 3u);
}

}  // namespace
}  // namespace hikeshi::extract
