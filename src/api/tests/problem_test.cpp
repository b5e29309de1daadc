#include "hikeshi/api/problem.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hikeshi::api {
namespace {

TEST(ProblemTest, EachErrorCodeHasOneHttpStatus) {
  const std::vector<std::pair<Error, int>> expected = {
      {Error::InvalidArgument("x"), 400},   {Error::Unauthenticated("x"), 401},
      {Error::PermissionDenied("x"), 403},  {Error::NotFound("x"), 404},
      {Error::MethodNotAllowed("x"), 405},  {Error::DeadlineExceeded("x"), 408},
      {Error::Conflict("x"), 409},          {Error::FailedPrecondition("x"), 409},
      {Error::TooLarge("x", "/body"), 413}, {Error::TooLarge("x", "/headers"), 431},
      {Error::ResourceExhausted("x"), 429}, {Error::Unavailable("x"), 503},
      {Error::Internal("x"), 500},          {Error::DataLoss("x"), 500},
  };
  for (const auto& [error, status] : expected) {
    EXPECT_EQ(HttpStatusOf(error), status) << ErrorCodeName(error.code());
  }
}

TEST(ProblemTest, BodyIsProblemJsonNamingTheField) {
  const auto response = ProblemResponse(Error::InvalidArgument("must be an integer", "/impact"));
  EXPECT_EQ(response.status, 400);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], 400);
  EXPECT_EQ(body["detail"], "must be an integer");
  EXPECT_EQ(body["field"], "/impact");
  bool content_type = false;
  for (const auto& [name, value] : response.headers) {
    content_type |= name == "Content-Type" && value == "application/problem+json";
  }
  EXPECT_TRUE(content_type);
}

TEST(ProblemTest, InternalErrorsDoNotLeakTheirDetail) {
  const auto response = ProblemResponse(Error::Internal("sqlite3: disk I/O error at /secret/path"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("/secret/path"), std::string::npos);
}

}  // namespace
}  // namespace hikeshi::api
