// Feed events into PostgreSQL through the store's write path, against the floor of a bare COPY of
// the same rows into the same table, in the same run and on the same server:
//   1. WriteTx::InsertEvents (what core::FeedIngest calls: one COPY into a temporary table and one
//      INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING per batch, plus the event counts),
//   2. WriteTx::InsertEvent once per event (the per-row prepared INSERT the port also offers),
//   3. the floor: COPY of the same rows straight into `events`, one transaction per batch.
//   4. the whole feed pipeline (FeedPipeline::Ingest: parse, extraction, routing, aggregation, the
//      folds into reports with their journal entries, correlation) over the same number of
//      Suricata EVE lines from SOURCES scanners, into PostgreSQL and, for comparison in the same
//      run, into a fresh SQLite store.
// Each runs in a fresh database with Hikeshi's schema.
//
//   pg_feed_bench [EVENTS] [BATCH] [SOURCES]       (default 200000 5000 100)
//
// The server: $HIKESHI_BENCH_PG (a superuser URL ending in /postgres), else one started for the run
// with tests/support/pg_server.sh (initdb in a temp directory, 127.0.0.1, stopped at the end).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/byte_source.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/intake/pipeline/feed_pipeline.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "pg_feed_bench: {}\n", what);
  std::exit(1);
}

struct ConnFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnFinish>;

Conn Connect(const std::string& url) {
  Conn conn(PQconnectdb(url.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) Die(std::string("connect: ") + PQerrorMessage(conn.get()));
  return conn;
}

void Exec(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(r);
  PQclear(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Die(sql + ": " + PQerrorMessage(conn));
}

// The test server of tests/support/pg_server.sh, for the length of the run.
class Server {
 public:
  Server() {
    if (const char* url = std::getenv("HIKESHI_BENCH_PG"); url != nullptr && *url != '\0') {
      admin_ = url;
      return;
    }
    state_ = fs::temp_directory_path() / fmt::format("hikeshi-pg-bench-{}", getpid());
    script_ = fs::path(HIKESHI_SOURCE_DIR) / "tests" / "support" / "pg_server.sh";
    if (std::system(fmt::format("'{}' start '{}' >&2", script_.string(), state_.string()).c_str()) != 0) {
      Die("could not start a PostgreSQL server with " + script_.string());
    }
    std::ifstream in(state_ / "pg_conninfo");
    std::getline(in, admin_);
  }
  ~Server() {
    if (state_.empty()) return;
    (void)std::system(fmt::format("'{}' stop '{}'", script_.string(), state_.string()).c_str());
    std::error_code ignored;
    fs::remove(state_, ignored);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // A fresh database; its URL.
  std::string Database(const std::string& name) {
    Conn admin = Connect(admin_);
    Exec(admin.get(), "CREATE DATABASE " + name);
    dropped_.push_back(name);
    return admin_.substr(0, admin_.rfind('/') + 1) + name;
  }
  void DropAll() {
    Conn admin = Connect(admin_);
    for (const auto& name : dropped_) Exec(admin.get(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }

 private:
  std::string admin_;
  fs::path state_;
  fs::path script_;
  std::vector<std::string> dropped_;
};

struct Row {
  std::string key;
  std::string fingerprint;
  std::string raw;
  std::int64_t record;
};

std::vector<Row> MakeRows(int n) {
  std::vector<Row> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::string raw = fmt::format(
        R"({{"timestamp":"2026-11-27T{:02}:{:02}:{:02}.000000+0000","flow_id":{},"event_type":"alert",)"
        R"("src_ip":"10.0.{}.{}","src_port":{},"dest_ip":"192.0.2.7","dest_port":22,"proto":"TCP","alert":)"
        R"({{"signature_id":2001219,"signature":"ET SCAN Potential SSH Scan","category":"Attempted Information )"
        R"(Leak","severity":2}}}})",
        i / 3600 % 24, i / 60 % 60, i % 60, 1'000'000'000LL + i, i / 256 % 256, i % 256, 1024 + i % 60000);
    rows.push_back({hikeshi::common::Sha256Hex(raw).substr(0, 32),
                    fmt::format("suricata-eve|information-gathering/scanner|ipv4:10.0.{}.0|2026-11-27", i % 100), raw,
                    i + 1});
  }
  return rows;
}

const hikeshi::core::Timestamp kAt = hikeshi::common::FromMicros(1795000000000000);

