#pragma once
// An LMTP server (RFC 2033) for mail intake: the MTA (postfix's lmtp transport, exim) hands each
// message over the socket and learns per recipient whether it was stored. Asio stays inside the
// .cpp; this header has plain types only.
//
// Every message goes to the deliver callback, and each recipient is answered only once it returns,
// so a 250 means "durably stored". Limits are enforced while reading: command line length, message
// size (never buffered beyond the limit), idle clients.
//
// Thread-safety: the deliver callback is called concurrently from a pool of threads, never from the
// network threads. Port() and Stop() may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::intake::lmtp {

struct LmtpEnvelope {
  std::string mail_from;                // reverse-path without brackets; "" for the null sender <>
  std::vector<std::string> recipients;  // accepted forward-paths without brackets, in RCPT order
  std::string client_address;           // "127.0.0.1", "::1"
};

// Called once per message after DATA, with the complete raw message (dot-unstuffed, line ends kept
// as received). Must return only after the message is durably stored, with one result per
// recipient, in order: ok, or an Error. kUnavailable, kResourceExhausted and kDeadlineExceeded
// answer 451 4.3.0 (the MTA retries), kTooLarge 552 5.3.4, anything else 451 as well: mail is
// never bounced because of our own bug. A callback that throws or returns the wrong number of
// results gets 451 for every recipient.
using LmtpDeliver = std::function<std::vector<Result<void>>(const LmtpEnvelope&, std::string raw)>;

struct LmtpOptions {
  std::string listen = "127.0.0.1:2424";  // "host:port" (IPv6 as "[::1]:2424"); port 0 picks a free one
  std::size_t max_message_bytes = 64 << 20;
  int threads = 2;                          // network threads
  // Deliveries in progress at once (the deliver callback's pool). Deliveries mostly wait for a
  // shared commit (group commit), so more of them than cores raise the rate: MTAs open up to 20
  // connections per destination (postfix's default), docs/PERFORMANCE.md has the figures.
  int delivery_threads = 16;
  std::chrono::seconds idle_timeout{300};   // waiting for a client's next bytes, or for it to read ours
  std::string hostname = "hikeshi";         // in the greeting and the LHLO reply
  std::chrono::seconds shutdown_grace{10};  // how long Stop() lets transactions in progress finish
};

class LmtpServer {
 public:
  // Binds, listens and starts serving on its own threads.
  // Errors: kInvalidArgument for a malformed listen address, hostname or thread count,
  // kUnavailable when the address cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<LmtpServer>> Start(LmtpOptions options, LmtpDeliver deliver);

  ~LmtpServer();  // Stop()s
  LmtpServer(const LmtpServer&) = delete;
  LmtpServer& operator=(const LmtpServer&) = delete;

  // The bound port.
  std::uint16_t Port() const;
  // Stops accepting; idle connections get 421 and are closed; a message being received or
  // delivered is finished and answered first (up to shutdown_grace). Returns once every thread
  // has stopped. Idempotent.
  void Stop();

  class Impl;
  explicit LmtpServer(std::unique_ptr<Impl> impl);  // use Start()

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hikeshi::intake::lmtp
