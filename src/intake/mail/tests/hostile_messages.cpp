#include "tests/hostile_messages.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace hikeshi::intake::mail::testing {
namespace {

const std::string kHeaders =
    "From: attacker@example.net\nTo: csirt@example.jp\nSubject: hostile\nMessage-ID: <h@example.net>\n"
    "MIME-Version: 1.0\n";

std::string Repeat(std::string_view unit, std::size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

// Deterministic pseudo-random bytes (xorshift), so a failure reproduces.
std::string RandomBytes(std::size_t size, std::uint32_t seed) {
  std::string out(size, '\0');
  std::uint32_t state = seed | 1u;
  for (char& c : out) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    c = static_cast<char>(state & 0xFF);
  }
  return out;
}

std::string Base64Zeros(std::size_t decoded_bytes) {
  // "AAAA" decodes to three zero bytes; 76-character lines.
  std::string line = Repeat("AAAA", 19) + "\n";
  return Repeat(line, decoded_bytes / 57 + 1);
}

}  // namespace

std::vector<HostileMessage> HostileMessages() {
  std::vector<HostileMessage> messages;
  messages.push_back(
      {"10 MB header line", "From: a@example.net\nSubject: " + std::string(10u << 20, 'A') + "\n\nbody\n"});
  messages.push_back({"10 MB folded header", "From: a@example.net\nX-Long: " + Repeat("x\n ", (10u << 20) / 3) +
                                                 "end\nSubject: folded\n\nbody\n"});
  {
    std::string deep = kHeaders;
    constexpr int kLevels = 10000;
    for (int i = 0; i < kLevels; ++i) {
      deep +=
          "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" + std::to_string(i) + "\n";
    }
    deep += "Content-Type: text/plain\n\ndeep text\n";
    for (int i = kLevels - 1; i >= 0; --i) deep += "--b" + std::to_string(i) + "--\n";
    messages.push_back({"10,000-deep multipart nesting", std::move(deep)});
  }
  {
    std::string forwarded = kHeaders;
    for (int i = 0; i < 1000; ++i) forwarded += "Content-Type: message/rfc822\n\nSubject: level\n";
    forwarded += "Content-Type: text/plain\n\ninnermost\n";
    messages.push_back({"1,000-deep message/rfc822 nesting", std::move(forwarded)});
  }
  messages.push_back({"100,000 parts", kHeaders + "Content-Type: multipart/mixed; boundary=\"p\"\n\n" +
                                           Repeat("--p\nContent-Type: text/plain\n\nx\n", 100000) + "--p--\n"});
  messages.push_back({"100,000 header fields", kHeaders + Repeat("X-Field: value\n", 100000) + "\nbody\n"});
  messages.push_back({"base64 attachment decoding to 24 MB",
                      kHeaders +
                          "Content-Type: multipart/mixed; boundary=\"z\"\n\n--z\nContent-Type: text/plain\n\n"
                          "see attachment\n--z\nContent-Type: application/octet-stream; name=\"big.bin\"\n"
                          "Content-Transfer-Encoding: base64\n\n" +
                          Base64Zeros(24u << 20) + "--z--\n"});
  messages.push_back({"NUL bytes", "From: a\0b@example.net\nSubject: nul\0here\nContent-Type: text/plain\n\n" +
                                       std::string(1000, '\0') + "text after NULs\n" + std::string("\0\0\0", 3)});
  {
    const std::string bad = "\xff\xfe\x80\xc0\xaf\xed\xa0\x80\xf8\x88\x80\x80\x80";
    std::string text = "From: " + bad + " <" + bad + "@example.net>\nTo: " + bad + "\nSubject: " + bad +
                       " =?UTF-8?B?/w==?= =?x-unknown?Q?=FF?= =?ISO-2022-JP?B?GyRC/w==?=\n"
                       "Message-ID: <" +
                       bad + ">\nContent-Type: multipart/mixed; boundary=\"" + bad + "\"\n\n--" + bad +
                       "\nContent-Type: text/plain; charset=" + bad + "\n\n" + bad + "\n--" + bad +
                       "\nContent-Type: text/html; charset=utf-8\n\n<p>" + bad +
                       "&#xD800;&#1114112;&#99999999999;</p>\n--" + bad +
                       "\nContent-Type: application/pdf; name*=utf-8''%FF%FE" + bad +
                       "\n"
                       "Content-Disposition: attachment; filename=\"" +
                       bad + "\"\n\n" + bad + "\n--" + bad + "--\n";
    messages.push_back({"invalid UTF-8 everywhere", std::move(text)});
  }
  messages.push_back({"1 MB of random bytes", RandomBytes(1u << 20, 12345)});
  messages.push_back(
      {"random bytes after headers", kHeaders + "Content-Type: text/plain\n\n" + RandomBytes(1u << 20, 777)});
  messages.push_back({"HTML: 200,000 unclosed <head> and <a>",
                      kHeaders + "Content-Type: text/html\n\n" + Repeat("<head><title><a href='x", 200000)});
  messages.push_back({"HTML: 1 MB of entities and '<'",
                      kHeaders + "Content-Type: text/html\n\n" + Repeat("&#x1F600;&amp&;&#;<<!--<", 50000)});
  messages.push_back(
      {"100,000 unclosed PGP armour and uuencode lines",
       kHeaders + "Content-Type: text/plain\n\n" +
           Repeat("-----BEGIN PGP MESSAGE-----\nbegin 644 x\n-----BEGIN PGP SIGNED MESSAGE-----\n", 100000)});
  messages.push_back({"100,000 inline PGP blocks",
                      kHeaders + "Content-Type: text/plain\n\n" +
                          Repeat("-----BEGIN PGP MESSAGE-----\nQUJD\n-----END PGP MESSAGE-----\n", 100000)});
  messages.push_back({"multipart without boundary, 100,000 delimiter lines",
                      kHeaders + "Content-Type: multipart/mixed\n\n" + Repeat("--x\n\nt\n", 100000)});
  messages.push_back({"100,000 encoded-words",
                      kHeaders.substr(0, 26) +
                          "Subject: " + Repeat("=?ISO-2022-JP?B?GyRCSVRANSUiJS8lOyU5GyhC?= ", 100000) + "\n\nbody\n"});
  messages.push_back(
      {"100,000 RFC 2231 continuations", kHeaders +
                                             "Content-Type: multipart/mixed; boundary=\"c\"\n\n--c\n"
                                             "Content-Type: application/octet-stream\nContent-Disposition: attachment" +
                                             [] {
                                               std::string params;
                                               for (int i = 0; i < 100000; ++i)
                                                 params += ";\n filename*" + std::to_string(i) + "*=%41";
                                               return params;
                                             }() +
                                             "\n\ndata\n--c--\n"});
  messages.push_back({"CR-only, 2 MB", Repeat("X-A: b\r", 10) + "\r" + Repeat("line\r", 400000)});
  return messages;
}

}  // namespace hikeshi::intake::mail::testing
