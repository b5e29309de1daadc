// What only the PostgreSQL backend must do, because only it is shared by several processes: writers
// through separately opened stores (as two `hikeshi serve` nodes would be) still make one unbroken
// audit chain, migrations run once when two stores open a new database at the same time, and
// connection failures are kUnavailable with messages that never show the password.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/audit_verify.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

#include "contract_support.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::store_contract {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

core::Incident NewIncident(const std::string& title) {
  core::Incident incident;
  incident.title = title;
  incident.category = core::Category{"intrusions", "system-compromise"};
  incident.created_at = At(2026, 3, 14, 9, 30);
  incident.updated_at = incident.created_at;
  return incident;
}

TEST(PostgresConcurrencyTest, WritersThroughTwoStoresKeepOneValidAuditChain) {
  ASSERT_OK_AND_ASSIGN(auto database, testing::TestDatabase::Create());
  ASSERT_OK_AND_ASSIGN(auto first, store::postgres::OpenPostgresStore(database.Conninfo()));
  ASSERT_OK_AND_ASSIGN(auto second, store::postgres::OpenPostgresStore(database.Conninfo()));

  // Even writes create a constituency, which touches no row another writer touches first, so only
  // the store's own serialisation keeps two of them from reading the same last journal entry; odd
  // writes create an incident, which also draws a human id.
  constexpr int kThreadsPerStore = 3;
  constexpr int kEach = 15;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(2 * kThreadsPerStore);
  std::vector<std::string> failures(2 * kThreadsPerStore);
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    core::Store& store = t % 2 == 0 ? *first : *second;
    threads.emplace_back([&, t] {
      const core::AuditContext ctx{"writer" + std::to_string(t), At(2026, 3, 14, 10)};
      for (int i = 0; i < kEach; ++i) {
        if (i % 2 == 0) {
          core::Constituency constituency;
          constituency.name = "c-" + std::to_string(t) + "-" + std::to_string(i);
          constituency.created_at = ctx.at;
          const auto created =
              WriteValue(store, [&](core::WriteTx& tx) { return tx.CreateConstituency(ctx, constituency); });
          if (!created) failures[static_cast<std::size_t>(t)] = Describe(created.error());
          continue;
        }
        const auto created = WriteValue(store, [&](core::WriteTx& tx) {
          return tx.CreateIncident(ctx, NewIncident("from thread " + std::to_string(t)));
        });
        if (created) {
          ids[static_cast<std::size_t>(t)].push_back(created->human_id);
        } else {
          failures[static_cast<std::size_t>(t)] = Describe(created.error());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> all;
  for (std::size_t t = 0; t < ids.size(); ++t) {
    EXPECT_EQ(failures[t], "") << "thread " << t;
    all.insert(ids[t].begin(), ids[t].end());
  }
  constexpr std::size_t kTotal = 2 * kThreadsPerStore * kEach;
  constexpr std::size_t kIncidents = 2 * kThreadsPerStore * (kEach / 2);
  ASSERT_EQ(all.size(), kIncidents) << "every human id is distinct";
  EXPECT_EQ(*all.begin(), "I-2026-000001");
  EXPECT_EQ(*all.rbegin(), "I-2026-000042");

  // The chain checks out from either store, entry by entry and against every stored incident.
  for (core::Store* store : {first.get(), second.get()}) {
    ASSERT_OK_AND_ASSIGN(const auto verdict, core::VerifyAudit(*store));
    EXPECT_TRUE(verdict.ok()) << verdict.problem;
    EXPECT_EQ(verdict.entries_checked, static_cast<std::int64_t>(kTotal));
  }
}

TEST(PostgresConcurrencyTest, TwoStoresOpeningANewDatabaseTogetherMigrateItOnce) {
  ASSERT_OK_AND_ASSIGN(auto database, testing::TestDatabase::Create());
  std::vector<Result<std::unique_ptr<core::Store>>> opened;
  for (int i = 0; i < 4; ++i) opened.emplace_back(Fail(Error::Internal("not run")));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < opened.size(); ++i) {
    threads.emplace_back([&, i] { opened[i] = store::postgres::OpenPostgresStore(database.Conninfo()); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& store : opened) {
    ASSERT_TRUE(store.has_value()) << Describe(store.error());
  }
  // Each store sees the same, working schema.
  ASSERT_OK(WriteValue(**opened[0], [](core::WriteTx& tx) { return tx.CreateIncident({"a", {}}, NewIncident("x")); }));
  ASSERT_OK_AND_ASSIGN(const auto page, ReadValue(**opened[3], [](core::StoreReader& r) {
                         return r.ListIncidents(core::Scope::All(), {});
                       }));
  EXPECT_EQ(page.items.size(), 1U);
}

TEST(PostgresConcurrencyTest, ASchemaNewerThanThisProgramIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto database, testing::TestDatabase::Create());
  ASSERT_OK(store::postgres::OpenPostgresStore(database.Conninfo()));
  ASSERT_OK(
      testing::RunSql(database.Conninfo(), "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)"));
  const auto refused = store::postgres::OpenPostgresStore(database.Conninfo());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(refused.error().message(), HasSubstr("9999"));
}

TEST(PostgresConcurrencyTest, ARefusedConnectionIsUnavailableAndNeverShowsThePassword) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  const auto refused = store::postgres::OpenPostgresStore("postgresql://hikeshi:Sup3r-S3cret@127.0.0.1:1/hikeshi");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(refused.error().message(), HasSubstr("refused"));
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("Sup3r-S3cret")));
}

TEST(PostgresConcurrencyTest, AWrongPasswordIsUnavailableAndNeverShowsThePassword) {
  ASSERT_OK_AND_ASSIGN(const std::string admin, testing::TestServerConninfo());
  // postgresql://user:PASSWORD@host:port/db -> the same with a wrong password.
  const std::size_t colon = admin.find(':', std::string("postgresql://").size());
  const std::size_t at = admin.find('@');
  ASSERT_NE(colon, std::string::npos);
  ASSERT_NE(at, std::string::npos);
  const std::string wrong = admin.substr(0, colon + 1) + "Wr0ng-Passw0rd" + admin.substr(at);
  const auto refused = store::postgres::OpenPostgresStore(wrong);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message(), HasSubstr("password authentication failed"));
  EXPECT_THAT(refused.error().message(), Not(HasSubstr("Wr0ng-Passw0rd")));
}

TEST(PostgresConcurrencyTest, AMalformedConnectionStringIsInvalidArgument) {
  const auto bad = store::postgres::OpenPostgresStore("host=h password='s3cret");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace hikeshi::store_contract
