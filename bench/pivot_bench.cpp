// Observable pivot latency at scale: FindSightings (every incident and report holding a value,
// scoped, newest first) over a store holding OBSERVABLES distinct observables, against a bare
// indexed point lookup of the same values in the same database, measured in the same run.
//
//   pivot_bench [OBSERVABLES] [PER_REPORT] [QUERIES]     defaults 10000000 100 20000

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Ip(std::uint32_t n) {
  // 10.0.0.0/8 and beyond: distinct, valid, normalised dotted quads.
  return fmt::format("{}.{}.{}.{}", 10 + (n >> 24), (n >> 16) & 255, (n >> 8) & 255, n & 255);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hikeshi;
  const long long total = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
  const int per_report = argc > 2 ? std::atoi(argv[2]) : 100;
  const int queries = argc > 3 ? std::atoi(argv[3]) : 20'000;
  common::InitCrypto();
  const fs::path dir = fs::temp_directory_path() / ("hikeshi-pivot-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  {
    store::sqlite::SqliteOptions options;
    options.synchronous = store::sqlite::Synchronous::kNormal;  // loading only; the queries read
    auto store = store::sqlite::OpenSqliteStore(dir / "hikeshi.db", options);
    if (!store) return 1;

    // Load: reports of PER_REPORT observables each, 200 reports per transaction.
    const auto load_start = Clock::now();
    const long long reports = total / per_report;
    const core::AuditContext ctx{"bench", common::FromMicros(1'795'765'396'000'000LL)};
    for (long long r = 0; r < reports;) {
      auto written = (*store)->Write([&](core::WriteTx& tx) -> Result<void> {
        for (int k = 0; k < 200 && r < reports; ++k, ++r) {
          core::Report report;
          report.channel = core::Channel::kFeed;
          report.subject = "bench report " + std::to_string(r);
          report.received_at = report.updated_at = ctx.at;
          for (int i = 0; i < per_report; ++i) {
            report.observables.push_back(
                {core::ObservableType::kIpv4, Ip(static_cast<std::uint32_t>(r * per_report + i))});
          }
          HIKESHI_CHECK(tx.CreateReport(ctx, std::move(report)));
        }
        return {};
      });
      if (!written) {
        fmt::print(stderr, "load: {}\n", written.error().message());
        return 1;
      }
    }
    const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();

    // Queries: random stored values through the port, and the same values as a bare lookup.
    std::mt19937_64 rng(11);
    std::vector<std::string> values;
    for (int q = 0; q < queries; ++q) values.push_back(Ip(static_cast<std::uint32_t>(rng() % (reports * per_report))));
    std::vector<double> pivot_ms;
    for (const auto& v : values) {
      const auto t0 = Clock::now();
      std::size_t found = 0;
      auto read = (*store)->Read([&](core::StoreReader& r) -> Result<void> {
        HIKESHI_TRY(const auto sightings, r.FindSightings(core::Scope::All(), {core::ObservableType::kIpv4, v}, 100));
        found = sightings.reports.size();
        return {};
      });
      pivot_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!read || found != 1) {
        fmt::print(stderr, "pivot for {} found {} reports\n", v, found);
        return 1;
      }
    }
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir / "hikeshi.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT id FROM observables WHERE type = 'ipv4' AND value = ?", -1, &stmt, nullptr);
    std::vector<double> bare_ms;
    for (const auto& v : values) {
      const auto t0 = Clock::now();
      sqlite3_bind_text(stmt, 1, v.c_str(), -1, SQLITE_STATIC);
      const int rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      bare_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (rc != SQLITE_ROW) {
        fmt::print(stderr, "bare lookup of {} found nothing\n", v);
        return 1;
      }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);

    fmt::print("observables: {}, reports: {}, load: {:.0f} s, queries: {}\n\n", reports * per_report, reports, load_s,
               queries);
    fmt::print(
        "| measure | FindSightings (reports and incidents, scoped) | bare indexed lookup of the value | ratio |\n");
    fmt::print("|---|---|---|---|\n");
    for (const double p : {0.5, 0.99}) {
      fmt::print("| p{} ms | {:.3f} | {:.3f} | {:.1f} |\n", static_cast<int>(p * 100), Percentile(pivot_ms, p),
                 Percentile(bare_ms, p), Percentile(pivot_ms, p) / Percentile(bare_ms, p));
    }
  }
  fs::remove_all(dir);
  return 0;
}
