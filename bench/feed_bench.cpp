// End-to-end durable feed ingest: Suricata-EVE-like NDJSON through the whole pipeline (parse,
// extraction, routing, idempotency keys, aggregation, correlation, commit), against the floor of a
// bare SQLite bulk insert of the same number of rows (the raw lines) with the same durability
// (WAL, synchronous=FULL) and the same batch size, measured in the same run.
//
//   feed_bench [EVENTS] [BATCH] [SOURCES[,SOURCES...]]    (default: 300000 10000 50,2000,5000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/constituencies.hpp"
#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/intake/pipeline/feed_pipeline.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* kSignatures[] = {"ET SCAN Potential SSH Scan", "ET SCAN Suspicious inbound to MSSQL port 1433",
                             "ET POLICY Outbound connection to example.com on port 8080",
                             "ET TROJAN Possible Emotet C2 checkin", "ET SCAN NMAP -sS window 1024"};
const char* kCategories[] = {"Attempted Information Leak", "Potentially Bad Traffic",
                             "Potential Corporate Privacy Violation", "A Network Trojan was detected",
                             "Attempted Information Leak"};

void AppendEvent(std::string& out, long long i, std::mt19937& rng, int sources) {
  const int k = static_cast<int>(rng() % 5);
  const unsigned src = rng() % static_cast<unsigned>(sources);
  out += fmt::format(
      R"({{"timestamp":"2026-11-27T{:02}:{:02}:{:02}.{:06}+0000","flow_id":{},"in_iface":"eth0","event_type":"alert",)"
      R"("src_ip":"10.{}.{}.{}","src_port":{},"dest_ip":"192.0.2.{}","dest_port":{},"proto":"TCP","alert":{{"action":"allowed",)"
      R"("gid":1,"signature_id":{},"rev":3,"signature":"{}","category":"{}","severity":2}}}})"
      "\n",
      i / 3600000 % 24, i / 60000 % 60, i / 1000 % 60, i % 1000 * 1000, 1'000'000'000LL + i, src >> 16 & 255,
      src >> 8 & 255, src & 255, 1024 + rng() % 60000, 1 + rng() % 250, 22 + k, 2001219 + k, kSignatures[k],
      kCategories[k]);
}

std::string Feed(int events, int sources) {
  std::mt19937 rng(7);
  std::string out;
  out.reserve(static_cast<std::size_t>(events) * 420);
  for (int i = 0; i < events; ++i) AppendEvent(out, i, rng, sources);
  return out;
}

// `feed_bench --emit EVENTS [SOURCES]` writes the same feed to stdout in chunks, so that a feed of
// any size can be piped into `hikeshi ingest feed ... -` without being held anywhere in memory.
int Emit(long long events, int sources) {
  std::mt19937 rng(7);
  std::string chunk;
  for (long long i = 0; i < events; ++i) {
    AppendEvent(chunk, i, rng, sources);
    if (chunk.size() >= (1 << 20)) {
      if (std::fwrite(chunk.data(), 1, chunk.size(), stdout) != chunk.size()) return 1;
      chunk.clear();
    }
  }
  return std::fwrite(chunk.data(), 1, chunk.size(), stdout) == chunk.size() ? 0 : 1;
}

// User plus system CPU time of the whole process so far.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    fmt::print(stderr, "{}: {}\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

double Floor(const fs::path& file, const std::string& feed, int batch) {
  sqlite3* db = nullptr;
  Check(sqlite3_open(file.c_str(), &db), db, "open");
  Check(sqlite3_exec(
            db,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE events (id INTEGER PRIMARY KEY, raw TEXT)",
            nullptr, nullptr, nullptr),
        db, "schema");
  sqlite3_stmt* insert = nullptr;
  Check(sqlite3_prepare_v2(db, "INSERT INTO events (raw) VALUES (?)", -1, &insert, nullptr), db, "prepare");
  const auto start = Clock::now();
  int in_batch = 0;
  Check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  for (std::size_t pos = 0; pos < feed.size();) {
    const std::size_t end = feed.find('\n', pos);
    sqlite3_bind_text(insert, 1, feed.data() + pos, static_cast<int>(end - pos), SQLITE_STATIC);
    Check(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
    pos = end + 1;
    if (++in_batch == batch) {
      Check(sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr), db, "commit");
      in_batch = 0;
    }
  }
  Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return seconds;
}

struct Outcome {
  double hikeshi_s = 0;
  double hikeshi_cpu_s = 0;
  double floor_s = 0;
  hikeshi::core::FeedRun run;
};

