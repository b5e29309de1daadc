#include "mail_commands.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "exit_codes.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

struct Tally {
  std::size_t stored = 0;
  std::size_t threaded = 0;
  std::size_t duplicate = 0;
  std::size_t failed = 0;
  std::size_t parse_failed = 0;
  std::size_t total() const { return stored + threaded + duplicate + failed; }
};

void Count(Tally& tally, const Result<core::MailReceipt>& receipt, const std::string& where) {
  if (!receipt) {
    ++tally.failed;
    fmt::print(stderr, "{}: not stored: {}\n", where, receipt.error().message());
    return;
  }
  switch (receipt->outcome) {
    case core::MailOutcome::kStored:
      ++tally.stored;
      break;
    case core::MailOutcome::kThreaded:
      ++tally.threaded;
      break;
    case core::MailOutcome::kDuplicate:
      ++tally.duplicate;
      break;
  }
  if (std::find(receipt->flags.begin(), receipt->flags.end(), "parse_failed") != receipt->flags.end()) {
    ++tally.parse_failed;
  }
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::NotFound("cannot open " + path.string() + ": " + std::strerror(errno)));
  std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return Fail(Error::Unavailable("cannot read " + path.string()));
  return data;
}

// Splits an mbox into messages: each starts at a line beginning "From " after a blank line (or at
// the start). ">From " lines are unquoted one level (mboxrd), and the separator line is dropped.
std::vector<std::string> SplitMbox(std::string_view box) {
  std::vector<std::string> messages;
  std::string current;
  bool in_message = false;
  bool previous_blank = true;
  std::size_t pos = 0;
  while (pos < box.size()) {
    std::size_t end = box.find('\n', pos);
    end = end == std::string_view::npos ? box.size() : end + 1;
    std::string_view line = box.substr(pos, end - pos);
    pos = end;
    if (line.starts_with("From ") && previous_blank) {
      if (in_message) messages.push_back(std::move(current));
      current.clear();
      in_message = true;
      previous_blank = false;
      continue;
    }
    std::size_t quotes = 0;
    while (quotes < line.size() && line[quotes] == '>') ++quotes;
    if (quotes > 0 && line.substr(quotes).starts_with("From ")) line.remove_prefix(1);
    if (!in_message) in_message = true;  // no leading separator: one message
    current.append(line);
    previous_blank = line == "\n" || line == "\r\n";
  }
  if (in_message && !current.empty()) messages.push_back(std::move(current));
  return messages;
}

void Progress(const Tally& tally, std::chrono::steady_clock::time_point started, std::size_t of) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(stderr, "{}/{} messages: {} stored, {} threaded, {} duplicate, {} failed ({:.0f} messages/s)\n",
             tally.total(), of, tally.stored, tally.threaded, tally.duplicate, tally.failed,
             tally.total() / std::max(s, 1e-6));
}

// Reads standard input to its end. Returns false (having said why) when it fails or is too large.
bool ReadStdin(std::string& raw, std::size_t hard_limit_bytes, int& exit_code) {
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(0, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fmt::print(stderr, "hikeshi mailgate: cannot read the message: {}\n", std::strerror(errno));
      exit_code = kExitTempFail;
      return false;
    }
    if (n == 0) break;
    if (raw.size() + static_cast<std::size_t>(n) > hard_limit_bytes) {
      fmt::print(stderr, "hikeshi mailgate: message larger than {} bytes refused\n", hard_limit_bytes);
      exit_code = 65;  // EX_DATAERR: the MTA bounces it; retrying cannot help
      return false;
    }
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

std::size_t CollectBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < 64 * 1024) out->append(data, size * count);
  return size * count;
}

}  // namespace

core::Principal MailGateway(std::string name) {
  core::Principal p = core::Principal::LocalOperator();
  p.username = std::move(name);
  return p;
}

int Mailgate(MailServices& mail, std::size_t hard_limit_bytes) {
  std::string raw;
  int code = 0;
  if (!ReadStdin(raw, hard_limit_bytes, code)) return code;
  auto receipt = mail.pipeline->Deliver(MailGateway("mailgate"), raw);
  if (!receipt) {
    // Whatever went wrong, the message is not stored: the MTA must keep it and try again.
    fmt::print(stderr, "hikeshi mailgate: message not stored, try again later: {}\n", receipt.error().message());
    return kExitTempFail;
  }
  fmt::print(stderr, "hikeshi mailgate: {}{}{} (acknowledgement: {})\n", core::MailOutcomeName(receipt->outcome),
             receipt->report.empty() ? "" : " " + receipt->report,
             receipt->incident.empty() ? "" : " " + receipt->incident, receipt->ack);
  return kExitOk;
}

