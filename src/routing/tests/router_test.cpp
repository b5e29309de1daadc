// Router: publishing a new table is atomic. Readers see one whole table at a time, never an older
// table after a newer one, and never wait for a table to be built. Run under ASan (the debug
// preset) and, for the data-race half of the claim, under TSan (the command is in
// docs/architecture.md, section 7).

#include "hikeshi/routing/router.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace hikeshi::routing {
namespace {

using core::Constituency;
using core::Observable;
using core::ObservableType;

// Generation `id`'s table: every kind of rule points at constituency `id`, and the rules' lengths
// depend on `id` too, so an answer (id, length) shows which table it came from, and an answer that
// mixed two tables would show a length that does not belong to its id.
int ExpectedLength(const Match& match) {
  const auto g = static_cast<int>(match.constituency_id);
  switch (match.kind) {
    case MatchKind::kIpv4Prefix:
      return 8 + g % 25;
    case MatchKind::kIpv6Prefix:
      return 16 + g % 100;
    case MatchKind::kDomain:
      return 2 + g % 4;
    case MatchKind::kAsn:
      return 0;
  }
  return -1;
}

std::vector<Constituency> Everything(std::int64_t id) {
  const auto g = static_cast<int>(id);
  Constituency c;
  c.id = id;
  c.name = "generation-" + std::to_string(id);
  // Host bits are cleared at build, so 192.0.2.1/L holds the probe 192.0.2.1 for every L.
  c.cidrs = {"192.0.2.1/" + std::to_string(8 + g % 25), "2001:db8::/" + std::to_string(16 + g % 100)};
  c.asns = {64500};
  const std::vector<std::string> suffixes = {"example.org", "l3.example.org", "l4.l3.example.org",
                                             "l5.l4.l3.example.org"};
  c.domains = {suffixes[static_cast<std::size_t>(g % 4)]};
  return {c};
}

const std::vector<Observable>& Probes() {
  static const std::vector<Observable> probes = {{ObservableType::kIpv4, "192.0.2.1"},
                                                 {ObservableType::kIpv6, "2001:db8::1"},
                                                 {ObservableType::kAsn, "AS64500"},
                                                 {ObservableType::kDomain, "www.l5.l4.l3.example.org"}};
  return probes;
}

std::int64_t IdOf(const std::optional<Match>& match) { return match ? match->constituency_id : -1; }

TEST(Router, StartsEmptyAndRoutesToTheCoordinationQueue) {
  const Router router;
  EXPECT_EQ(router.Route(Probes()[0]).disposition, Disposition::kCoordinationQueue);
  EXPECT_EQ(router.Lookup(Probes()[0]), std::nullopt);
}

TEST(Router, PublishReplacesTheTableButNotASnapshotAlreadyTaken) {
  Router router;
  ASSERT_TRUE(router.Rebuild(Everything(1)));
  const auto before = router.Current();
  ASSERT_TRUE(router.Rebuild(Everything(2)));
  EXPECT_EQ(IdOf(router.Lookup(Probes()[0])), 2);
  EXPECT_EQ(router.Route(Probes()).constituency_id(), 2);
  // The snapshot taken before still answers from its own table, which is still alive.
  EXPECT_EQ(IdOf(before->Lookup(Probes()[0])), 1);
}

TEST(Router, AFailedRebuildKeepsTheTableInForce) {
  Router router;
  ASSERT_TRUE(router.Rebuild(Everything(1)));
  auto broken = Everything(2);
  broken[0].cidrs.push_back("192.0.2.0/99");
  const auto result = router.Rebuild(broken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(IdOf(router.Lookup(Probes()[0])), 1);
}

TEST(Router, RebuildKeepsThePolicyUnlessGivenANewOne) {
  Router router(RoutingTable(RoutingOptions{UnmatchedPolicy::kOutOfScope}));
  const Observable unmatched{ObservableType::kIpv4, "192.0.2.1"};
  EXPECT_EQ(router.Route(unmatched).disposition, Disposition::kOutOfScope);
  ASSERT_TRUE(router.Rebuild(std::vector<Constituency>{}));
  EXPECT_EQ(router.Route(unmatched).disposition, Disposition::kOutOfScope);
  ASSERT_TRUE(router.Rebuild(std::vector<Constituency>{}, RoutingOptions{UnmatchedPolicy::kCoordinationQueue}));
  EXPECT_EQ(router.Route(unmatched).disposition, Disposition::kCoordinationQueue);
}

// Readers loop while a writer publishes generation after generation. Each answer must come from
// exactly one table: its length must be the one its generation's table holds, within one snapshot
// every kind of lookup names the same generation, and a reader never sees a generation older than
// one it has already seen.
TEST(Router, ReadersSeeWholeTablesWhileAWriterSwapsThem) {
  constexpr std::int64_t kGenerations = 100;
  constexpr int kReaders = 3;
  Router router;
  ASSERT_TRUE(router.Rebuild(Everything(1)));

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<std::int64_t> lookups{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      std::int64_t last_seen = 1;
      std::int64_t count = 0;
      auto check = [&](const std::optional<Match>& match) {
        if (!match) {
          failures.fetch_add(1);
          return;
        }
        const std::int64_t seen = match->constituency_id;
        if (seen < last_seen || seen > kGenerations || match->length != ExpectedLength(*match)) failures.fetch_add(1);
        last_seen = seen;
      };
      while (!done.load()) {
        if (r == 0) {
          // The single-call path: each call takes its own snapshot.
          check(router.Lookup(Probes()[static_cast<std::size_t>(count) % Probes().size()]));
          check(router.Route(Probes()).match);
        } else {
          const auto table = router.Current();
          const auto first = table->Lookup(Probes()[0]);
          check(first);
          for (const Observable& probe : Probes()) {
            const auto match = table->Lookup(probe);
            if (!match || IdOf(match) != IdOf(first) || match->length != ExpectedLength(*match)) failures.fetch_add(1);
          }
        }
        ++count;
      }
      lookups.fetch_add(count);
    });
  }

