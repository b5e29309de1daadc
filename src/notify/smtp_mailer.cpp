// SMTP submission with libcurl's easy interface: one easy handle, and so one SMTP session, per
// Send(). libcurl does the dot-stuffing and the final "." itself.

#include "hikeshi/notify/smtp_mailer.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

namespace hikeshi::notify {
namespace {

constexpr std::size_t kMaxAddressLength = 254;
constexpr std::size_t kMaxReplyInError = 400;

struct CurlEasyCleanup {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;

struct CurlSlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistFree>;

struct CurlUrlCleanup {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlCleanup>;

struct CurlFree {
  void operator()(char* text) const { curl_free(text); }
};
using CurlText = std::unique_ptr<char, CurlFree>;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("libcurl failed to initialise");
  });
}

// One part of a parsed URL, or "" when absent.
std::string UrlPart(CURLU* url, CURLUPart part) {
  char* raw = nullptr;
  if (curl_url_get(url, part, &raw, 0) != CURLUE_OK) return {};
  CurlText text(raw);
  return text ? std::string(text.get()) : std::string();
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host == "::1" || host.starts_with("127.");
}

// An envelope address as it goes between angle brackets: printable ASCII without blanks or brackets.
Result<void> CheckEnvelopeAddress(std::string_view address, std::string_view what) {
  bool ok =
      !address.empty() && address.size() <= kMaxAddressLength &&
      std::all_of(address.begin(), address.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '<' && c != '>'; });
  if (!ok) {
    std::string shown(address.substr(0, 100));
    std::replace_if(
        shown.begin(), shown.end(), [](char c) { return c < 0x20 || c == 0x7f; }, '?');
    return Fail(Error::InvalidArgument(fmt::format("{} '{}' is not a valid envelope address", what, shown)));
  }
  return {};
}

struct Upload {
  std::string_view data;
};

std::size_t ReadMessage(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, upload->data.size());
  std::memcpy(buffer, upload->data.data(), n);
  upload->data.remove_prefix(n);
  return n;
}

// Keeps the server's reply to the latest command. Commands (which may carry AUTH credentials) are
// only used as the signal to start over and are never stored.
// The reply to QUIT, sent after a failure too, would hide the reply that made the mail fail.
struct ReplyCapture {
  std::string reply;
  bool command_sent = false;
  bool quitting = false;
};

int CaptureReplies(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  auto* capture = static_cast<ReplyCapture*>(user);
  if (type == CURLINFO_HEADER_OUT) {
    if (size >= 4 && strncasecmp(data, "QUIT", 4) == 0) capture->quitting = true;
    capture->command_sent = true;
  } else if (type == CURLINFO_HEADER_IN && !capture->quitting) {
    if (capture->command_sent) {
      capture->reply.clear();
      capture->command_sent = false;
    }
    capture->reply.append(data, size);
    if (capture->reply.size() > 4 * kMaxReplyInError) capture->reply.erase(0, capture->reply.size() - kMaxReplyInError);
  }
  return 0;
}