int MailgateRemote(const std::string& url, const std::string& token, std::size_t hard_limit_bytes) {
  std::string raw;
  int code = 0;
  if (!ReadStdin(raw, hard_limit_bytes, code)) return code;
  if (token.empty()) {
    fmt::print(stderr, "hikeshi mailgate: --url needs a token (HIKESHI_TOKEN or --token-file)\n");
    return kExitTempFail;
  }
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  CURL* curl = initialised ? curl_easy_init() : nullptr;
  if (curl == nullptr) {
    fmt::print(stderr, "hikeshi mailgate: cannot start an HTTP client\n");
    return kExitTempFail;
  }
  std::string target = url;
  while (target.ends_with('/')) target.pop_back();
  target += "/api/v1/mail";
  const std::string authorization = "Authorization: Bearer " + token;
  curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
  headers = curl_slist_append(headers, "Content-Type: message/rfc822");
  headers = curl_slist_append(headers, "Expect:");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, target.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, raw.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode result = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (result != CURLE_OK) {
    fmt::print(stderr, "hikeshi mailgate: {} unreachable, try again later: {}\n", url, curl_easy_strerror(result));
    return kExitTempFail;
  }
  if (status == 200 || status == 201) {
    fmt::print(stderr, "hikeshi mailgate: {}\n", body);
    return kExitOk;
  }
  fmt::print(stderr, "hikeshi mailgate: the server answered {}: {}\n", status, body);
  // Too large can never succeed; anything else (down, busy, misconfigured token) may, later.
  return status == 413 ? 65 : kExitTempFail;
}

Result<int> IngestMail(MailServices& mail, const IngestMailOptions& o) {
  const fs::path path(o.path);
  std::error_code ec;
  if (!fs::exists(path, ec)) return Fail(Error::NotFound(o.path));
  const auto principal = MailGateway("ingest");
  const auto started = std::chrono::steady_clock::now();
  Tally tally;

  // The messages (files read lazily, so a large maildir is not held in memory), then delivered by
  // a few workers at once: concurrent deliveries share commits (group commit).
  std::vector<fs::path> files;
  std::vector<std::string> mbox;
  if (fs::is_directory(path, ec)) {
    // A maildir keeps messages in cur/ and new/; any other directory: every regular file in it.
    const bool maildir = fs::is_directory(path / "cur", ec) || fs::is_directory(path / "new", ec);
    const std::vector<fs::path> dirs = maildir ? std::vector<fs::path>{path / "cur", path / "new"} : std::vector{path};
    for (const auto& dir : dirs) {
      if (!fs::is_directory(dir, ec)) continue;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && !entry.path().filename().string().starts_with(".")) {
          files.push_back(entry.path());
        }
      }
    }
    std::sort(files.begin(), files.end());
  } else {
    HIKESHI_TRY(const std::string box, ReadFile(path));
    mbox = SplitMbox(box);
  }
  const std::size_t of = files.empty() ? mbox.size() : files.size();
  std::mutex tally_mutex;
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next++) < of;) {
      Result<core::MailReceipt> receipt = Fail(Error::Internal("not delivered"));
      std::string where;
      if (!files.empty()) {
        where = files[i].string();
        auto raw = ReadFile(files[i]);
        receipt = raw ? mail.pipeline->Deliver(principal, *raw) : Result<core::MailReceipt>(Fail(raw.error()));
      } else {
        where = fmt::format("{} message {}", o.path, i + 1);
        receipt = mail.pipeline->Deliver(principal, mbox[i]);
      }
      std::lock_guard lock(tally_mutex);
      Count(tally, receipt, where);
      if (!o.quiet && tally.total() % 1000 == 0) Progress(tally, started, of);
    }
  };
  const int workers = std::clamp(o.workers, 1, 16);
  std::vector<std::thread> threads;
  for (int w = 1; w < workers && static_cast<std::size_t>(w) < of; ++w) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(
      "{} messages in {:.1f}s: {} stored, {} threaded, {} duplicate, {} failed ({} could not be parsed and "
      "are kept raw, flagged parse_failed)\n",
      tally.total(), s, tally.stored, tally.threaded, tally.duplicate, tally.failed, tally.parse_failed);
  return tally.failed == 0 ? kExitOk : kExitTempFail;
}

}  // namespace hikeshi::app
