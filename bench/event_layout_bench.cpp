// How fast SQLite can keep a feed's events in the layouts one could choose, against the floor that
// feed_bench uses (a bare insert of the raw lines), each in the same run, on a fresh file, with the
// store's settings (WAL, synchronous=FULL, 8 KiB pages, 64 MiB cache, statement journals in
// memory) and batches of 10,000 in one transaction. Only the events: no parsing, no reports. It
// answers "how much of the floor can storing the events alone keep?", which bounds feed_bench's
// ratio from above.
//
//   event_layout_bench [EVENTS] [SOURCES]        (300,000 and 50 by default)
//
// Layouts:
//   floor        id INTEGER PRIMARY KEY, raw                      (feed_bench's floor)
//   no-key       Hikeshi's columns, no key: no idempotency, plus one event-count upsert per
//                fingerprint per batch (what the store does)
//   hikeshi      Hikeshi's layout: the 16-byte key (time, then hash) as a unique index, counts
//   keyed-rowid  the key folded into a 64-bit rowid (seconds << 30 | 30 hash bits), each batch
//                sorted by it, counts (a collision would need a fallback; not written here)
//   clustered    WITHOUT ROWID on the key, each batch sorted by key, counts
//   groups       a key-only table for idempotency and one row per fingerprint per batch holding
//                its events as one blob (a layout that would also list a report's events)

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kBatch = 10'000;

struct Event {
  std::string key;  // 16 bytes: 5 of the time in seconds, then 11 of a hash
  std::string fingerprint;
  std::int64_t time = 0;
  std::int64_t record = 0;
  std::string raw;
  std::int64_t rowid = 0;  // keyed-rowid only
};

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fmt::print(stderr, "{}: {}\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

// EVE-like alert lines, as feed_bench writes them: `sources` scanners, five signatures, 1,000
// events a second.
std::vector<Event> MakeEvents(int count, int sources) {
  std::mt19937_64 rng(7);
  std::vector<Event> events(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    Event& e = events[static_cast<std::size_t>(i)];
    const unsigned src = static_cast<unsigned>(rng() % static_cast<unsigned>(sources));
    const int k = static_cast<int>(rng() % 5);
    e.raw = fmt::format(
        R"({{"timestamp":"2026-11-27T00:{:02}:{:02}.{:06}+0000","flow_id":{},"in_iface":"eth0","event_type":"alert",)"
        R"("src_ip":"10.{}.{}.{}","src_port":{},"dest_ip":"192.0.2.{}","dest_port":{},"proto":"TCP","alert":{{)"
        R"("action":"allowed","gid":1,"signature_id":{},"rev":3,"signature":"ET SCAN Potential SSH Scan",)"
        R"("category":"Attempted Information Leak","severity":2}}}})",
        i / 60000 % 60, i / 1000 % 60, i % 1000 * 1000, 1'000'000'000LL + i, src >> 16 & 255, src >> 8 & 255, src & 255,
        1024 + rng() % 60000, 1 + rng() % 250, 22 + k, 2001219 + k);
    e.time = 1'790'000'000'000'000LL + i * 1000LL;
    e.record = i + 1;
    e.fingerprint = fmt::format("suricata-eve|intrusion-attempts/ids-alert|ipv4:10.{}.{}.{}|2026-11-27|{}",
                                src >> 16 & 255, src >> 8 & 255, src & 255, k % 3);
    const std::uint64_t seconds = static_cast<std::uint64_t>(e.time / 1'000'000);
    const std::uint64_t hash = rng();
    e.key.resize(16);
    for (int b = 0; b < 5; ++b) e.key[static_cast<std::size_t>(b)] = static_cast<char>(seconds >> (8 * (4 - b)));
    for (int b = 5; b < 16; ++b) e.key[static_cast<std::size_t>(b)] = static_cast<char>(hash >> (8 * (b - 5)));
    e.rowid = static_cast<std::int64_t>((seconds << 30) | (hash & ((1ULL << 30) - 1)));
  }
  return events;
}

class Db {
 public:
  explicit Db(const fs::path& file) {
    fs::remove(file);
    fs::remove(file.string() + "-wal");
    Check(sqlite3_open(file.c_str(), &db_), db_, "open");
    Exec("PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536");
  }
  ~Db() {
    for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  void Exec(const char* sql) { Check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), db_, sql); }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    Check(sqlite3_prepare_v2(db_, sql, -1, &s, nullptr), db_, sql);
    statements_.push_back(s);
    return s;
  }
  void Step(sqlite3_stmt* s) {
    Check(sqlite3_step(s), db_, "step");
    sqlite3_reset(s);
  }
  bool Changed() const { return sqlite3_changes(db_) > 0; }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

