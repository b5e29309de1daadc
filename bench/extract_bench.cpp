// Observable extraction throughput, in MB/s on one core, over mixed English and Japanese prose
// with observables sprinkled in, next to two floors measured in the same run over the same bytes:
//   - memchr: one pass looking for a byte that never occurs (how fast memory can be read);
//   - hs_scan: Hyperscan with one literal pattern and a callback that does nothing (what any
//     Hyperscan-based extractor pays before it does any work of its own).
//
//   extract_bench [MIB] [RUNS]      (defaults: 32 MiB, 5 runs; the best run of each is reported)
//
// The corpus is generated from a fixed seed and cut into documents of about 4 KiB, the size of a
// typical report mail; each document is one Extract() call, as in intake. Time is this thread's CPU
// time (so "per core" holds on a machine busy with other work), best of RUNS; wall time is shown
// beside it.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <hs/hs.h>
#include <time.h>

#include "hikeshi/extract/extractor.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// std::mt19937_64 is specified bit for bit; distributions are not, so picks use the raw output.
struct Rng {
  std::mt19937_64 engine{20240401};
  std::size_t Below(std::size_t n) { return static_cast<std::size_t>(engine() % n); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }
};

const std::vector<std::string> kEnglish = {
    "We observed repeated login attempts against the mail gateway during the night.",
    "The affected host was isolated and a forensic image was taken before reinstalling it.",
    "Please find attached the logs covering the period in question, with times in UTC.",
    "The vendor released version 2.4.1 which addresses the issue; see report.pdf for details.",
    "Our monitoring flagged outbound traffic to an address that is not on the allow list.",
    "The phishing mail claimed to come from the finance department and asked for a password reset.",
    "Timestamps are in ISO 8601, for example 2024-01-15T12:34:56Z, unless noted otherwise.",
    "No customer data appears to have been accessed, but the investigation is still ongoing.",
    "The sample was uploaded to the sandbox and beaconed every sixty seconds, e.g. at 10:30:00.",
    "Kindly confirm receipt of this report and let us know the tracking number.",
};

const std::vector<std::string> kJapanese = {
    "本日未明、メールサーバに対する不審なログイン試行を多数検知しました。",
    "該当ホストはネットワークから切り離し、再インストール前にディスクイメージを取得しています。",
    "対象期間のログを添付しますので、ご確認のほどよろしくお願いいたします。",
    "ベンダーから修正版（バージョン2.4.1）が公開されており、詳細は添付の報告書.pdfをご参照ください。",
    "監視システムが許可リストにない宛先への通信を検知しました。",
    "経理部を装ったフィッシングメールが届き、パスワードの再設定を求められたとの報告がありました。",
    "現時点で顧客情報への不正アクセスは確認されていませんが、調査を継続しています。",
    "検体をサンドボックスで実行したところ、六十秒ごとに外部へ通信していました。",
    "受領のご連絡と、本件の管理番号をお知らせいただけますと幸いです。",
};

std::string Hex(Rng& rng, std::size_t digits) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) out += kHex[rng.Below(16)];
  return out;
}

// One observable as a handler would paste it, plain or defanged, sometimes full-width.
std::string Observable(Rng& rng) {
  const auto octet = [&] { return std::to_string(1 + rng.Below(254)); };
  const std::vector<std::string> tlds = {"com", "net", "org", "jp", "co.jp", "ne.jp", "info", "xyz"};
  const std::string host = fmt::format("host{}.example{}.{}", rng.Below(1000), rng.Below(50), rng.Pick(tlds));
  switch (rng.Below(12)) {
    case 0:
      return fmt::format("{}.{}.{}.{}", octet(), octet(), octet(), octet());
    case 1:
      return fmt::format("{}[.]{}[.]{}[.]{}", octet(), octet(), octet(), octet());
    case 2:
      return host;
    case 3:
      return fmt::format("https://{}/login/{}.php?id={}", host, Hex(rng, 6), rng.Below(100000));
    case 4:
      return fmt::format("hxxp://{}[.]{}/payload", fmt::format("evil{}", rng.Below(500)), rng.Pick(tlds));
    case 5:
      return fmt::format("abuse{}@{}", rng.Below(100), host);
    case 6:
      return Hex(rng, 32);
    case 7:
      return Hex(rng, 64);
    case 8:
      return fmt::format("CVE-20{}-{}", 10 + rng.Below(15), 1000 + rng.Below(50000));
    case 9:
      return fmt::format("AS{}", 64496 + rng.Below(15));
    case 10:
      return fmt::format("2001:db8:{:x}::{:x}", rng.Below(0xffff), rng.Below(0xffff));
    default:
      return fmt::format("{}.{}.{}.0/24", octet(), octet(), octet());
  }
}

