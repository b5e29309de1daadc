// Store throughput and search latency, each against a bare-SQLite baseline run in the same process
// on the same machine with the same durability (WAL, synchronous=FULL, one transaction per row).
//
//   store_bench [ROWS] [QUERIES]
//
// What Hikeshi adds over the bare insert: validation, the human-id counter, the FTS5 index with the
// CJK bigram tokenizer, observables, and the hash-chained audit entry, all in one transaction.

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
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/constituencies.hpp"
#include "hikeshi/core/incidents.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kWords = {
    "不正アクセス", "情報漏えい", "報告", "侵入",   "フィッシング", "マルウェア", "phishing", "server",
    "login",        "ransomware", "scan", "botnet", "university",   "検知",       "通信",     "サーバ"};

// Rare words: two kanji out of forty, so each appears in about one title in 1,600 - the way a
// handler searches for a specific host, product or campaign name among thousands of incidents.
const std::string kKanji = "東西南北春夏秋冬山川海空雲雨雪風花鳥月星金銀銅鉄石木林森田町村港橋島湾岬谷坂峠沢滝";

std::string RareWord(std::size_t n) {
  const std::size_t a = n % 40, b = (n / 40) % 40;  // each kanji is 3 bytes of UTF-8
  return kKanji.substr(a * 3, 3) + kKanji.substr(b * 3, 3) + "作戦";
}

std::string Title(std::mt19937& rng, int i) {
  std::string t = "incident " + std::to_string(i) + ":";
  for (int w = 0; w < 5; ++w) t += " " + kWords[rng() % kWords.size()];
  return t + " " + RareWord(rng());
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fmt::print(stderr, "{}: {}\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hikeshi;
  const int rows = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int queries = argc > 2 ? std::atoi(argv[2]) : 500;
  common::InitCrypto();
  store::sqlite::ConfigureSqliteLibrary();  // before the baseline's own database: the same settings
  const fs::path dir = fs::temp_directory_path() / ("hikeshi-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);

  // Titles generated once, used by both sides.
  std::mt19937 rng(42);
  std::vector<std::string> titles;
  for (int i = 0; i < rows; ++i) titles.push_back(Title(rng, i));

  // --- baseline: bare SQLite, same durability, one transaction per row ---
  sqlite3* bare = nullptr;
  Check(sqlite3_open((dir / "bare.db").c_str(), &bare), bare, "open");
  Check(sqlite3_exec(bare,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE incidents (id INTEGER PRIMARY KEY, title TEXT, category TEXT, priority INTEGER,"
                     " created_at INTEGER)",
                     nullptr, nullptr, nullptr),
        bare, "schema");
  sqlite3_stmt* insert = nullptr;
  Check(sqlite3_prepare_v2(bare, "INSERT INTO incidents (title, category, priority, created_at) VALUES (?, ?, ?, ?)",
                           -1, &insert, nullptr),
        bare, "prepare");
  const auto bare_start = Clock::now();
  for (int i = 0; i < rows; ++i) {
    Check(sqlite3_exec(bare, "BEGIN", nullptr, nullptr, nullptr), bare, "begin");
    sqlite3_bind_text(insert, 1, titles[i].c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, "fraud/phishing", -1, SQLITE_STATIC);
    sqlite3_bind_int(insert, 3, 2);
    sqlite3_bind_int64(insert, 4, i);
    Check(sqlite3_step(insert), bare, "insert");
    sqlite3_reset(insert);
    Check(sqlite3_exec(bare, "COMMIT", nullptr, nullptr, nullptr), bare, "commit");
  }
  const double bare_s = Seconds(Clock::now() - bare_start);

  // --- Hikeshi: the use case through the Store port ---
  auto store = store::sqlite::OpenSqliteStore(dir / "hikeshi.db");
  if (!store) {
    fmt::print(stderr, "open store: {}\n", store.error().message());
    return 1;
  }
  core::SystemClock clock;
  core::Constituencies constituencies(**store, clock);
  core::Incidents incidents(**store, clock);
  const auto op = core::Principal::LocalOperator();
  if (!constituencies.Add(op, {"bench", "", {"192.0.2.0/24"}, {}, {}})) return 1;
  const auto hikeshi_start = Clock::now();
  for (int i = 0; i < rows; ++i) {
    core::IncidentDraft draft;
    draft.title = titles[i];
    draft.category = "fraud/phishing";
    draft.constituency = "bench";
    draft.impact = 2;
    draft.urgency = 2;
    draft.observables = {{"ipv4", "192.0.2." + std::to_string(i % 250 + 1)}};
    if (auto r = incidents.Create(op, draft); !r) {
      fmt::print(stderr, "create: {}\n", r.error().message());
      return 1;
    }
  }
  const double hikeshi_s = Seconds(Clock::now() - hikeshi_start);

  // --- search: FTS with the bigram tokenizer vs a LIKE scan of the bare table ---
  std::vector<double> fts_ms, like_ms;
  sqlite3_stmt* like = nullptr;
  Check(sqlite3_prepare_v2(bare, "SELECT id, title FROM incidents WHERE title LIKE ? ORDER BY id DESC LIMIT 50", -1,
                           &like, nullptr),
        bare, "prepare like");
  for (int q = 0; q < queries; ++q) {
    const std::string word = RareWord(static_cast<std::size_t>(q) * 7919);
    core::IncidentListRequest request;
    request.text = word;
    auto t0 = Clock::now();
    auto page = incidents.List(op, request);
    fts_ms.push_back(Seconds(Clock::now() - t0) * 1000);
    if (!page) {
      fmt::print(stderr, "search for {} failed: {}\n", word, page.error().message());
      return 1;
    }
    const std::string pattern = "%" + word + "%";
    t0 = Clock::now();
    sqlite3_bind_text(like, 1, pattern.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(like) == SQLITE_ROW) {
    }
    sqlite3_reset(like);
    like_ms.push_back(Seconds(Clock::now() - t0) * 1000);
  }
  sqlite3_finalize(like);
  sqlite3_finalize(insert);
  sqlite3_close(bare);
  store->reset();
  fs::remove_all(dir);

  fmt::print("rows: {}, queries: {}\n\n", rows, queries);
  fmt::print("| measure | Hikeshi | bare SQLite baseline | ratio |\n|---|---|---|---|\n");
  fmt::print("| durable inserts/s (1 tx per row, synchronous=FULL) | {:.0f} | {:.0f} | {:.2f} |\n", rows / hikeshi_s,
             rows / bare_s, bare_s / hikeshi_s);
  fmt::print("| search for a rare word, p50 ms | {:.3f} | {:.3f} (LIKE scan) | {:.2f} |\n", Percentile(fts_ms, 0.5),
             Percentile(like_ms, 0.5), Percentile(like_ms, 0.5) / Percentile(fts_ms, 0.5));
  fmt::print("| search for a rare word, p99 ms | {:.3f} | {:.3f} (LIKE scan) | {:.2f} |\n", Percentile(fts_ms, 0.99),
             Percentile(like_ms, 0.99), Percentile(like_ms, 0.99) / Percentile(fts_ms, 0.99));
  return 0;
}
