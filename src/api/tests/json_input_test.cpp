#include "detail/json_input.hpp"

#include <gtest/gtest.h>

namespace hikeshi::api::detail {
namespace {

TEST(JsonInputTest, ReadsTypedFieldsAndRejectsUnknownOnes) {
  auto reader = JsonObjectReader::Parse(R"({"title":"x","impact":2,"exercise":true,"owner":null,"extra":1})");
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ(reader->RequiredString("title").value(), "x");
  EXPECT_EQ(reader->Integer("impact").value(), 2);
  EXPECT_EQ(reader->Bool("exercise").value(), true);
  const auto owner = reader->NullableString("owner").value();
  ASSERT_TRUE(owner.has_value());
  EXPECT_FALSE(owner->has_value());
  const auto unknown = reader->RejectUnknownFields();
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().field(), "/extra");
}

TEST(JsonInputTest, WrongTypesNameTheField) {
  auto reader = JsonObjectReader::Parse(R"({"impact":"high","tags":["a",3]})");
  ASSERT_TRUE(reader.has_value());
  const auto impact = reader->Integer("impact");
  ASSERT_FALSE(impact.has_value());
  EXPECT_EQ(impact.error().field(), "/impact");
  EXPECT_NE(impact.error().message().find("a string"), std::string::npos);
  const auto tags = reader->StringArray("tags");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().field(), "/tags/1");
}

TEST(JsonInputTest, MalformedAndHostileBodiesAreRefused) {
  for (const std::string body :
       {"", "{", "[]", "\"text\"", "{\"a\":}", "{\"a\":1}garbage", "\xff\xfe{}", "{\"a\":\"\xc3\x28\"}"}) {
    const auto r = JsonObjectReader::Parse(body);
    EXPECT_FALSE(r.has_value()) << body;
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    }
  }
  // Deep nesting is refused before parsing, so it cannot exhaust the stack.
  const std::string deep = "{\"a\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  const auto r = JsonObjectReader::Parse(deep);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("nested"), std::string::npos);
  // Brackets inside strings do not count as nesting.
  EXPECT_TRUE(JsonObjectReader::Parse("{\"a\":\"" + std::string(1000, '[') + "\"}").has_value());
}

TEST(JsonInputTest, ObservablesMustBeTypeValueObjects) {
  auto ok = JsonObjectReader::Parse(R"({"o":[{"type":"ipv4","value":"192.0.2.1"}]})");
  ASSERT_TRUE(ok.has_value());
  const auto observables = ok->Observables("o").value();
  ASSERT_TRUE(observables.has_value());
  ASSERT_EQ(observables->size(), 1u);
  EXPECT_EQ((*observables)[0].value, "192.0.2.1");
  auto bad = JsonObjectReader::Parse(R"({"o":[{"type":"ipv4","value":"x","note":"y"}]})");
  ASSERT_TRUE(bad.has_value());
  const auto r = bad->Observables("o");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().field(), "/o/0/note");
}

}  // namespace
}  // namespace hikeshi::api::detail
