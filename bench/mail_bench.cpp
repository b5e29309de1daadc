// Mail intake end to end: generated report mails (plain text; multipart/mixed with a small base64
// attachment; ISO-2022-JP subject and body) through MailPipeline::Deliver, the path of the mailgate
// and the LMTP listener (raw message and attachments sealed, parse, extraction, routing, then the
// sealed blobs + report + incoming mail + queued acknowledgement with their audit entries in one
// SQLite transaction, WAL, synchronous=FULL; blobs over 256 KiB would be files, fsynced before the
// commit, as every blob was before they became rows). Measured in the same run against:
//   - a bare GMime parse of the same bytes (g_mime_parser_construct_message only),
//   - Hikeshi's parser alone (intake::mail::ParseMail: decoding, charsets, libmagic),
//   - a bare SQLite insert of a report-sized and a mail-sized row per message, one transaction per
//     message, WAL, synchronous=FULL (the same durability unit as the mailgate).
//
//   mail_bench [--messages N] [--threads 1,4,8,16] [--dir PATH] [--json]
//   mail_bench --emit DIR [--messages N]     writes the messages to DIR/000001.eml ... and exits,
//                                            to time `hikeshi mailgate` (one process per message)
//
// PATH (default: the system temporary directory) should be on the disk Hikeshi's data directory
// would use; the file system type is printed, since tmpfs would make every fsync free.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <sqlite3.h>
#include <sys/vfs.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/constituencies.hpp"
#include "hikeshi/core/inline_blob_store.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/intake/mail/mail_parser.hpp"
#include "hikeshi/intake/pipeline/mail_pipeline.hpp"
#include "hikeshi/store/files/file_blob_store.hpp"
#include "hikeshi/store/sqlite/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace hikeshi;
using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Die(std::string_view what, std::string_view why) {
  fmt::print(stderr, "mail_bench: {}: {}\n", what, why);
  std::exit(1);
}

// ---------------------------------------------------------------------------------------------
// The messages

constexpr int kConstituencies = 64;  // own 10.<c>.0.0/16 and example-<c>.jp; some mail routes nowhere
constexpr int kSenders = 1000;

std::string Base64(std::string_view bytes) {
  gchar* encoded = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
  std::string out(encoded);
  g_free(encoded);
  return out;
}

// Base64 in lines of 76 characters, as mail clients write it.
std::string Base64Lines(std::string_view bytes) {
  const std::string flat = Base64(bytes);
  std::string out;
  for (std::size_t pos = 0; pos < flat.size(); pos += 76) out += flat.substr(pos, 76) + "\r\n";
  return out;
}

// UTF-8 to ISO-2022-JP, ending in ASCII (each call is one line, as RFC 1468 requires).
std::string ToIso2022Jp(std::string_view utf8) {
  iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) Die("iconv_open", "ISO-2022-JP is not available");
  std::string out(utf8.size() * 4 + 16, '\0');
  char* in_ptr = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<std::size_t>(-1) ||
      iconv(cd, nullptr, nullptr, &out_ptr, &out_left) == static_cast<std::size_t>(-1)) {
    Die("iconv", std::string(utf8));
  }
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

std::string Headers(int i, std::string_view subject, std::string_view content_type, std::string_view extra = "") {
  const int sender = i % kSenders;
  return fmt::format(
      "Return-Path: <reporter{0}@isp-{1}.example.org>\r\n"
      "Received: from mx.isp-{1}.example.org (mx.isp-{1}.example.org [198.51.100.{2}])\r\n"
      "\tby mx.csirt.example.net with ESMTPS id 4Xb{3:07}; Fri, 27 Nov 2026 09:{4:02}:{5:02} +0900\r\n"
      "From: Reporter {0} <reporter{0}@isp-{1}.example.org>\r\n"
      "To: CSIRT <csirt@example.net>\r\n"
      "Subject: {6}\r\n"
      "Date: Fri, 27 Nov 2026 09:{4:02}:{5:02} +0900\r\n"
      "Message-ID: <bench.{3}.{7}@isp-{1}.example.org>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: {8}\r\n"
      "{9}",
      sender, sender % 97, 1 + i % 250, i, i / 60 % 60, i % 60, subject, i * 7919 % 100003, content_type, extra);
}

