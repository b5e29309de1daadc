#pragma once
// The Mailer port over SMTP (libcurl): hands finished messages to a relay, "smtp://host:port"
// (STARTTLS when require_tls) or "smtps://host:port" (TLS from the first byte).
//
// Thread-safety: the returned Mailer may be used from several threads at once; each Send() runs
// its own SMTP session.

#include <chrono>
#include <memory>
#include <string>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/mailer.hpp"

namespace hikeshi::notify {

struct SmtpOptions {
  std::string url{};         // "smtp://relay.example:25" or "smtps://relay.example:465"; no user or password in it
  std::string username{};    // AUTH when not empty
  std::string password{};    // never logged, never in an error message
  bool require_tls = false;  // smtp:// then insists on STARTTLS, with the certificate verified
  // Bounds connecting and each wait for a server reply; a stalled transfer fails after as long.
  std::chrono::milliseconds timeout{30000};
};

// Checks options before use. Errors: kInvalidArgument when the URL is not smtp:// or smtps:// with
// a host, carries credentials, or when a username would be sent without TLS to a host other than
// the loopback address.
[[nodiscard]] Result<void> CheckSmtpOptions(const SmtpOptions& options);

// A Mailer sending through the relay in `options`. Send() returns kUnavailable when the relay
// cannot be reached, times out, answers 4xx or fails TLS (retry later), and kInvalidArgument for a
// 5xx answer or an envelope address it will not send to; either way the message names the relay's
// reply. Throws std::invalid_argument (a configuration error, at start-up) when CheckSmtpOptions()
// fails.
std::unique_ptr<core::Mailer> MakeSmtpMailer(SmtpOptions options);

}  // namespace hikeshi::notify
