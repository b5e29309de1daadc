#include <string>

#include <gtest/gtest.h>

#include "hikeshi/intake/feed/sources.hpp"

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

using testing::RunParser;

ParserOptions Mapping() {
  ParserOptions options;
  options.mapping_toml = "category_fixed = \"Scan\"\nsubject_ip = \"/ip\"\nevent_id = \"/id\"";
  return options;
}

TEST(Ndjson, EveryKindOfBadLineIsARejectWithItsLineNumber) {
  const auto run = RunParser(FeedFormat::kNdjson,
                             "{\"ip\":\"192.0.2.1\",\"id\":\"a\"}\n"
                             "not json at all\n"
                             "42\n"
                             "{\"ip\":\"192.0.2.2\",\"id\":\"b\"}\n"
                             "{\"ip\":[\"192.0.2.3\"]}\n"
                             "{\"ip\":\"192.0.2.4\",\"id\":tru}\n",
                             Mapping());
  ASSERT_TRUE(run.status.has_value());
  ASSERT_EQ(run.events.size(), 3u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].event_id, "a");
  EXPECT_EQ(run.events[1].event_id, "b");
  EXPECT_EQ(run.events[1].record, 4);
  // An array where a scalar is expected is no subject, not a crash.
  EXPECT_FALSE(run.events[2].subject.has_value());
  ASSERT_EQ(run.rejects.size(), 3u);
  EXPECT_EQ(run.rejects[0].record, 2);
  EXPECT_EQ(run.rejects[0].raw, "not json at all");
  EXPECT_EQ(run.rejects[1].reason, "line 3: not a JSON object");
  EXPECT_EQ(run.rejects[2].record, 6);
  EXPECT_NE(run.rejects[2].reason.find("not valid JSON"), std::string::npos);
}

class FailingSink : public testing::CollectingSink {
 public:
  Result<void> OnEvent(FeedEvent event) override {
    if (events.size() == 1) return Fail(Error::Unavailable("store is down"));
    return CollectingSink::OnEvent(std::move(event));
  }
};

TEST(Ndjson, ASinkErrorStopsTheParseAndIsReturned) {
  auto parser = MakeParser(FeedFormat::kNdjson, Mapping());
  ASSERT_TRUE(parser.has_value());
  StringSource source("{\"ip\":\"192.0.2.1\"}\n{\"ip\":\"192.0.2.2\"}\n{\"ip\":\"192.0.2.3\"}\n");
  FailingSink sink;
  auto result = (*parser)->Parse(source, sink);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(Ndjson, NestedPointersAndEscapedKeys) {
  ParserOptions options;
  options.mapping_toml = R"(
    category_fixed = "Scan"
    subject_ip = "/source/ip"
    subject_port = "/source/port"
    description = "/a~1b"
    [[observable]]
    field = "/dns/0/name"
    type = "domain"
  )";
  const auto run = RunParser(
      FeedFormat::kNdjson,
      R"({"source":{"ip":"2001:db8::1","port":8080},"a/b":"slash key","dns":[{"name":"x.example.com"},{"name":"y.example.com"}]})",
      options);
  ASSERT_EQ(run.events.size(), 1u) << testing::Summarize(run);
  EXPECT_EQ(run.events[0].subject->value, "2001:db8::1");
  EXPECT_EQ(*run.events[0].subject_port, 8080);
  EXPECT_EQ(run.events[0].description, "slash key");
  ASSERT_EQ(run.events[0].observables.size(), 1u);
  EXPECT_EQ(run.events[0].observables[0].value, "x.example.com");
}

}  // namespace
}  // namespace hikeshi::intake::feed
