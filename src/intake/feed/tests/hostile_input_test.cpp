// Input no one should send, sent to every format: garbage, truncation, huge lines, unbalanced
// quotes. Nothing may crash (ASan and UBSan watch), line formats must account for every line, and
// document formats must fail as a whole with kInvalidArgument or kTooLarge.
#include <algorithm>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

using testing::RunParser;

ParserOptions OptionsFor(FeedFormat format) {
  ParserOptions options;
  if (format == FeedFormat::kNdjson) {
    options.mapping_toml = "category = \"/c\"\ncategory_default = \"other/undetermined\"\nsubject_ip = \"/ip\"";
  } else if (format == FeedFormat::kCsv) {
    options.mapping_toml = "category = \"c\"\ncategory_default = \"other/undetermined\"\nsubject_ip = \"ip\"";
  }
  return options;
}

// A valid record of the format, one line long.
std::string GoodLine(FeedFormat format) {
  switch (format) {
    case FeedFormat::kNdjson:
      return R"({"c":"Scan","ip":"192.0.2.1"})";
    case FeedFormat::kCsv:
    case FeedFormat::kShadowserver:
      return "192.0.2.1,Scan";
    case FeedFormat::kSuricataEve:
      return R"({"timestamp":"2026-11-27T00:00:00+0000","event_type":"alert","src_ip":"192.0.2.1","alert":{"signature":"x"}})";
    case FeedFormat::kXarf:
      return R"({"xarf_version":"4.2.0","report_id":"r","timestamp":"2026-11-27T00:00:00Z","source_identifier":"192.0.2.1","category":"messaging","type":"spam"})";
    default:
      return "";
  }
}

std::string HeaderFor(FeedFormat format) {
  return format == FeedFormat::kCsv || format == FeedFormat::kShadowserver ? "ip,c\n" : "";
}

constexpr FeedFormat kLineFormats[] = {FeedFormat::kNdjson, FeedFormat::kCsv, FeedFormat::kShadowserver,
                                       FeedFormat::kSuricataEve, FeedFormat::kXarf};
constexpr FeedFormat kDocumentFormats[] = {FeedFormat::kIodef, FeedFormat::kMisp};

