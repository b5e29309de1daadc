#pragma once
// An SMTP server for tests, on 127.0.0.1 and an ephemeral port, running in its own threads inside
// the test process (or as the smtp_sink executable). It speaks enough ESMTP for libcurl, postfix and
// swaks (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT, AUTH PLAIN), keeps
// every message it accepts, and can be told to refuse at any stage with a given reply, so that a
// client's error handling meets a real server.
//
// Thread-safety: every member function may be called from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::testing {

struct SinkMessage {
  std::string helo;                     // the EHLO/HELO argument
  std::string auth_user;                // the AUTH PLAIN authentication identity, or ""
  std::string auth_password;            // the password that came with it, for asserting AUTH worked
  std::string mail_from;                // the reverse-path without brackets; "" for MAIL FROM:<>
  std::vector<std::string> recipients;  // forward-paths without brackets, in order
  std::string data;                     // the message after dot-unstuffing, up to and with the CRLF before "."
};

// Where a refusal is given: the greeting, or the reply to MAIL, RCPT, DATA, or to the final dot.
enum class SmtpStage { kGreeting, kMail, kRcpt, kData, kMessage };

struct SmtpSinkOptions {
  // Called (on a connection thread) for each message accepted, after it is stored.
  std::function<void(const SinkMessage&)> on_message{};
  bool offer_auth = false;  // advertise AUTH PLAIN (and accept any credentials)
};

class SmtpSink {
 public:
  // Listens on 127.0.0.1:0. Errors: kUnavailable when the socket cannot be set up.
  [[nodiscard]] static Result<std::unique_ptr<SmtpSink>> Start(SmtpSinkOptions options = {});
  ~SmtpSink();  // Stop()s
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  std::uint16_t port() const;
  // "smtp://127.0.0.1:<port>"
  std::string url() const;

  // From now on, answers `reply` (a whole reply line such as "451 4.3.0 try later", without CRLF)
  // at `stage` instead of accepting. A refused greeting closes the connection.
  void RefuseAt(SmtpStage stage, std::string reply);
  // Accepts at every stage again.
  void AcceptAll();

  // The messages accepted so far, in order.
  std::vector<SinkMessage> Messages() const;
  // Waits until at least `count` messages have arrived and returns them all.
  // Errors: kDeadlineExceeded, saying how many arrived, when `timeout` passes first.
  [[nodiscard]] Result<std::vector<SinkMessage>> WaitForMessages(std::size_t count,
                                                                 std::chrono::milliseconds timeout) const;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Stop();

  class Impl;
  explicit SmtpSink(std::unique_ptr<Impl> impl);  // use Start()

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hikeshi::testing
