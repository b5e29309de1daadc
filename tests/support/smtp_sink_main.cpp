// smtp_sink: the test SMTP sink as its own process, for end-to-end tests that drive the real
// hikeshi binary. It listens on 127.0.0.1 and an ephemeral port, writes that port to --port-file
// (atomically, so a reader never sees half of it), and stores each accepted message in --out as
// NNNNNN.eml (the data, dot-unstuffed) beside NNNNNN.envelope ("MAIL FROM:<...>" and one
// "RCPT TO:<...>" line per recipient); the .envelope is written last, so its presence means the
// message is complete. Runs until SIGTERM or SIGINT.
//
//   smtp_sink --port-file FILE --out DIR [--refuse STAGE=REPLY]... [--auth]
//   STAGE: greeting, mail, rcpt, data, message; e.g. --refuse 'rcpt=550 5.1.1 no such user'

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <pthread.h>

#include "support/smtp_sink.hpp"

namespace {

namespace fs = std::filesystem;
using hikeshi::testing::SinkMessage;
using hikeshi::testing::SmtpStage;

bool WriteFileAtomically(const fs::path& path, const std::string& content) {
  fs::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  return !ec;
}

bool ParseStage(std::string_view name, SmtpStage& stage) {
  if (name == "greeting")
    stage = SmtpStage::kGreeting;
  else if (name == "mail")
    stage = SmtpStage::kMail;
  else if (name == "rcpt")
    stage = SmtpStage::kRcpt;
  else if (name == "data")
    stage = SmtpStage::kData;
  else if (name == "message")
    stage = SmtpStage::kMessage;
  else
    return false;
  return true;
}

int Usage() {
  std::fputs("usage: smtp_sink --port-file FILE --out DIR [--refuse STAGE=REPLY]... [--auth]\n", stderr);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path port_file;
  fs::path out_dir;
  std::vector<std::pair<SmtpStage, std::string>> refusals;
  bool offer_auth = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--port-file" && has_value) {
      port_file = argv[++i];
    } else if (arg == "--out" && has_value) {
      out_dir = argv[++i];
    } else if (arg == "--refuse" && has_value) {
      std::string_view spec = argv[++i];
      std::size_t eq = spec.find('=');
      SmtpStage stage{};
      if (eq == std::string_view::npos || !ParseStage(spec.substr(0, eq), stage)) return Usage();
      refusals.emplace_back(stage, std::string(spec.substr(eq + 1)));
    } else if (arg == "--auth") {
      offer_auth = true;
    } else {
      return Usage();
    }
  }
  if (port_file.empty() || out_dir.empty()) return Usage();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "smtp_sink: cannot create %s: %s\n", out_dir.c_str(), ec.message().c_str());
    return 73;
  }

  // Block the stop signals before any thread starts, so that only sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::atomic<int> counter{0};
  hikeshi::testing::SmtpSinkOptions options;
  options.offer_auth = offer_auth;
  options.on_message = [&](const SinkMessage& message) {
    char stem[16];
    std::snprintf(stem, sizeof stem, "%06d", ++counter);
    std::string envelope = "MAIL FROM:<" + message.mail_from + ">\n";
    for (const auto& recipient : message.recipients) envelope += "RCPT TO:<" + recipient + ">\n";
    if (!WriteFileAtomically(out_dir / (std::string(stem) + ".eml"), message.data) ||
        !WriteFileAtomically(out_dir / (std::string(stem) + ".envelope"), envelope)) {
      std::fprintf(stderr, "smtp_sink: cannot write message %s into %s\n", stem, out_dir.c_str());
    }
  };
  auto sink = hikeshi::testing::SmtpSink::Start(std::move(options));
  if (!sink) {
    std::fprintf(stderr, "smtp_sink: %s\n", sink.error().message().c_str());
    return 69;
  }
  for (auto& [stage, reply] : refusals) (*sink)->RefuseAt(stage, reply);
  if (!WriteFileAtomically(port_file, std::to_string((*sink)->port()) + "\n")) {
    std::fprintf(stderr, "smtp_sink: cannot write %s\n", port_file.c_str());
    return 73;
  }
  int received = 0;
  sigwait(&signals, &received);
  (*sink)->Stop();
  return 0;
}