// Paragraphs of prose, about one sentence in four carrying an observable, cut into documents.
std::vector<std::string> Corpus(std::size_t bytes) {
  Rng rng;
  std::vector<std::string> documents;
  std::string document;
  std::size_t total = 0;
  while (total < bytes) {
    const bool japanese = rng.Below(2) == 0;
    std::string sentence = japanese ? rng.Pick(kJapanese) : rng.Pick(kEnglish);
    if (rng.Below(4) == 0) {
      sentence = japanese ? "送信元" + Observable(rng) + "について：" + sentence
                          : "Regarding " + Observable(rng) + ": " + sentence;
    }
    document += sentence;
    document += rng.Below(5) == 0 ? "\n\n" : (japanese ? "" : " ");
    if (document.size() >= 4096) {
      total += document.size();
      documents.push_back(std::move(document));
      document.clear();
    }
  }
  return documents;
}

struct Timing {
  double cpu_seconds = 1e300;
  double wall_seconds = 1e300;
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

template <typename Pass>
Timing Best(int runs, Pass pass) {
  Timing best;
  for (int run = 0; run < runs; ++run) {
    const double cpu_start = ThreadCpuSeconds();
    const auto wall_start = Clock::now();
    pass();
    best.cpu_seconds = std::min(best.cpu_seconds, ThreadCpuSeconds() - cpu_start);
    best.wall_seconds = std::min(best.wall_seconds, std::chrono::duration<double>(Clock::now() - wall_start).count());
  }
  return best;
}

double Rate(std::size_t bytes, double seconds) { return static_cast<double>(bytes) / 1e6 / seconds; }

struct FreeDatabase {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct FreeScratch {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};

int Ignore(unsigned int, unsigned long long, unsigned long long, unsigned int, void*) { return 0; }

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? static_cast<std::size_t>(std::atol(argv[1])) : 32;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::vector<std::string> documents = Corpus(mib << 20);
  std::size_t bytes = 0;
  for (const std::string& document : documents) bytes += document.size();

  auto created = hikeshi::extract::Extractor::Create();
  if (!created) {
    fmt::print(stderr, "extractor: {}\n", created.error().message());
    return 1;
  }
  const hikeshi::extract::Extractor& extractor = **created;

  // Floor 1: read every byte once.
  std::size_t sink = 0;
  const auto memchr_time = Best(runs, [&] {
    for (const std::string& document : documents)
      sink += std::memchr(document.data(), 0x01, document.size()) != nullptr;
  });

  // Floor 2: Hyperscan, one literal, no work per match; one scan per document, like the extractor.
  hs_database_t* raw_db = nullptr;
  hs_compile_error_t* compile_error = nullptr;
  if (hs_compile("://", 0, HS_MODE_BLOCK, nullptr, &raw_db, &compile_error) != HS_SUCCESS) {
    fmt::print(stderr, "hs_compile: {}\n", compile_error->message);
    hs_free_compile_error(compile_error);
    return 1;
  }
  const std::unique_ptr<hs_database_t, FreeDatabase> db(raw_db);
  hs_scratch_t* raw_scratch = nullptr;
  if (hs_alloc_scratch(db.get(), &raw_scratch) != HS_SUCCESS) return 1;
  const std::unique_ptr<hs_scratch_t, FreeScratch> scratch(raw_scratch);
  const auto hs_time = Best(runs, [&] {
    for (const std::string& document : documents) {
      hs_scan(db.get(), document.data(), static_cast<unsigned int>(document.size()), 0, scratch.get(), Ignore, nullptr);
    }
  });

  // The extractor.
  std::size_t found = 0;
  std::size_t failures = 0;
  const auto extract_time = Best(runs, [&] {
    found = 0;
    for (const std::string& document : documents) {
      auto result = extractor.Extract(document);
      if (result) {
        found += result->size();
      } else {
        ++failures;
      }
    }
  });

  const double extract_rate = Rate(bytes, extract_time.cpu_seconds);
  const double hs_rate = Rate(bytes, hs_time.cpu_seconds);
  fmt::print("corpus: {:.1f} MB in {} documents, English and Japanese prose; {} observables per pass ({:.0f} per MB)\n",
             static_cast<double>(bytes) / 1e6, documents.size(), found,
             static_cast<double>(found) / (static_cast<double>(bytes) / 1e6));
  fmt::print("                                          CPU time     wall time\n");
  fmt::print("floor  memchr (read every byte)        {:9.1f} MB/s  {:9.1f} MB/s\n",
             Rate(bytes, memchr_time.cpu_seconds), Rate(bytes, memchr_time.wall_seconds));
  fmt::print("floor  hs_scan (1 literal, no work)    {:9.1f} MB/s  {:9.1f} MB/s\n", hs_rate,
             Rate(bytes, hs_time.wall_seconds));
  fmt::print(
      "extract (one core)                     {:9.1f} MB/s  {:9.1f} MB/s   {:.3f} of the hs_scan floor; target >= 200 "
      "MB/s\n",
      extract_rate, Rate(bytes, extract_time.wall_seconds), extract_rate / hs_rate);
  if (failures != 0 || sink == static_cast<std::size_t>(-1)) {
    fmt::print(stderr, "{} documents failed\n", failures);
    return 1;
  }
  return 0;
}
