// PostgreSQL only: the events InsertEvents sends with COPY are stored byte for byte (COPY's text
// format escapes; a mistake there would change data the contract suite cannot see, since no
// StoreReader method returns an event's raw record).

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/core/model.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

#include "contract_support.hpp"
#include "support/pg_server.hpp"

namespace hikeshi::store_contract {
namespace {

TEST(PostgresEventsTest, CopiedEventsAreStoredByteForByte) {
  ASSERT_OK_AND_ASSIGN(auto database, testing::TestDatabase::Create());
  ASSERT_OK_AND_ASSIGN(auto store, store::postgres::OpenPostgresStore(database.Conninfo()));
  static constexpr char kRaw[] = "a\tb\\N\\\\c\r\n\0\xff.";
  const std::string raw(kRaw, sizeof kRaw - 1);
  const std::string fingerprint = "f\t\\x\n";
  ASSERT_OK(store->Write([&](core::WriteTx& tx) -> Result<void> {
    core::FeedRun run;
    run.format = "csv";
    run.source = "x.csv";
    run.status = "running";
    run.started_at = At(2026, 3, 14);
    HIKESHI_TRY(run, tx.CreateFeedRun({"test", At(2026, 3, 14)}, run));
    const std::vector<core::StoredEvent> events = {
        {"000102030405060708090a0b0c0d0e0f", run.id, 1, fingerprint, At(2026, 3, 14, 9, 30, 7), raw}};
    HIKESHI_TRY(const auto stored, tx.InsertEvents(events));
    EXPECT_EQ(stored, 1);
    return {};
  }));
  // Written out by hand: a TAB b \ N \ \ c CR LF NUL 0xff .
  ASSERT_OK_AND_ASSIGN(const auto hex, testing::QueryValue(database.Conninfo(),
                                                           "SELECT encode(raw, 'hex') FROM events WHERE key = "
                                                           "'\\x000102030405060708090a0b0c0d0e0f'::bytea"));
  EXPECT_EQ(hex, "6109625c4e5c5c630d0a00ff2e");
  ASSERT_OK_AND_ASSIGN(const auto stored_fingerprint,
                       testing::QueryValue(database.Conninfo(),
                                           "SELECT encode(convert_to(fingerprint, 'UTF8'), "
                                           "'hex') || ' ' || time FROM events"));
  EXPECT_EQ(stored_fingerprint, "66095c780a 1773480600000007") << "f TAB \\ x LF, and the time in microseconds";
}

}  // namespace
}  // namespace hikeshi::store_contract
