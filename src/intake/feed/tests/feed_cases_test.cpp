// Runs every case under tests/e2e/feeds/<format>/: <case>.<ext> is the input, <case>.expected.json
// the events and rejects written by hand from the format's specification, <case>.mapping.toml the
// mapping for ndjson and csv. Each case also runs with the input handed out in tiny random chunks,
// which must change nothing.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace hikeshi::intake::feed {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::RunParser;
using testing::SamplesDir;

std::vector<fs::path> CaseFiles() {
  std::vector<fs::path> cases;
  if (!fs::exists(SamplesDir())) return cases;
  for (const auto& entry : fs::recursive_directory_iterator(SamplesDir())) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".expected.json")) cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.parent_path().filename().string() + "_" + info.param.filename().string();
  name = name.substr(0, name.size() - std::string(".expected.json").size());
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::string ObservableText(const core::Observable& observable) {
  return std::string(core::ObservableTypeName(observable.type)) + " " + observable.value;
}

class FeedCase : public ::testing::TestWithParam<fs::path> {};

TEST_P(FeedCase, GivesTheExpectedEventsAndRejects) {
  const fs::path expected_path = GetParam();
  const nlohmann::json expected = nlohmann::json::parse(ReadFile(expected_path));
  const std::string stem = expected_path.filename().string().substr(
      0, expected_path.filename().string().size() - std::string(".expected.json").size());
  ASSERT_TRUE(expected.contains("proves")) << "each case says what it proves";

  fs::path input;
  for (const auto& entry : fs::directory_iterator(expected_path.parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(stem + ".") && !name.ends_with(".expected.json") && !name.ends_with(".mapping.toml")) {
      input = entry.path();
    }
  }
  ASSERT_FALSE(input.empty()) << "no input file for " << stem;

  const auto format = ParseFeedFormat(expected_path.parent_path().filename().string());
  ASSERT_TRUE(format.has_value());
  ParserOptions options;
  if (const fs::path mapping = expected_path.parent_path() / (stem + ".mapping.toml"); fs::exists(mapping)) {
    options.mapping_toml = ReadFile(mapping);
  }
  if (*format == FeedFormat::kShadowserver) {
    options.report_type = ShadowserverTypeFromFileName(input.filename().string()).value_or("");
  }
  if (expected.contains("max_record_bytes")) options.max_record_bytes = expected["max_record_bytes"].get<std::size_t>();

  const std::string data = ReadFile(input);
  const testing::ParseRun run = RunParser(*format, data, options);
  SCOPED_TRACE(testing::Summarize(run));

  if (expected.contains("error")) {
    ASSERT_FALSE(run.status.has_value());
    EXPECT_NE(run.status.error().message().find(expected["error"].get<std::string>()), std::string::npos)
        << run.status.error().message();
  } else {
    ASSERT_TRUE(run.status.has_value()) << run.status.error().message();
  }

  const nlohmann::json& events = expected.at("events");
  ASSERT_EQ(run.events.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    const nlohmann::json& want = events[i];
    const FeedEvent& got = run.events[i];
    EXPECT_EQ(got.record, want.at("record").get<std::int64_t>());
    EXPECT_EQ(got.event_id, want.value("event_id", ""));
    EXPECT_EQ(got.time ? common::FormatRfc3339(*got.time) : "", want.value("time", ""));
    EXPECT_EQ(got.category.ToString(), want.at("category").get<std::string>());
    EXPECT_EQ(got.report_type, want.value("report_type", ""));
    EXPECT_EQ(got.subject ? ObservableText(*got.subject) : "", want.value("subject", ""));
    EXPECT_EQ(got.subject_port ? static_cast<int>(*got.subject_port) : -1, want.value("port", -1));
    EXPECT_EQ(got.tlp ? std::string(core::TlpName(*got.tlp)) : "", want.value("tlp", ""));
    std::vector<std::string> observables;
    for (const auto& observable : got.observables) observables.push_back(ObservableText(observable));
    EXPECT_EQ(observables, want.value("observables", std::vector<std::string>{}));
    if (want.contains("description")) {
      EXPECT_EQ(got.description, want["description"].get<std::string>());
    }
    EXPECT_FALSE(got.raw.empty());
  }

  const nlohmann::json rejects = expected.value("rejects", nlohmann::json::array());
  ASSERT_EQ(run.rejects.size(), rejects.size());
  for (std::size_t i = 0; i < rejects.size(); ++i) {
    EXPECT_EQ(run.rejects[i].record, rejects[i].at("record").get<std::int64_t>()) << "reject " << i;
    const std::string reason = rejects[i].at("reason").get<std::string>();
    EXPECT_NE(run.rejects[i].reason.find(reason), std::string::npos)
        << "reject " << i << ": '" << run.rejects[i].reason << "' does not contain '" << reason << "'";
  }
  EXPECT_EQ(run.stats.events, static_cast<std::int64_t>(events.size()));
  EXPECT_EQ(run.stats.rejects, static_cast<std::int64_t>(rejects.size()));
  EXPECT_EQ(run.stats.skipped, expected.value("skipped", 0));

  for (std::uint32_t seed : {1u, 2u, 3u}) {
    EXPECT_EQ(testing::Summarize(RunParser(*format, data, options, seed)), testing::Summarize(run))
        << "chunk seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, FeedCase, ::testing::ValuesIn(CaseFiles()), CaseName);

TEST(FeedCases, EveryFormatHasASample) {
  std::vector<std::string> formats;
  for (const fs::path& path : CaseFiles()) formats.push_back(path.parent_path().filename().string());
  for (std::string_view format : {"ndjson", "csv", "shadowserver", "suricata-eve", "xarf", "iodef", "misp"}) {
    EXPECT_NE(std::find(formats.begin(), formats.end(), format), formats.end()) << format;
  }
}

}  // namespace
}  // namespace hikeshi::intake::feed
