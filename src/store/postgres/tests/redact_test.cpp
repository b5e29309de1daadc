// RedactConninfo: a connection string can be shown or logged without its password, in both of
// libpq's forms, and text of neither form shows nothing that could be a password.

#include <gtest/gtest.h>

#include "hikeshi/store/postgres/postgres_store.hpp"

namespace hikeshi::store::postgres {
namespace {

TEST(RedactConninfoTest, HidesTheUrlPasswordAndKeepsEverythingElse) {
  EXPECT_EQ(RedactConninfo("postgresql://hikeshi:s3cret@db.example:5432/hikeshi"),
            "postgresql://hikeshi:***@db.example:5432/hikeshi");
  EXPECT_EQ(RedactConninfo("postgres://hikeshi:p%40ss@10.0.0.5/hikeshi?sslmode=require"),
            "postgres://hikeshi:***@10.0.0.5/hikeshi?sslmode=require");
  // An @ inside the password: the last @ ends the user info.
  EXPECT_EQ(RedactConninfo("postgresql://u:a@b@host/db"), "postgresql://u:***@host/db");
}

TEST(RedactConninfoTest, HidesAPasswordGivenAsAUrlParameter) {
  EXPECT_EQ(RedactConninfo("postgresql://host/db?user=u&password=s3cret&sslmode=verify-full"),
            "postgresql://host/db?user=u&password=***&sslmode=verify-full");
  EXPECT_EQ(RedactConninfo("postgresql:///db?password=s3cret"), "postgresql:///db?password=***");
}

TEST(RedactConninfoTest, LeavesAUrlWithoutPasswordAlone) {
  EXPECT_EQ(RedactConninfo("postgresql://hikeshi@localhost/hikeshi"), "postgresql://hikeshi@localhost/hikeshi");
  EXPECT_EQ(RedactConninfo("postgresql:///hikeshi?host=/run/postgresql"), "postgresql:///hikeshi?host=/run/postgresql");
}

TEST(RedactConninfoTest, HidesTheKeywordValuePasswordQuotedOrNot) {
  EXPECT_EQ(RedactConninfo("host=db.example dbname=hikeshi user=u password=s3cret"),
            "host=db.example dbname=hikeshi user=u password=***");
  EXPECT_EQ(RedactConninfo("password = 'it\\'s a secret' host=h"), "password = *** host=h");
  EXPECT_EQ(RedactConninfo("password='two words' dbname=x"), "password=*** dbname=x");
}

TEST(RedactConninfoTest, ShowsNothingOfTextItCannotRead) {
  EXPECT_EQ(RedactConninfo("host=h password='unterminated s3cret"), "(unparsable connection string)");
  EXPECT_EQ(RedactConninfo("just some s3cret words"), "(unparsable connection string)");
}

}  // namespace
}  // namespace hikeshi::store::postgres
