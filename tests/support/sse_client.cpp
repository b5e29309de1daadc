#include "support/sse_client.hpp"

#include <algorithm>
#include <charconv>

namespace hikeshi::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) { return LowerAscii(x) == LowerAscii(y); }) != haystack.end();
}

Result<HttpClientResponse> ParseHead(std::string_view head) {
  HttpClientResponse out;
  const auto line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  const auto first_space = status_line.find(' ');
  if (first_space == std::string_view::npos) return Fail(Error::InvalidArgument("bad status line"));
  out.version = std::string(status_line.substr(0, first_space));
  const std::string_view code = status_line.substr(first_space + 1, 3);
  const auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), out.status);
  if (ec != std::errc()) return Fail(Error::InvalidArgument("bad status code"));
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 2);
  }
  return out;
}

}  // namespace

Result<SseStream> SseStream::Open(std::uint16_t port, const std::string& target,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  std::chrono::milliseconds timeout) {
  HIKESHI_TRY(HttpConnection connection, HttpConnection::Connect(port, "127.0.0.1", timeout));
  connection.set_timeout(timeout);
  headers.emplace_back("Accept", "text/event-stream");
  HIKESHI_CHECK(connection.Send({.method = "GET", .target = target, .headers = std::move(headers), .body = ""}));
  SseStream stream(std::move(connection));
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    const auto end = stream.connection_.pending().find("\r\n\r\n");
    if (end != std::string::npos) {
      HIKESHI_TRY(stream.head_, ParseHead(std::string_view(stream.connection_.pending()).substr(0, end)));
      stream.connection_.Consume(end + 4);
      break;
    }
    HIKESHI_TRY(const bool more, stream.Receive(deadline));
    if (!more) return Fail(Error::Unavailable("the server closed the connection before the response head"));
  }
  stream.chunked_ = ContainsIgnoreCase(stream.head_.Header("Transfer-Encoding"), "chunked");
  HIKESHI_CHECK(stream.Decode());
  return stream;
}

Result<bool> SseStream::Receive(SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return Fail(Error::DeadlineExceeded("no event within the timeout"));
  HIKESHI_TRY(const bool more, connection_.ReadMore(left));
  if (!more) closed_ = true;
  if (head_.status != 0) {
    HIKESHI_CHECK(Decode());
  }
  return more;
}

Result<void> SseStream::Decode() {
  const std::string& raw = connection_.pending();
  if (!chunked_) {
    text_ += raw;
    connection_.Consume(raw.size());
    return {};
  }
  for (;;) {
    const auto line_end = raw.find("\r\n");
    if (line_end == std::string::npos) return {};
    std::size_t size = 0;
    const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + line_end, size, 16);
    if (ec != std::errc()) return Fail(Error::InvalidArgument("bad chunk size line: " + raw.substr(0, line_end)));
    if (size == 0) {  // the last chunk: the stream is over
      closed_ = true;
      connection_.Consume(raw.size());
      return {};
    }
    if (raw.size() < line_end + 2 + size + 2) return {};
    text_.append(raw, line_end + 2, size);
    connection_.Consume(line_end + 2 + size + 2);
  }
}

Result<SseEvent> SseStream::Next(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    const auto end = text_.find("\n\n", parsed_);
    if (end != std::string::npos) {
      std::string_view block = std::string_view(text_).substr(parsed_, end - parsed_);
      parsed_ = end + 2;
      SseEvent event;
      bool has_data = false;
      while (!block.empty()) {
        const auto line_end = block.find('\n');
        const std::string_view line = block.substr(0, line_end);
        block.remove_prefix(line_end == std::string_view::npos ? block.size() : line_end + 1);
        if (line.empty() || line.front() == ':') continue;
        const auto colon = line.find(':');
        const std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "id") {
          event.id = std::string(value);
          last_id_ = event.id;
        } else if (field == "event") {
          event.type = std::string(value);
        } else if (field == "data") {
          if (has_data) event.data += '\n';
          event.data += value;
          has_data = true;
        }
      }
      if (has_data || !event.type.empty()) return event;
      continue;
    }
    if (closed_) return Fail(Error::Unavailable("the server ended the stream"));
    HIKESHI_TRY([[maybe_unused]] const bool more, Receive(deadline));
  }
}

Result<bool> SseStream::WaitForEnd(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!closed_) {
    auto more = Receive(deadline);
    if (!more) {
      if (more.error().code() == ErrorCode::kDeadlineExceeded) return false;
      return Fail(more.error());
    }
  }
  return true;
}

}  // namespace hikeshi::testing