void Text(sqlite3_stmt* s, int at, std::string_view text) {
  sqlite3_bind_text(s, at, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
void Blob(sqlite3_stmt* s, int at, std::string_view bytes) {
  sqlite3_bind_blob(s, at, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

// One layout: seconds to store every event, batch by batch.
double Run(const std::string& layout, std::vector<Event> events, const fs::path& file) {
  Db db(file);
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* count = nullptr;
  const bool counts = layout != "floor" && layout != "groups";
  if (layout == "floor") {
    db.Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, raw TEXT)");
    insert = db.Prepare("INSERT INTO events (raw) VALUES (?1)");
  } else if (layout == "groups") {
    db.Exec(
        "CREATE TABLE event_keys (key BLOB NOT NULL PRIMARY KEY) STRICT, WITHOUT ROWID;"
        "CREATE TABLE event_groups (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, count INTEGER NOT NULL, "
        "events BLOB NOT NULL) STRICT; CREATE INDEX event_groups_fingerprint ON event_groups (fingerprint, id)");
    insert = db.Prepare("INSERT INTO event_keys (key) VALUES (?1) ON CONFLICT DO NOTHING");
    count = db.Prepare("INSERT INTO event_groups (fingerprint, count, events) VALUES (?1, ?2, ?3)");
  } else {
    const char* table =
        layout == "no-key"    ? "CREATE TABLE events (key BLOB NOT NULL, run_id INTEGER NOT NULL, record INTEGER NOT "
                                "NULL, fingerprint TEXT NOT NULL, time INTEGER, raw TEXT NOT NULL) STRICT"
        : layout == "hikeshi" ? "CREATE TABLE events (key BLOB NOT NULL PRIMARY KEY, run_id INTEGER NOT NULL, record "
                                "INTEGER NOT NULL, fingerprint TEXT NOT NULL, time INTEGER, raw TEXT NOT NULL) STRICT"
        : layout == "keyed-rowid"
            ? "CREATE TABLE events (id INTEGER PRIMARY KEY, key BLOB NOT NULL, run_id INTEGER NOT "
              "NULL, record INTEGER NOT NULL, fingerprint TEXT NOT NULL, time INTEGER, raw TEXT NOT "
              "NULL) STRICT"
            : "CREATE TABLE events (key BLOB NOT NULL PRIMARY KEY, run_id INTEGER NOT NULL, record "
              "INTEGER NOT NULL, fingerprint TEXT NOT NULL, time INTEGER, raw TEXT NOT NULL) "
              "STRICT, WITHOUT ROWID";
    db.Exec(table);
    db.Exec(
        "CREATE TABLE event_counts (fingerprint TEXT NOT NULL PRIMARY KEY, count INTEGER NOT NULL) STRICT, "
        "WITHOUT ROWID");
    insert = db.Prepare(layout == "keyed-rowid"
                            ? "INSERT INTO events (id, key, run_id, record, fingerprint, time, raw) VALUES "
                              "(?7, ?1, 1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"
                            : "INSERT INTO events (key, run_id, record, fingerprint, time, raw) VALUES "
                              "(?1, 1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
    count = db.Prepare(
        "INSERT INTO event_counts (fingerprint, count) VALUES (?1, ?2) "
        "ON CONFLICT (fingerprint) DO UPDATE SET count = count + excluded.count");
  }

  const auto start = Clock::now();
  for (std::size_t first = 0; first < events.size(); first += kBatch) {
    const auto begin = events.begin() + static_cast<std::ptrdiff_t>(first);
    const auto end = events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), first + kBatch));
    if (layout == "keyed-rowid")
      std::sort(begin, end, [](const Event& a, const Event& b) { return a.rowid < b.rowid; });
    if (layout == "clustered") std::sort(begin, end, [](const Event& a, const Event& b) { return a.key < b.key; });
    db.Exec("BEGIN");
    std::unordered_map<std::string_view, std::int64_t> per_fingerprint;
    std::unordered_map<std::string_view, std::string> grouped;
    for (auto e = begin; e != end; ++e) {
      if (layout == "floor") {
        Text(insert, 1, e->raw);
        db.Step(insert);
        continue;
      }
      Blob(insert, 1, e->key);
      if (layout != "groups") {
        sqlite3_bind_int64(insert, 2, e->record);
        Text(insert, 3, e->fingerprint);
        sqlite3_bind_int64(insert, 4, e->time);
        Text(insert, 5, e->raw);
        if (layout == "keyed-rowid") sqlite3_bind_int64(insert, 7, e->rowid);
      }
      db.Step(insert);
      if (!db.Changed()) continue;
      ++per_fingerprint[e->fingerprint];
      if (layout == "groups") {
        std::string& group = grouped[e->fingerprint];
        char header[20];
        const auto length = static_cast<std::uint32_t>(e->raw.size());
        std::memcpy(header, &e->record, 8);
        std::memcpy(header + 8, &e->time, 8);
        std::memcpy(header + 16, &length, 4);
        group.append(header, sizeof header).append(e->raw);
      }
    }
    if (counts) {
      for (const auto& [fingerprint, n] : per_fingerprint) {
        Text(count, 1, fingerprint);
        sqlite3_bind_int64(count, 2, n);
        db.Step(count);
      }
    }
    if (layout == "groups") {
      for (const auto& [fingerprint, bytes] : grouped) {
        Text(count, 1, fingerprint);
        sqlite3_bind_int64(count, 2, per_fingerprint[fingerprint]);
        Blob(count, 3, bytes);
        db.Step(count);
      }
    }
    db.Exec("COMMIT");
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 300'000;
  const int sources = argc > 2 ? std::atoi(argv[2]) : 50;
  if (count <= 0 || sources <= 0) {
    fmt::print(stderr, "usage: event_layout_bench [EVENTS] [SOURCES]\n");
    return 2;
  }
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1);
  const std::vector<Event> events = MakeEvents(count, sources);
  const fs::path dir = fs::temp_directory_path() / fmt::format("hikeshi-event-layout-{}", std::random_device{}());
  fs::create_directories(dir);
  fmt::print("| layout | {} events from {} sources | events/s | of the floor |\n|---|---|---|---|\n", count, sources);
  double floor = 0;
  for (const std::string layout : {"floor", "no-key", "hikeshi", "keyed-rowid", "clustered", "groups"}) {
    const double seconds = Run(layout, events, dir / (layout + ".db"));
    if (layout == "floor") floor = seconds;
    fmt::print("| {} | {:.3f} s | {:.0f} | {:.2f} |\n", layout, seconds, count / seconds, floor / seconds);
  }
  fs::remove_all(dir);
  return 0;
}