// One configuration: the floor, then the pipeline into a fresh store, each on a fresh file.
std::optional<Outcome> Measure(int events, int batch, int sources) {
  using namespace hikeshi;
  const fs::path dir = fs::temp_directory_path() / ("hikeshi-feed-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  const std::string feed = Feed(events, sources);

  // FEED_BENCH_NO_FLOOR=1 skips the floor, for profiling the pipeline alone (the ratio is then
  // meaningless).
  const char* no_floor = std::getenv("FEED_BENCH_NO_FLOOR");
  Outcome outcome;
  outcome.floor_s = no_floor != nullptr && std::string(no_floor) == "1" ? 0.0 : Floor(dir / "floor.db", feed, batch);

  auto store = store::sqlite::OpenSqliteStore(dir / "hikeshi.db");
  if (!store) return std::nullopt;
  core::SystemClock clock;
  core::Constituencies constituencies(**store, clock);
  const auto op = core::Principal::LocalOperator();
  // A constituency per /16 of the scanners' space, so routing has real work.
  for (int c = 0; c < 64; ++c) {
    if (!constituencies.Add(op, {"net-" + std::to_string(c), "", {"10." + std::to_string(c) + ".0.0/16"}, {}, {}})) {
      return std::nullopt;
    }
  }
  auto extractor = extract::Extractor::Create();
  if (!extractor) return std::nullopt;
  intake::pipeline::PipelineOptions options;
  options.batch_size = static_cast<std::size_t>(batch);
  // FEED_BENCH_FOLD_EVERY=N folds every N batches instead of the default 50 (for measuring the
  // trade-off between folding often, which rewrites reports, and one long fold at the end).
  if (const char* every = std::getenv("FEED_BENCH_FOLD_EVERY"); every != nullptr && std::atoi(every) > 0) {
    options.fold_every_batches = static_cast<std::size_t>(std::atoi(every));
  }
  intake::pipeline::FeedPipeline pipeline(**store, clock, extractor->get(), options);
  core::MemorySource input(feed);
  const double cpu_before = CpuSeconds();
  const auto start = Clock::now();
  const auto run = pipeline.Ingest(
      op, {.format = "suricata-eve", .source = "bench", .mapping_name = "", .tlp = std::nullopt}, input);
  outcome.hikeshi_s = std::chrono::duration<double>(Clock::now() - start).count();
  outcome.hikeshi_cpu_s = CpuSeconds() - cpu_before;
  if (!run) {
    fmt::print(stderr, "ingest: {}\n", run.error().message());
    return std::nullopt;
  }
  outcome.run = *run;
  store->reset();
  fs::remove_all(dir);
  return outcome;
}

std::vector<int> ParseList(const char* text) {
  std::vector<int> values;
  for (const char* p = text; *p != '\0';) {
    values.push_back(std::atoi(p));
    while (*p != '\0' && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return values;
}

}  // namespace

// feed_bench [EVENTS] [BATCH] [SOURCES[,SOURCES...]]: by default 300,000 events in batches of
// 10,000 from 50, 2,000 and 5,000 distinct sources (so 150, 6,000 and 15,000 aggregate reports).
int main(int argc, char** argv) {
  using namespace hikeshi;
  if (argc > 1 && std::string(argv[1]) == "--emit") {
    return Emit(argc > 2 ? std::atoll(argv[2]) : 1'000'000, argc > 3 ? std::atoi(argv[3]) : 5'000);
  }
  const int events = argc > 1 ? std::atoi(argv[1]) : 300'000;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 10'000;
  const std::vector<int> source_counts = ParseList(argc > 3 ? argv[3] : "50,2000,5000");
  common::InitCrypto();
  // Before the floor opens its database: the floor and the store then run on the same SQLite
  // library settings.
  store::sqlite::ConfigureSqliteLibrary();
  fmt::print("events: {}, batch: {}\n\n", events, batch);
  fmt::print(
      "| distinct sources | reports (aggregate updates) | Hikeshi events/s | bare SQLite insert floor events/s | "
      "ratio | pipeline wall / CPU | floor wall |\n|---|---|---|---|---|---|---|\n");
  for (const int sources : source_counts) {
    const auto outcome = Measure(events, batch, sources);
    if (!outcome) return 1;
    fmt::print("| {} | {} ({}) | {:.0f} | {:.0f} | {:.2f} | {:.2f} s / {:.2f} s | {:.2f} s |\n", sources,
               outcome->run.reports_created, outcome->run.reports_updated, events / outcome->hikeshi_s,
               events / outcome->floor_s, outcome->floor_s / outcome->hikeshi_s, outcome->hikeshi_s,
               outcome->hikeshi_cpu_s, outcome->floor_s);
    std::fflush(stdout);
  }
  // On a shared machine the wall time depends on what else runs; the CPU time (user+system, all
  // threads) much less so.
  return 0;
}
