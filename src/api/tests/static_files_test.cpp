#include "detail/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace hikeshi::api::detail {
namespace {

namespace fs = std::filesystem;

std::string HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return {};
}

void Write(const fs::path& file, std::string_view text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

// A web root with an index page and a hashed asset, beside a secret that must stay unreachable.
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    base_ = fs::temp_directory_path() / ("hikeshi-static-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    Write(base_ / "secret.txt", "TOP SECRET");
    Write(base_ / "dist" / "index.html", "<!doctype html><title>Hikeshi</title>");
    Write(base_ / "dist" / "assets" / "index-Abc123.js", "console.log(1)");
    Write(base_ / "dist" / "assets" / "index-Abc123.css", "body{}");
    Write(base_ / "dist" / "favicon.svg", "<svg/>");
    fs::create_symlink(base_ / "secret.txt", base_ / "dist" / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }

  HttpResponse Get(std::string path) const {
    HttpRequest request;
    request.method = "GET";
    request.target = path;
    request.path = std::move(path);
    return StaticFiles(base_ / "dist").Serve(request);
  }

  fs::path base_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirContentType) {
  const auto js = Get("/assets/index-Abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(HeaderOf(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get("/assets/index-Abc123.css"), "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get("/favicon.svg"), "Content-Type"), "image/svg+xml");
  const auto index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>Hikeshi</title>");
  EXPECT_EQ(HeaderOf(index, "Content-Type"), "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, HashedAssetsAreCachedForAYearAndPagesRevalidated) {
  EXPECT_EQ(HeaderOf(Get("/assets/index-Abc123.js"), "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(Get("/"), "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(Get("/incidents"), "Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, AppRoutesFallBackToTheIndexPageButMissingFilesAre404) {
  const auto route = Get("/incidents/I-2026-000001");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, "<!doctype html><title>Hikeshi</title>");
  EXPECT_EQ(Get("/assets/missing-123.js").status, 404);
  EXPECT_EQ(Get("/robots.txt").status, 404);
}

TEST_F(StaticFilesTest, NothingOutsideTheRootIsReachable) {
  for (const std::string& path :
       std::vector<std::string>{"/../secret.txt", "/assets/../../secret.txt", "/./index.html", "/..",
                                "/assets/..\\..\\secret.txt", "/link.txt", std::string("/a\0b", 4)}) {
    const auto response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find("TOP SECRET"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, EveryAnswerCarriesTheStrictPolicy) {
  for (const std::string path : {"/", "/assets/index-Abc123.js", "/incidents", "/missing.png", "/../secret.txt"}) {
    const auto response = Get(path);
    const std::string csp = HeaderOf(response, "Content-Security-Policy");
    EXPECT_FALSE(csp.empty()) << path;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << path;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << path;
    EXPECT_EQ(HeaderOf(response, "X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(HeaderOf(response, "Referrer-Policy"), "no-referrer") << path;
  }
  EXPECT_EQ(HeaderOf(Get("/"), "Content-Security-Policy"),
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

TEST_F(StaticFilesTest, AnUnbuiltUiAnswers503WithInstructions) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/";
  const auto response = StaticFiles(base_ / "nowhere").Serve(request);
  EXPECT_EQ(response.status, 503);
  EXPECT_NE(response.body.find("npm run build"), std::string::npos);
}

TEST_F(StaticFilesTest, TeamProfileIsReadFromTomlAndBadFilesNameTheProblem) {
  Write(base_ / "team.toml",
        "name = \"Example CSIRT\"\nmission = \"守る\"\nservices = [\"incident handling\"]\n"
        "[[contacts]]\nkind = \"email\"\nvalue = \"csirt@example.jp\"\n");
  const auto json = LoadTeamProfileJson(base_ / "team.toml");
  ASSERT_TRUE(json.has_value()) << json.error().message();
  const auto parsed = nlohmann::json::parse(*json);
  EXPECT_EQ(parsed["name"], "Example CSIRT");
  EXPECT_EQ(parsed["mission"], "守る");
  EXPECT_EQ(parsed["contacts"][0]["value"], "csirt@example.jp");

  EXPECT_EQ(LoadTeamProfileJson(base_ / "absent.toml").error().code(), ErrorCode::kNotFound);
  Write(base_ / "broken.toml", "name = \"x\"\nmission = \n");
  const auto broken = LoadTeamProfileJson(base_ / "broken.toml");
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(broken.error().message().find("line 2"), std::string::npos) << broken.error().message();
  Write(base_ / "noname.toml", "mission = \"x\"\n");
  EXPECT_EQ(LoadTeamProfileJson(base_ / "noname.toml").error().field(), "/name");
}

}  // namespace
}  // namespace hikeshi::api::detail