std::unique_ptr<hikeshi::core::Store> OpenStore(const std::string& url) {
  auto store = hikeshi::store::postgres::OpenPostgresStore(url);
  if (!store) Die(store.error().message());
  return std::move(*store);
}

std::int64_t CreateRun(hikeshi::core::Store& store) {
  std::int64_t id = 0;
  auto written = store.Write([&](hikeshi::core::WriteTx& tx) -> hikeshi::Result<void> {
    hikeshi::core::FeedRun run;
    run.format = "suricata-eve";
    run.source = "bench";
    run.status = "running";
    run.started_at = kAt;
    HIKESHI_TRY(run, tx.CreateFeedRun({"bench", kAt}, run));
    id = run.id;
    return {};
  });
  if (!written) Die(written.error().message());
  return id;
}

// Seconds to store every row through the store, `per_event` or a batch at a time.
double ThroughStore(const std::string& url, const std::vector<Row>& rows, int batch, bool per_event) {
  auto store = OpenStore(url);
  const std::int64_t run = CreateRun(*store);
  std::vector<hikeshi::core::StoredEvent> events;
  const auto start = Clock::now();
  for (std::size_t from = 0; from < rows.size(); from += static_cast<std::size_t>(batch)) {
    const std::size_t to = std::min(rows.size(), from + static_cast<std::size_t>(batch));
    events.clear();
    for (std::size_t i = from; i < to; ++i) {
      events.push_back({rows[i].key, run, rows[i].record, rows[i].fingerprint, kAt, rows[i].raw});
    }
    std::int64_t stored = 0;
    auto written = store->Write([&](hikeshi::core::WriteTx& tx) -> hikeshi::Result<void> {
      if (!per_event) {
        HIKESHI_TRY(stored, tx.InsertEvents(events));
        return {};
      }
      for (const auto& event : events) {
        HIKESHI_TRY(const bool fresh, tx.InsertEvent(event));
        stored += fresh ? 1 : 0;
      }
      return {};
    });
    if (!written) Die(written.error().message());
    if (stored != static_cast<std::int64_t>(to - from)) Die("some events were taken for duplicates");
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seconds for the floor: COPY of the same rows into the same `events` table, no store in between.
double BareCopy(const std::string& url, const std::vector<Row>& rows, int batch) {
  auto store = OpenStore(url);  // the schema
  const std::int64_t run = CreateRun(*store);
  store.reset();
  Conn conn = Connect(url);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string data;
  const auto start = Clock::now();
  for (std::size_t from = 0; from < rows.size(); from += static_cast<std::size_t>(batch)) {
    const std::size_t to = std::min(rows.size(), from + static_cast<std::size_t>(batch));
    data.clear();
    for (std::size_t i = from; i < to; ++i) {
      // The generated keys, fingerprints and records hold nothing COPY's text format must escape.
      data += fmt::format("\\\\x{}\t{}\t{}\t{}\t{}\t\\\\x", rows[i].key, run, rows[i].record, rows[i].fingerprint,
                          hikeshi::common::ToMicros(kAt));
      for (const char c : rows[i].raw) {
        data += kHex[static_cast<unsigned char>(c) >> 4];
        data += kHex[static_cast<unsigned char>(c) & 15];
      }
      data += '\n';
    }
    Exec(conn.get(), "BEGIN");
    PGresult* r = PQexec(conn.get(), "COPY events (key, run_id, record, fingerprint, time, raw) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) Die(PQerrorMessage(conn.get()));
    PQclear(r);
    if (PQputCopyData(conn.get(), data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(conn.get(), nullptr) != 1) {
      Die(PQerrorMessage(conn.get()));
    }
    while ((r = PQgetResult(conn.get())) != nullptr) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(PQerrorMessage(conn.get()));
      PQclear(r);
    }
    Exec(conn.get(), "COMMIT");
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// EVENTS Suricata alerts (one line each) from `sources` scanners over 250 targets, one UTC day.
std::string EveFeed(int events, int sources) {
  std::string feed;
  for (int i = 0; i < events; ++i) {
    const int src = i * 7919 % sources;
    feed += fmt::format(
        R"({{"timestamp":"2026-11-27T{:02}:{:02}:{:02}.000000+0000","flow_id":{},"event_type":"alert",)"
        R"("src_ip":"10.{}.{}.{}","src_port":{},"dest_ip":"192.0.2.{}","dest_port":22,"proto":"TCP","alert":)"
        R"({{"gid":1,"signature_id":2001219,"rev":3,"signature":"ET SCAN Potential SSH Scan","category":)"
        R"("Attempted Information Leak","severity":2}}}})"
        "\n",
        i / 3600 % 24, i / 60 % 60, i % 60, 1'000'000'000LL + i, src >> 16 & 255, src >> 8 & 255, src & 255,
        1024 + i % 60000, 1 + i % 250);
  }
  return feed;
}

// Seconds for FeedPipeline::Ingest of `feed` into `store`, and the run it made.
std::pair<double, hikeshi::core::FeedRun> ThroughPipeline(hikeshi::core::Store& store, const std::string& feed,
                                                          int batch) {
  hikeshi::core::SystemClock clock;
  auto extractor = hikeshi::extract::Extractor::Create();
  if (!extractor) Die(extractor.error().message());
  hikeshi::intake::pipeline::PipelineOptions options;
  options.batch_size = static_cast<std::size_t>(batch);
  hikeshi::intake::pipeline::FeedPipeline pipeline(store, clock, extractor->get(), options);
  hikeshi::core::MemorySource input(feed);
  const auto start = Clock::now();
  const auto run =
      pipeline.Ingest(hikeshi::core::Principal::LocalOperator(),
                      {.format = "suricata-eve", .source = "bench", .mapping_name = "", .tlp = std::nullopt}, input);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!run) Die(run.error().message());
  return {seconds, *run};
}

}  // namespace

int main(int argc, char** argv) {
  hikeshi::common::InitCrypto();
  const int events = argc > 1 ? std::atoi(argv[1]) : 200'000;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 5'000;
  const int sources = argc > 3 ? std::atoi(argv[3]) : 100;
  if (events < 1 || batch < 1 || sources < 1 || sources > (1 << 24)) {
    Die("usage: pg_feed_bench [EVENTS] [BATCH] [SOURCES]");
  }
  const std::vector<Row> rows = MakeRows(events);
  Server server;
  const std::string tag = std::to_string(getpid());
  const double copy_floor = BareCopy(server.Database("bench_floor_" + tag), rows, batch);
  const double batched = ThroughStore(server.Database("bench_batched_" + tag), rows, batch, false);
  const double per_event = ThroughStore(server.Database("bench_per_event_" + tag), rows, batch, true);
  const std::string feed = EveFeed(events, sources);
  auto pg_store = OpenStore(server.Database("bench_pipeline_" + tag));
  const auto [pg_pipeline, pg_run] = ThroughPipeline(*pg_store, feed, batch);
  pg_store.reset();
  const fs::path sqlite_dir = fs::temp_directory_path() / fmt::format("hikeshi-pg-bench-sqlite-{}", getpid());
  fs::create_directories(sqlite_dir);
  hikeshi::store::sqlite::ConfigureSqliteLibrary();
  auto sqlite_store = hikeshi::store::sqlite::OpenSqliteStore(sqlite_dir / "hikeshi.db");
  if (!sqlite_store) Die(sqlite_store.error().message());
  const auto [sqlite_pipeline, sqlite_run] = ThroughPipeline(**sqlite_store, feed, batch);
  sqlite_store->reset();
  fs::remove_all(sqlite_dir);
  if (pg_run.events_new != events || sqlite_run.events_new != events) Die("the pipeline did not store every event");
  server.DropAll();
  const auto rate = [&](double seconds) { return static_cast<double>(events) / seconds; };
  fmt::print("{} events of {} bytes, {} per transaction\n", events, rows.front().raw.size(), batch);
  fmt::print("  bare COPY (floor)            {:>10.0f} events/s\n", rate(copy_floor));
  fmt::print("  WriteTx::InsertEvents (COPY) {:>10.0f} events/s  {:.2f}x the floor's time\n", rate(batched),
             batched / copy_floor);
  fmt::print("  WriteTx::InsertEvent each    {:>10.0f} events/s  {:.2f}x the floor's time\n", rate(per_event),
             per_event / copy_floor);
  fmt::print("the whole pipeline, {} sources ({} reports):\n", sources, pg_run.reports_created);
  fmt::print("  FeedPipeline into PostgreSQL {:>10.0f} events/s  {:.2f}x the floor's time\n", rate(pg_pipeline),
             pg_pipeline / copy_floor);
  fmt::print("  FeedPipeline into SQLite     {:>10.0f} events/s  (PostgreSQL takes {:.2f}x SQLite's time)\n",
             rate(sqlite_pipeline), pg_pipeline / sqlite_pipeline);
  return 0;
}
