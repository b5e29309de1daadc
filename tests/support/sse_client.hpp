#pragma once
// A client for server-sent events (text/event-stream) on top of HttpConnection: sends one GET,
// reads the response head, then hands out events as they arrive, undoing chunked framing. Every
// wait has a deadline, so a test waiting for an event that never comes fails instead of hanging.
//
// Thread-safety: one SseStream per thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hikeshi/common/error.hpp"

#include "support/http_client.hpp"

namespace hikeshi::testing {

struct SseEvent {
  std::string id;    // the event's id field, or "" when it had none
  std::string type;  // the event field ("change", "reset"), or "" for a plain message
  std::string data;  // the data lines joined by "\n"
};

class SseStream {
 public:
  // Connects to 127.0.0.1:port, sends GET `target` with `headers` (Accept: text/event-stream is
  // added), and reads the response head; for a status other than 200 the body is not read.
  // Errors: those of HttpConnection.
  [[nodiscard]] static Result<SseStream> Open(std::uint16_t port, const std::string& target,
                                              std::vector<std::pair<std::string, std::string>> headers,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

  const HttpClientResponse& head() const { return head_; }

  // The next event that has a type or data; comments and id-only blocks are consumed on the way
  // (last_id() follows every id). Errors: kDeadlineExceeded when none arrives within `timeout`,
  // kUnavailable when the server ended the stream first.
  [[nodiscard]] Result<SseEvent> Next(std::chrono::milliseconds timeout);
  // Reads until the server closes the stream. Returns false if it is still open after `timeout`.
  [[nodiscard]] Result<bool> WaitForEnd(std::chrono::milliseconds timeout);

  // The body received so far, de-chunked, comments included.
  const std::string& text() const { return text_; }
  const std::string& last_id() const { return last_id_; }

 private:
  explicit SseStream(HttpConnection connection) : connection_(std::move(connection)) {}
  // Moves what has arrived from the connection into text_, undoing the chunked framing.
  Result<void> Decode();
  // Reads more bytes, waiting until `deadline`. False when the server closed the connection.
  Result<bool> Receive(std::chrono::steady_clock::time_point deadline);

  HttpConnection connection_;
  HttpClientResponse head_;
  bool chunked_ = false;
  bool closed_ = false;
  std::string text_;        // decoded body
  std::size_t parsed_ = 0;  // how much of text_ has become events
  std::string last_id_;
};

}  // namespace hikeshi::testing