  for (std::int64_t generation = 2; generation <= kGenerations; ++generation) {
    if (!router.Rebuild(Everything(generation))) failures.fetch_add(1);
    std::this_thread::yield();
  }
  done.store(true);
  for (std::thread& reader : readers) reader.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(lookups.load(), 0);
  EXPECT_EQ(IdOf(router.Lookup(Probes()[0])), kGenerations);
}

// A rebuild that takes a long time (a large constituency list) must not stall lookups: the table
// is built before the lock is taken. If Rebuild held the lock while building, the reader below
// would complete at most one lookup while the build runs.
TEST(Router, LookupsDoNotWaitForARebuild) {
  Router router;
  ASSERT_TRUE(router.Rebuild(Everything(1)));

  std::vector<Constituency> large = Everything(2);
  for (std::uint32_t i = 0; i < 150000; ++i) {
    large[0].cidrs.push_back(std::to_string(10 + (i >> 16)) + "." + std::to_string((i >> 8) & 0xff) + "." +
                             std::to_string(i & 0xff) + ".0/24");
  }

  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::thread writer([&] {
    started.store(true);
    if (!router.Rebuild(large)) ADD_FAILURE() << "rebuild failed";
    finished.store(true);
  });
  while (!started.load()) std::this_thread::yield();
  std::int64_t during_build = 0;
  while (!finished.load()) {
    if (IdOf(router.Lookup(Probes()[0])) == 1) ++during_build;
  }
  writer.join();

  EXPECT_GT(during_build, 100) << "lookups completed while the new table was being built";
  EXPECT_EQ(IdOf(router.Lookup({ObservableType::kIpv4, "10.0.1.9"})), 2);
  EXPECT_EQ(IdOf(router.Lookup(Probes()[0])), 2);
}

}  // namespace
}  // namespace hikeshi::routing