std::string Address(int i) { return fmt::format("10.{}.{}.{}", i % (kConstituencies + 16), i / 7 % 256, 1 + i % 254); }
std::string Url(int i) {
  return fmt::format("http://www{}.example-{}.jp/login/{}.php", i % 5, i % (kConstituencies + 16), i);
}

std::string PlainReport(int i) {
  const std::string body = fmt::format(
      "Hello,\r\n\r\n"
      "We observed repeated SSH login attempts against our servers from {0}, a host on your network,\r\n"
      "between 08:10 and 08:55 JST today (about 1,400 attempts). The same host also served a phishing\r\n"
      "page imitating our webmail at {1} .\r\n\r\n"
      "Log excerpt:\r\n"
      "2026-11-27T08:10:{2:02}+09:00 sshd[2211]: Failed password for root from {0} port 52144 ssh2\r\n"
      "2026-11-27T08:10:{3:02}+09:00 sshd[2211]: Failed password for admin from {0} port 52166 ssh2\r\n\r\n"
      "Please investigate and let us know what you find.\r\n\r\n"
      "Regards,\r\nNetwork operations, ISP {4}\r\n",
      Address(i), Url(i), i % 60, (i + 3) % 60, i % 97);
  return Headers(i, fmt::format("SSH brute force and phishing from {} (case {})", Address(i), i),
                 "text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit\r\n") +
         "\r\n" + body;
}

std::string MultipartReport(int i) {
  // A few KB of evidence, different in every message, as an attached log file.
  std::string log;
  for (int line = 0; log.size() < 3000; ++line) {
    log += fmt::format(
        "2026-11-27T08:{:02}:{:02}+09:00 fw01 DROP IN=eth0 SRC={} DST=203.0.113.{} PROTO=TCP SPT={} DPT=445\n",
        line / 60 % 60, line % 60, Address(i), 1 + line % 250, 40000 + (i + line) % 20000);
  }
  const std::string boundary = fmt::format("=_bench_{}_boundary", i);
  return Headers(i, fmt::format("SMB scanning from {} - firewall log attached", Address(i)),
                 fmt::format("multipart/mixed; boundary=\"{}\"", boundary)) +
         "\r\nThis is a multi-part message in MIME format.\r\n\r\n--" + boundary +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
         fmt::format(
             "Hello,\r\n\r\nOur firewall dropped SMB scans from {} (attached, times JST). The same host\r\n"
             "appears in reports about {} .\r\n\r\nRegards,\r\nSOC team\r\n",
             Address(i), Url(i)) +
         "\r\n--" + boundary +
         fmt::format(
             "\r\nContent-Type: text/plain; name=\"fw-{0}.log\"\r\nContent-Transfer-Encoding: base64\r\n"
             "Content-Disposition: attachment; filename=\"fw-{0}.log\"\r\n\r\n",
             i) +
         Base64Lines(log) + "\r\n--" + boundary + "--\r\n";
}

std::string JapaneseReport(int i) {
  const std::string subject = fmt::format("不正アクセスの報告（{}）", Address(i));
  const std::vector<std::string> lines = {
      "CSIRT ご担当者様",
      "",
      fmt::format("貴組織のネットワークにあるホスト {} から、当社サーバへの不正ログインの試行を", Address(i)),
      fmt::format("検知しました。また、同ホストは {} でフィッシングサイトを公開しています。", Url(i)),
      "ご確認のうえ、対応をお願いいたします。",
      "",
      fmt::format("受付番号 {} セキュリティ運用センター", i),
  };
  std::string body;
  for (const auto& line : lines) body += ToIso2022Jp(line) + "\r\n";
  return Headers(i, "=?ISO-2022-JP?B?" + Base64(ToIso2022Jp(subject)) + "?=", "text/plain; charset=ISO-2022-JP",
                 "Content-Transfer-Encoding: 7bit\r\n") +
         "\r\n" + body;
}

// Half plain reports, a quarter with an attachment, a quarter in ISO-2022-JP.
std::vector<std::string> Messages(int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0:
      case 1:
        out.push_back(PlainReport(i));
        break;
      case 2:
        out.push_back(MultipartReport(i));
        break;
      default:
        out.push_back(JapaneseReport(i));
    }
  }
  return out;
}

int Emit(const fs::path& dir, const std::vector<std::string>& messages) {
  fs::create_directories(dir);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const fs::path file = dir / fmt::format("{:06}.eml", i + 1);
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr) Die("writing", file.string());
    const bool ok = std::fwrite(messages[i].data(), 1, messages[i].size(), out) == messages[i].size();
    if (std::fclose(out) != 0 || !ok) Die("writing", file.string());
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Floors