std::string Garbage(std::size_t size, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

TEST(HostileInput, BinaryGarbageIsCountedLineByLine) {
  for (FeedFormat format : kLineFormats) {
    SCOPED_TRACE(std::string(FeedFormatName(format)));
    // A good line first: X-ARF tells JSON lines from a document by the first line.
    std::string input = HeaderFor(format) + GoodLine(format) + "\n";
    std::int64_t lines = 1;
    for (std::uint32_t seed = 1; seed <= 40; ++seed) {
      std::string garbage = Garbage(50 + seed * 13, seed);
      for (char& c : garbage) {
        if (c == '\n' || c == '"') c = 'x';  // one garbage line each; quotes are tested on their own
      }
      input += garbage + "\n" + GoodLine(format) + "\n";
      lines += 2;
    }
    const auto run = RunParser(format, input, OptionsFor(format));
    ASSERT_TRUE(run.status.has_value()) << run.status.error().message();
    EXPECT_EQ(run.stats.events + run.stats.rejects + run.stats.skipped, lines) << testing::Summarize(run);
    EXPECT_GE(run.stats.events, 41);
    for (const auto& event : run.events) EXPECT_EQ(event.subject->value, "192.0.2.1");
  }
}

TEST(HostileInput, BinaryGarbageDocumentsFailAsAWhole) {
  for (FeedFormat format : kDocumentFormats) {
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
      const auto run = RunParser(format, Garbage(1000, seed), OptionsFor(format));
      ASSERT_FALSE(run.status.has_value()) << FeedFormatName(format);
      EXPECT_EQ(run.status.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(HostileInput, TruncatedRecordsAreRejects) {
  for (FeedFormat format : {FeedFormat::kNdjson, FeedFormat::kSuricataEve, FeedFormat::kXarf}) {
    SCOPED_TRACE(std::string(FeedFormatName(format)));
    const std::string good = GoodLine(format);
    std::string input = good + "\n";
    for (std::size_t cut = 1; cut < good.size(); cut += 3) input += good.substr(0, cut) + "\n";
    const auto run = RunParser(format, input, OptionsFor(format));
    ASSERT_TRUE(run.status.has_value());
    EXPECT_EQ(run.events.size(), 1u) << testing::Summarize(run);
    EXPECT_EQ(run.stats.rejects, static_cast<std::int64_t>((good.size() - 2) / 3 + 1));
  }
}

TEST(HostileInput, AFiveMegabyteLineIsRejectedWithoutStoppingTheFeed) {
  const std::string huge(5 << 20, 'A');
  for (FeedFormat format : kLineFormats) {
    SCOPED_TRACE(std::string(FeedFormatName(format)));
    const std::string input = HeaderFor(format) + GoodLine(format) + "\n" + huge + "\n" + GoodLine(format) + "\n";
    const auto run = RunParser(format, input, OptionsFor(format));
    ASSERT_TRUE(run.status.has_value());
    EXPECT_EQ(run.events.size(), 2u);
    ASSERT_EQ(run.rejects.size(), 1u);
    EXPECT_NE(run.rejects[0].reason.find("over max_record_bytes"), std::string::npos) << run.rejects[0].reason;
    EXPECT_EQ(run.rejects[0].raw.size(), kMaxRejectRawBytes);
  }
}

TEST(HostileInput, ManyUnbalancedQuotesCostOneLineEach) {
  for (FeedFormat format : {FeedFormat::kCsv, FeedFormat::kShadowserver}) {
    SCOPED_TRACE(std::string(FeedFormatName(format)));
    std::string input = HeaderFor(format);
    for (int i = 0; i < 500; ++i) input += (i % 5 == 0 ? "\"192.0.2.1,Scan\n" : GoodLine(format) + "\n");
    const auto run = RunParser(format, input, OptionsFor(format));
    ASSERT_TRUE(run.status.has_value());
    EXPECT_EQ(run.events.size(), 400u);
    EXPECT_EQ(run.rejects.size(), 100u);
  }
}

// Well-formed UTF-8 without control characters.
bool IsCleanUtf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80             ? 1
                         : (lead & 0xe0) == 0xc0 ? 2
                         : (lead & 0xf0) == 0xe0 ? 3
                         : (lead & 0xf8) == 0xf0 ? 4
                                                 : 0;
    if (length == 0 || i + length > text.size() || lead < 0x20 || lead == 0x7f || (length == 2 && lead < 0xc2))
      return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

TEST(HostileInput, InvalidUtf8NeverReachesAnEventField) {
  ParserOptions options = OptionsFor(FeedFormat::kCsv);
  options.mapping_toml += "\ndescription = \"d\"\nreport_type = \"r\"\nevent_id = \"e\"";
  std::string input = "ip,c,d,r,e\n";
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    std::string text = Garbage(40, seed);
    for (char& c : text) {
      if (c == '\n' || c == '\r' || c == '"' || c == ',') c = '?';
    }
    input += "192.0.2.1,Scan," + text + "," + text + "," + text + "\n";
  }
  const auto run = RunParser(FeedFormat::kCsv, input, options);
  ASSERT_EQ(run.events.size(), 50u);
  for (const auto& event : run.events) {
    EXPECT_TRUE(IsCleanUtf8(event.description));
    EXPECT_TRUE(IsCleanUtf8(event.report_type));
    EXPECT_TRUE(IsCleanUtf8(event.event_id));
  }
}

TEST(HostileInput, DocumentsOverTheSizeLimitAreRefused) {
  ParserOptions options;
  options.max_document_bytes = 4096;
  const std::string padding(8192, ' ');
  const auto xarf = RunParser(FeedFormat::kXarf, "[\n" + padding + "]\n", options);
  ASSERT_FALSE(xarf.status.has_value());
  EXPECT_EQ(xarf.status.error().code(), ErrorCode::kTooLarge);
  const auto misp = RunParser(FeedFormat::kMisp, "{\"Event\":{}}" + padding, options);
  ASSERT_FALSE(misp.status.has_value());
  EXPECT_EQ(misp.status.error().code(), ErrorCode::kTooLarge);
}

TEST(HostileInput, EmptyInputs) {
  for (FeedFormat format : kLineFormats) {
    const auto run = RunParser(format, "", OptionsFor(format));
    EXPECT_TRUE(run.status.has_value()) << FeedFormatName(format);
    EXPECT_TRUE(run.events.empty());
  }
}

}  // namespace
}  // namespace hikeshi::intake::feed
