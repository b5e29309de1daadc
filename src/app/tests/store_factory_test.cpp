// Which store the `hikeshi` command opens: --store, then HIKESHI_STORE, then the SQLite file in the
// data directory; and that a store URL is never shown with its password.

#include "store_factory.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hikeshi::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StoreFactoryTest, WithNeitherOptionNorEnvironmentTheSqliteFileInTheDataDirectory) {
  const auto location = ResolveStore("", "", "/srv/hikeshi");
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->kind, StoreLocation::Kind::kSqlite);
  EXPECT_EQ(location->sqlite_file, "/srv/hikeshi/hikeshi.db");
  EXPECT_EQ(location->Describe(), "/srv/hikeshi/hikeshi.db");
}

TEST(StoreFactoryTest, TheEnvironmentChoosesPostgresWhenNoOptionIsGiven) {
  const auto location = ResolveStore("", "postgres://h:pw@db.example/hikeshi", "/srv/hikeshi");
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->kind, StoreLocation::Kind::kPostgres);
  EXPECT_EQ(location->conninfo, "postgres://h:pw@db.example/hikeshi");
}

TEST(StoreFactoryTest, TheOptionWinsOverTheEnvironment) {
  const auto location =
      ResolveStore("postgresql://a:one@db1.example/x", "postgresql://b:two@db2.example/y", "/srv/hikeshi");
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->conninfo, "postgresql://a:one@db1.example/x");
}

TEST(StoreFactoryTest, DescribeNeverShowsThePassword) {
  const auto location = ResolveStore("postgresql://hikeshi:Sup3r-S3cret@db.example:5432/hikeshi", "", "/d");
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->Describe(), "postgresql://hikeshi:***@db.example:5432/hikeshi");
}

TEST(StoreFactoryTest, AnythingButAPostgresUrlIsRefusedWithoutShowingIt) {
  const auto refused = ResolveStore("mysql://root:Sup3r-S3cret@db/x", "", "/d");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message(), HasSubstr("postgres://"));
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("Sup3r-S3cret")));
  const auto from_env = ResolveStore("", "host=db password=Sup3r-S3cret", "/d");
  ASSERT_FALSE(from_env.has_value());
  EXPECT_THAT(from_env.error().message(), HasSubstr("HIKESHI_STORE"));
  EXPECT_THAT(from_env.error().message(), Not(HasSubstr("Sup3r-S3cret")));
}

}  // namespace
}  // namespace hikeshi::app