double GMimeFloor(const std::vector<std::string>& messages) {
  g_mime_init();
  const auto start = SteadyClock::now();
  for (const auto& raw : messages) {
    GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
    GMimeParser* parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
    if (message == nullptr) Die("GMime", "a generated message did not parse");
    g_object_unref(message);
    g_object_unref(parser);
    g_object_unref(stream);
  }
  return Seconds(SteadyClock::now() - start);
}

double ParseFloor(const std::vector<std::string>& messages, std::vector<core::InboundMail>& parsed) {
  const intake::mail::MailParseOptions options;
  parsed.clear();
  parsed.reserve(messages.size());
  const auto start = SteadyClock::now();
  for (const auto& raw : messages) parsed.push_back(intake::mail::ParseMail(raw, options, nullptr));
  const double seconds = Seconds(SteadyClock::now() - start);
  for (const auto& mail : parsed) {
    if (!mail.flags.empty()) Die("ParseMail flagged a generated message", mail.flags.front() + ": " + mail.subject);
  }
  return seconds;
}

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE) Die(what, sqlite3_errmsg(db));
}

// A report row and a mail row per message, one transaction each, with the duplicate check the
// mail's unique Message-ID needs.
double SqliteFloor(const fs::path& file, const std::vector<std::string>& messages,
                   const std::vector<core::InboundMail>& parsed) {
  sqlite3* db = nullptr;
  Check(sqlite3_open(file.c_str(), &db), db, "open");
  Check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE reports (id INTEGER PRIMARY KEY, human_id TEXT UNIQUE, channel TEXT, reporter TEXT,"
                     " subject TEXT, body TEXT, tlp TEXT, received_at INTEGER);"
                     "CREATE TABLE mails (id INTEGER PRIMARY KEY, direction TEXT, message_id TEXT, report_id INTEGER,"
                     " from_address TEXT, subject TEXT, text TEXT, raw_sha256 TEXT, raw_size INTEGER, at INTEGER,"
                     " UNIQUE (direction, message_id))",
                     nullptr, nullptr, nullptr),
        db, "schema");
  sqlite3_stmt* report = nullptr;
  sqlite3_stmt* mail = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO reports (human_id, channel, reporter, subject, body, tlp, received_at)"
                           " VALUES (?, 'mail', ?, ?, ?, 'amber', ?)",
                           -1, &report, nullptr),
        db, "prepare");
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO mails (direction, message_id, report_id, from_address, subject, text,"
                           " raw_sha256, raw_size, at) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &mail, nullptr),
        db, "prepare");
  std::vector<std::string> shas;
  for (const auto& raw : messages) shas.push_back(common::Sha256Hex(raw));  // not timed: the rows' content
  const auto start = SteadyClock::now();
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const core::InboundMail& m = parsed[i];
    const std::string human_id = fmt::format("R-2026-{:06}", i + 1);
    Check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
    sqlite3_bind_text(report, 1, human_id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(report, 2, m.from_address.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(report, 3, m.subject.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(report, 4, m.text.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(report, 5, static_cast<sqlite3_int64>(i));
    Check(sqlite3_step(report), db, "insert report");
    sqlite3_reset(report);
    sqlite3_bind_text(mail, 1, m.message_id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(mail, 2, sqlite3_last_insert_rowid(db));
    sqlite3_bind_text(mail, 3, m.from_address.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(mail, 4, m.subject.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(mail, 5, m.text.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(mail, 6, shas[i].c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(mail, 7, static_cast<sqlite3_int64>(messages[i].size()));
    sqlite3_bind_int64(mail, 8, static_cast<sqlite3_int64>(i));
    Check(sqlite3_step(mail), db, "insert mail");
    sqlite3_reset(mail);
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  const double seconds = Seconds(SteadyClock::now() - start);
  sqlite3_finalize(report);
  sqlite3_finalize(mail);
  sqlite3_close(db);
  return seconds;
}

// ---------------------------------------------------------------------------------------------
// The real path, with the time spent in the BlobStore and in Store::Write added up on the way
// (wall time per call, so a writer waiting for the write lock counts as time in Write).

// This thread's CPU time: with other work on the machine, wall time mostly says how busy the disk
// was, CPU time what the code itself costs.
std::int64_t ThreadCpuNanos() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct Stopwatch {
  std::atomic<std::int64_t> wall_nanos{0};
  std::atomic<std::int64_t> cpu_nanos{0};
  template <typename F>
  auto Time(F&& f) {
    const auto start = SteadyClock::now();
    const std::int64_t cpu_start = ThreadCpuNanos();
    auto result = f();
    cpu_nanos += ThreadCpuNanos() - cpu_start;
    wall_nanos += std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
    return result;
  }
  double WallSeconds() const { return static_cast<double>(wall_nanos.load()) / 1e9; }
  double CpuSeconds() const { return static_cast<double>(cpu_nanos.load()) / 1e9; }
};

class TimedBlobs final : public core::BlobStore {
 public:
  // `pending`: pass PutPending / SyncPending through (the group-commit path); otherwise every blob
  // is stored with the durable Put (a file and a directory fsync each), as before group commit.
  // `inline_rows`: pass SealInline through (small blobs become rows of the message's transaction);
  // otherwise every blob goes to the blob files.
  TimedBlobs(core::BlobStore& inner, Stopwatch& watch, bool pending, bool inline_rows)
      : inner_(inner), watch_(watch), pending_(pending), inline_rows_(inline_rows) {}
  Result<std::string> Put(std::string_view content) override {
    return watch_.Time([&] { return inner_.Put(content); });
  }
  Result<Pending> PutPending(std::string_view content) override {
    if (!pending_) return core::BlobStore::PutPending(content);
    return watch_.Time([&] { return inner_.PutPending(content); });
  }
  Result<void> SyncPending(std::uint64_t ticket) override {
    if (!pending_) return {};
    return watch_.Time([&] { return inner_.SyncPending(ticket); });
  }
  Result<std::optional<core::SealedBlob>> SealInline(std::string_view content) override {
    if (!inline_rows_) return std::optional<core::SealedBlob>();
    return watch_.Time([&] { return inner_.SealInline(content); });
  }
  Result<std::string> Get(std::string_view sha256) override { return inner_.Get(sha256); }
  Result<bool> Contains(std::string_view sha256) override { return inner_.Contains(sha256); }

 private:
  core::BlobStore& inner_;
  Stopwatch& watch_;
  bool pending_;
  bool inline_rows_;
};

class TimedStore final : public core::Store {
 public:
  TimedStore(core::Store& inner, Stopwatch& watch) : inner_(inner), watch_(watch) {}
  Result<void> Write(const std::function<Result<void>(core::WriteTx&)>& body) override {
    ++transactions_;
    return watch_.Time([&] { return inner_.Write(body); });
  }
  Result<void> Read(const std::function<Result<void>(core::StoreReader&)>& body) override { return inner_.Read(body); }
  int transactions() const { return transactions_.load(); }

 private:
  core::Store& inner_;
  Stopwatch& watch_;
  std::atomic<int> transactions_{0};  // write transactions begun (committed or not)
};

// How the deliveries commit. kGroupCommit is what MailPipeline does; the others, with --compare.
enum class Mode {
  kBefore,       // a transaction per message, each blob fsynced with its directory by its caller
  kGroupCommit,  // shared transactions (core::WriteGroup), small blobs rows in them
  kGroupSync,    // shared transactions, blob files written unsynced and synced once per group (syncfs)
  kGroupFiles,   // shared transactions, each blob a file fsynced by its caller (before inline rows)
};
std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kBefore:
      return "per-message";
    case Mode::kGroupCommit:
      return "group-commit";
    case Mode::kGroupSync:
      return "group-commit+syncfs";
    case Mode::kGroupFiles:
      return "group-commit+files";
  }
  return "";
}
std::string_view ModeLabel(Mode mode) {
  switch (mode) {
    case Mode::kBefore:
      return ", a commit per message (before)";
    case Mode::kGroupCommit:
      return "";
    case Mode::kGroupSync:
      return ", blob files synced per group (syncfs)";
    case Mode::kGroupFiles:
      return ", blob files fsynced each (before inline rows)";
  }
  return "";
}

struct PathRun {
  int threads = 1;
  Mode mode = Mode::kGroupCommit;
  double seconds = 0;
  // Summed over threads: wall time, and CPU time, in BlobStore::Put, in Store::Write, in all.
  double blob_seconds = 0;
  double write_seconds = 0;
  double blob_cpu = 0;
  double write_cpu = 0;
  double cpu = 0;
  int stored = 0;
  int acks = 0;
  int transactions = 0;
};

core::Principal Mailgate() {
  core::Principal p = core::Principal::LocalOperator();
  p.username = "mailgate";
  return p;
}

PathRun RealPath(const fs::path& dir, const std::vector<std::string>& messages, const extract::Extractor& extractor,
                 int threads, Mode mode) {
  fs::create_directories(dir);
  auto store = store::sqlite::OpenSqliteStore(dir / "hikeshi.db");
  if (!store) Die("open store", store.error().message());
  auto blobs =
      store::files::OpenFileBlobStore(dir / "blobs", dir / "keys" / "blob.key", true, mode == Mode::kGroupSync);
  if (!blobs) Die("open blob store", blobs.error().message());
  core::SystemClock clock;
  core::Constituencies constituencies(**store, clock);
  for (int c = 0; c < kConstituencies; ++c) {
    auto added = constituencies.Add(
        core::Principal::LocalOperator(),
        {fmt::format("net-{}", c), "", {fmt::format("10.{}.0.0/16", c)}, {}, {fmt::format("example-{}.jp", c)}});
    if (!added) Die("add constituency", added.error().message());
  }
  Stopwatch blob_watch;
  Stopwatch write_watch;
  // As the app opens it (app/store_factory.cpp, OpenMailBlobStore): rows first, then the files.
  auto key = store::files::LoadBlobKey(dir / "keys" / "blob.key", false);
  if (!key) Die("blob key", key.error().message());
  auto mail_blobs = core::MakeInlineBlobStore(**store, std::move(*blobs), std::move(*key), std::size_t{256} << 10);
  TimedBlobs timed_blobs(*mail_blobs, blob_watch, mode != Mode::kBefore, mode == Mode::kGroupCommit);
  TimedStore timed_store(**store, write_watch);
  core::MailIngestOptions ingest_options;
  ingest_options.team_address = "csirt@example.net";
  ingest_options.team_name = "Example CSIRT";
  ingest_options.max_group = mode == Mode::kBefore ? 1 : 64;
  core::MailIngest ingest(timed_store, clock, ingest_options);
  intake::pipeline::MailPipeline pipeline(timed_store, timed_blobs, clock, &extractor, nullptr, ingest, {});

  std::atomic<std::size_t> next{0};
  std::atomic<int> stored{0};
  std::atomic<int> acks{0};
  const auto principal = Mailgate();
  std::atomic<std::int64_t> cpu_nanos{0};
  const auto deliver = [&] {
    const std::int64_t cpu_start = ThreadCpuNanos();
    for (std::size_t i; (i = next++) < messages.size();) {
      auto receipt = pipeline.Deliver(principal, messages[i]);
      if (!receipt) Die("deliver", receipt.error().message());
      if (receipt->outcome == core::MailOutcome::kStored) ++stored;
      if (receipt->ack == "queued") ++acks;
    }
    cpu_nanos += ThreadCpuNanos() - cpu_start;
  };
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) workers.emplace_back(deliver);
  deliver();
  for (auto& w : workers) w.join();
  PathRun run;
  run.threads = threads;
  run.mode = mode;
  run.seconds = Seconds(SteadyClock::now() - start);
  run.blob_seconds = blob_watch.WallSeconds();
  run.write_seconds = write_watch.WallSeconds();
  run.blob_cpu = blob_watch.CpuSeconds();
  run.write_cpu = write_watch.CpuSeconds();
  run.cpu = static_cast<double>(cpu_nanos.load()) / 1e9;
  run.stored = stored.load();
  run.acks = acks.load();
  run.transactions = timed_store.transactions();
  return run;
}

// What `hikeshi mailgate`, one process per message, pays before its first Deliver, in seconds: the
// store (schema check), the extractor (patterns compiled, public suffix list loaded), the blob key.
struct Startup {
  double store = 0;
  double extractor = 0;
  double blobs = 0;
};

Startup StartupSeconds(const fs::path& dir) {
  Startup out;
  auto start = SteadyClock::now();
  auto store = store::sqlite::OpenSqliteStore(dir / "hikeshi.db");
  if (!store) Die("reopen store", store.error().message());
  out.store = Seconds(SteadyClock::now() - start);
  start = SteadyClock::now();
  auto extractor = extract::Extractor::Create();
  if (!extractor) Die("extractor", extractor.error().message());
  out.extractor = Seconds(SteadyClock::now() - start);
  start = SteadyClock::now();
  auto blobs = store::files::OpenFileBlobStore(dir / "blobs", dir / "keys" / "blob.key", false);
  if (!blobs) Die("reopen blob store", blobs.error().message());
  out.blobs = Seconds(SteadyClock::now() - start);
  return out;
}

std::string FileSystemOf(const fs::path& dir) {
  struct statfs info {};
  if (::statfs(dir.c_str(), &info) != 0) return "unknown";
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0xEF53:
      return "ext2/3/4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return fmt::format("0x{:x}", static_cast<unsigned long>(info.f_type));
  }
}

std::vector<int> ParseThreads(std::string_view list) {
  std::vector<int> out;
  for (std::size_t pos = 0; pos <= list.size();) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const int n = std::atoi(std::string(list.substr(pos, comma - pos)).c_str());
    if (n < 1 || n > 64) Die("--threads", "each count must be 1..64");
    out.push_back(n);
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 3000;
  std::vector<int> thread_counts = {1, 4, 8, 16};  // 16: the LMTP listener's deliveries at once
  fs::path base = fs::temp_directory_path();
  bool json = false;
  bool compare = false;
  fs::path emit;
  for (int a = 1; a < argc; ++a) {
    const std::string_view arg = argv[a];
    if (arg == "--messages" && a + 1 < argc) {
      n = std::atoi(argv[++a]);
    } else if (arg == "--threads" && a + 1 < argc) {
      thread_counts = ParseThreads(argv[++a]);
    } else if (arg == "--dir" && a + 1 < argc) {
      base = argv[++a];
    } else if (arg == "--emit" && a + 1 < argc) {
      emit = argv[++a];
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--compare") {
      compare = true;
    } else {
      fmt::print(stderr,
                 "usage: mail_bench [--messages N] [--threads 1,4,8,16] [--compare] [--dir PATH] [--json]\n"
                 "  --compare: also run each thread count as before group commit (a transaction per\n"
                 "             message), with every blob a file fsynced by its caller (as before blobs\n"
                 "             became rows) and with blob files synced once per group (syncfs)\n"
                 "       mail_bench --emit DIR [--messages N]\n");
      return 2;
    }
  }
  if (n < 4) Die("--messages", "at least 4");
  if (!emit.empty()) return Emit(emit, Messages(n));
  common::InitCrypto();
  store::sqlite::ConfigureSqliteLibrary();  // before the baseline's own database: the same settings
  const fs::path dir = base / fmt::format("hikeshi-mail-bench-{}", std::random_device{}());
  fs::create_directories(dir);

  const std::vector<std::string> messages = Messages(n);
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();

  const double gmime_s = GMimeFloor(messages);
  std::vector<core::InboundMail> parsed;
  const double parse_s = ParseFloor(messages, parsed);
  const double sqlite_s = SqliteFloor(dir / "floor.db", messages, parsed);

  auto extractor = extract::Extractor::Create();
  if (!extractor) Die("extractor", extractor.error().message());
  std::vector<PathRun> runs;
  for (const int threads : thread_counts) {
    for (const Mode mode : {Mode::kBefore, Mode::kGroupFiles, Mode::kGroupSync, Mode::kGroupCommit}) {
      if (mode != Mode::kGroupCommit && !compare) continue;
      runs.push_back(RealPath(dir / fmt::format("run-{}-{}", threads, static_cast<int>(mode)), messages, **extractor,
                              threads, mode));
      if (runs.back().stored != n) Die("deliver", fmt::format("{} of {} messages stored", runs.back().stored, n));
    }
  }
  const Startup startup =
      StartupSeconds(dir / fmt::format("run-{}-{}", thread_counts.front(), static_cast<int>(Mode::kGroupCommit)));
  fs::remove_all(dir);

  const auto rate = [n](double seconds) { return n / seconds; };
  const double floor_rate = rate(sqlite_s);
  if (json) {
    std::string path_json;
    for (const auto& r : runs) {
      path_json += fmt::format(
          "{}{{\"threads\":{},\"mode\":\"{}\",\"messages_per_s\":{:.1f},\"ratio_to_sqlite_floor\":{:.3f},\"blob_put_"
          "s\":{:.3f},"
          "\"store_write_s\":{:.3f},\"cpu_s\":{:.3f},\"blob_put_cpu_s\":{:.3f},\"store_write_cpu_s\":{:.3f},"
          "\"acks_queued\":{}}}",
          path_json.empty() ? "" : ",", r.threads, ModeName(r.mode), rate(r.seconds), rate(r.seconds) / floor_rate,
          r.blob_seconds, r.write_seconds, r.cpu, r.blob_cpu, r.write_cpu, r.acks);
    }
    fmt::print(
        "{{\"messages\":{},\"bytes\":{},\"dir\":\"{}\",\"filesystem\":\"{}\",\"gmime_parse_per_s\":{:.1f},"
        "\"parse_mail_per_s\":{:.1f},\"sqlite_floor_per_s\":{:.1f},\"mailgate_startup_ms\":{{\"store\":{:.1f},"
        "\"extractor\":{:.1f},\"blobs\":{:.1f}}},\"runs\":[{}]}}\n",
        n, bytes, base.string(), FileSystemOf(base), rate(gmime_s), rate(parse_s), floor_rate, startup.store * 1000,
        startup.extractor * 1000, startup.blobs * 1000, path_json);
    return 0;
  }
  fmt::print("{} messages ({} plain, {} multipart with a ~4 KB base64 attachment, {} ISO-2022-JP), {:.1f} MB\n", n,
             (n + 3) / 4 + (n + 2) / 4, (n + 1) / 4, n / 4, static_cast<double>(bytes) / 1e6);
  double load[3] = {0, 0, 0};
  (void)::getloadavg(load, 3);
  fmt::print(
      "data in {} ({}); durable: WAL + synchronous=FULL, blobs up to 256 KiB rows of the commit naming them\n"
      "(larger ones: files synced before it)\n",
      base.string(), FileSystemOf(base));
  fmt::print("load average at the end: {:.2f} {:.2f} {:.2f} on {} cores\n\n", load[0], load[1], load[2],
             std::thread::hardware_concurrency());
  fmt::print("| measure | messages/s | ratio to the SQLite floor |\n|---|---|---|\n");
  fmt::print("| floor: GMime parse only (g_mime_parser_construct_message) | {:.0f} | |\n", rate(gmime_s));
  fmt::print("| floor: ParseMail only (decode, charsets, libmagic) | {:.0f} | |\n", rate(parse_s));
  fmt::print("| floor: bare SQLite, report + mail row, 1 tx per message | {:.0f} | 1.00 |\n", floor_rate);
  for (const auto& r : runs) {
    fmt::print("| MailPipeline::Deliver, {} thread{}{} | **{:.0f}** | {:.2f} |\n", r.threads, r.threads == 1 ? "" : "s",
               ModeLabel(r.mode), rate(r.seconds), rate(r.seconds) / floor_rate);
  }
  fmt::print(
      "\nwhere the time goes, ms per message (wall / CPU of the delivering threads, summed over threads;\n"
      "BlobStore is sealing for a row, or writing a file; Store::Write includes inserting the blob rows,\n"
      "waiting for the single writer and, grouped, the blob file sync also counted under BlobStore):\n");
  fmt::print(
      "| threads | Deliver wall / CPU | BlobStore wall / CPU | Store::Write wall / CPU | parse, extract, route "
      "CPU | messages per transaction |\n"
      "|---|---|---|---|---|---|\n");
  for (const auto& r : runs) {
    const double per = 1000.0 / n;
    fmt::print("| {}{} | {:.3f} / {:.3f} | {:.3f} / {:.3f} | {:.3f} / {:.3f} | {:.3f} | {:.2f} |\n", r.threads,
               ModeLabel(r.mode), r.seconds * r.threads * per, r.cpu * per, r.blob_seconds * per, r.blob_cpu * per,
               r.write_seconds * per, r.write_cpu * per, (r.cpu - r.blob_cpu - r.write_cpu) * per,
               r.transactions > 0 ? static_cast<double>(n) / r.transactions : 0.0);
  }
  fmt::print("\nacknowledgements queued: {} of {} (at most 5 per sender per hour, {} senders)\n", runs.front().acks, n,
             kSenders);
  fmt::print(
      "start-up before the first message, paid by every `hikeshi mailgate` process (one per message): {:.1f} ms\n"
      "  (store {:.1f} ms, extractor {:.1f} ms, blob store {:.1f} ms)\n",
      (startup.store + startup.extractor + startup.blobs) * 1000, startup.store * 1000, startup.extractor * 1000,
      startup.blobs * 1000);
  return 0;
}