// The reply on one line: CR/LF runs become "; ", other control bytes '?', cut to a sane length.
std::string OneLine(std::string_view reply) {
  std::string out;
  bool pending_break = false;
  for (char c : reply) {
    if (c == '\r' || c == '\n') {
      pending_break = !out.empty();
      continue;
    }
    if (pending_break) out += "; ";
    pending_break = false;
    out.push_back((static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c);
  }
  if (out.size() > kMaxReplyInError) out = out.substr(out.size() - kMaxReplyInError);
  return out;
}

class SmtpMailer final : public core::Mailer {
 public:
  explicit SmtpMailer(SmtpOptions options) : options_(std::move(options)) {}

  Result<void> Send(const core::OutgoingMail& mail) override;

 private:
  const SmtpOptions options_;
};

Result<void> SmtpMailer::Send(const core::OutgoingMail& mail) {
  if (!mail.envelope_from.empty()) HIKESHI_CHECK(CheckEnvelopeAddress(mail.envelope_from, "sender"));
  if (mail.recipients.empty()) return Fail(Error::InvalidArgument("the mail has no envelope recipient"));
  for (const auto& recipient : mail.recipients) HIKESHI_CHECK(CheckEnvelopeAddress(recipient, "recipient"));
  if (mail.message.empty()) return Fail(Error::InvalidArgument("the message is empty"));

  CurlEasy easy(curl_easy_init());
  if (!easy) return Fail(Error::Unavailable("cannot start an SMTP session: libcurl is out of memory"));
  CURL* handle = easy.get();

  CurlSlist recipients;
  for (const auto& recipient : mail.recipients) {
    curl_slist* appended = curl_slist_append(recipients.get(), ("<" + recipient + ">").c_str());
    if (appended == nullptr) return Fail(Error::Unavailable("cannot start an SMTP session: out of memory"));
    if (!recipients) recipients.reset(appended);  // later appends return the same head
  }

  Upload upload{mail.message};
  ReplyCapture capture;
  char error_buffer[CURL_ERROR_SIZE] = {};
  auto seconds = [](std::chrono::milliseconds ms) {
    return static_cast<long>(std::max<long long>(1, (ms.count() + 999) / 1000));
  };

  curl_easy_setopt(handle, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  // Without MAIL_FROM libcurl sends the null reverse-path, MAIL FROM:<>, which bounces need.
  std::string from = "<" + mail.envelope_from + ">";
  if (!mail.envelope_from.empty()) curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, &ReadMessage);
  curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.message.size()));
  if (options_.require_tls) curl_easy_setopt(handle, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!options_.username.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, seconds(options_.timeout));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, seconds(options_.timeout));
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, &CaptureReplies);
  curl_easy_setopt(handle, CURLOPT_DEBUGDATA, &capture);
  curl_easy_setopt(handle, CURLOPT_VERBOSE, 1L);  // feeds CaptureReplies; prints nothing itself

  CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK) return {};

  long reply_code = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply_code);
  std::string reply = OneLine(capture.reply);
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  if (reply_code >= 500 && reply_code < 600) {
    return Fail(Error::InvalidArgument(fmt::format("SMTP relay {} refused the mail: {}", options_.url, reply)));
  }
  if (reply_code >= 400 && reply_code < 500) {
    return Fail(Error::Unavailable(fmt::format("SMTP relay {} deferred the mail: {}", options_.url, reply)));
  }
  if (!reply.empty()) {
    return Fail(
        Error::Unavailable(fmt::format("SMTP relay {}: {} (last reply: {})", options_.url, OneLine(detail), reply)));
  }
  return Fail(Error::Unavailable(fmt::format("SMTP relay {}: {}", options_.url, OneLine(detail))));
}

}  // namespace

Result<void> CheckSmtpOptions(const SmtpOptions& options) {
  auto invalid = [](std::string why) { return Fail(Error::InvalidArgument("SMTP relay: " + why, "/smtp/url")); };
  CurlUrl url(curl_url());
  if (!url) return Fail(Error::Internal("libcurl is out of memory"));
  if (curl_url_set(url.get(), CURLUPART_URL, options.url.c_str(), 0) != CURLUE_OK) {
    return invalid("'" + OneLine(options.url) + "' is not a URL");
  }
  std::string scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  if (scheme != "smtp" && scheme != "smtps") return invalid("the URL must start with smtp:// or smtps://");
  if (!UrlPart(url.get(), CURLUPART_USER).empty() || !UrlPart(url.get(), CURLUPART_PASSWORD).empty()) {
    // The URL ends up in logs and error messages; credentials belong in username and password.
    return invalid("the URL must not carry a user name or password");
  }
  std::string host = UrlPart(url.get(), CURLUPART_HOST);
  if (host.empty()) return invalid("the URL has no host");
  if (options.timeout.count() <= 0)
    return Fail(Error::InvalidArgument("SMTP timeout must be positive", "/smtp/timeout"));
  if (!options.username.empty() && scheme == "smtp" && !options.require_tls && !IsLoopbackHost(host)) {
    return Fail(Error::InvalidArgument(
        "SMTP AUTH to " + host + " would send the password in clear; use smtps:// or require TLS",
        "/smtp/require_tls"));
  }
  return {};
}

std::unique_ptr<core::Mailer> MakeSmtpMailer(SmtpOptions options) {
  InitCurlOnce();
  if (auto checked = CheckSmtpOptions(options); !checked) throw std::invalid_argument(checked.error().message());
  return std::make_unique<SmtpMailer>(std::move(options));
}

}  // namespace hikeshi::notify
