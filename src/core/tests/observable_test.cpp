// Observable normalisation: what a handler types or a feed sends, what Hikeshi stores and pivots on,
// and why a value is refused. Every expected value below is written out by hand from the rules.

#include "hikeshi/core/observable.hpp"

#include <array>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using namespace std::string_literals;
using T = ObservableType;

struct Accepted {
  ObservableType type;
  std::string raw;
  std::string normalised;
};

struct Rejected {
  ObservableType type;
  std::string raw;
  std::string reason;  // a fragment of the message the handler reads
};

// How a row appears in test listings (ctest copies it into test names): the type and a tame copy
// of the input, since the raw bytes may hold control characters, brackets or ';'.
std::string Describe(ObservableType type, std::string_view raw) {
  std::string out = std::string(ObservableTypeName(type)) + " ";
  for (char c : raw.substr(0, 40)) {
    const bool tame = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view(".:-@/+%").find(c) != std::string_view::npos;
    out += tame ? c : '_';
  }
  if (raw.size() > 40) out += "...";
  return out;
}
void PrintTo(const Accepted& row, std::ostream* os) { *os << Describe(row.type, row.raw); }
void PrintTo(const Rejected& row, std::ostream* os) { *os << Describe(row.type, row.raw); }

// Gives each table row a test name such as "ipv6_3", so a failure names the row.
template <typename Case>
std::string RowName(const testing::TestParamInfo<Case>& info) {
  return std::string(ObservableTypeName(info.param.type)) + "_" + std::to_string(info.index);
}

const std::string kLabel63(63, 'a');
// 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters, the longest name DNS can carry.
const std::string kDomain253 = kLabel63 + "." + kLabel63 + "." + kLabel63 + "." + std::string(61, 'b');

std::vector<Accepted> AcceptedCases() {
  return {
      // ipv4
      {T::kIpv4, "192.0.2.1", "192.0.2.1"},
      {T::kIpv4, "0.0.0.0", "0.0.0.0"},
      {T::kIpv4, "255.255.255.255", "255.255.255.255"},
      {T::kIpv4, " 198.51.100.7\r\n", "198.51.100.7"},
      {T::kIpv4, "10.0.0.100", "10.0.0.100"},
      // ipv6: RFC 5952 form
      {T::kIpv6, "2001:DB8::1", "2001:db8::1"},
      {T::kIpv6, "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {T::kIpv6, "[2001:db8::1]", "2001:db8::1"},
      {T::kIpv6, "::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {T::kIpv6, "::FFFF:C000:0201", "::ffff:192.0.2.1"},
      {T::kIpv6, "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {T::kIpv6, "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {T::kIpv6, "1:0:0:2:0:0:0:3", "1:0:0:2::3"},
      {T::kIpv6, "2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
      {T::kIpv6, "0:0:0:0:0:0:0:0", "::"},
      {T::kIpv6, "0:0:0:0:0:0:0:1", "::1"},
      {T::kIpv6, "FE80:0:0:0:0:0:0:0", "fe80::"},
      {T::kIpv6, "::1:0", "::1:0"},
      {T::kIpv6, "::192.0.2.1", "::c000:201"},
      {T::kIpv6, "64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
      // cidr: host bits cleared
      {T::kCidr, "192.0.2.77/24", "192.0.2.0/24"},
      {T::kCidr, "192.0.2.77/32", "192.0.2.77/32"},
      {T::kCidr, "10.1.2.3/0", "0.0.0.0/0"},
      {T::kCidr, "172.16.255.255/12", "172.16.0.0/12"},
      {T::kCidr, "198.51.100.255/25", "198.51.100.128/25"},
      {T::kCidr, "2001:DB8:abcd::1/32", "2001:db8::/32"},
      {T::kCidr, "2001:db8::1/128", "2001:db8::1/128"},
      {T::kCidr, "2001:db8:ffff::/33", "2001:db8:8000::/33"},
      {T::kCidr, "::/0", "::/0"},
      {T::kCidr, "::ffff:192.0.2.77/120", "::ffff:192.0.2.0/120"},
      // domain
      {T::kDomain, "Example.ORG.", "example.org"},
      {T::kDomain, "  www.example.org\t", "www.example.org"},
      {T::kDomain, "xn--bcher-kva.example", "xn--bcher-kva.example"},
      {T::kDomain, "a-b.example.co.jp", "a-b.example.co.jp"},
      {T::kDomain, "1password.com", "1password.com"},
      {T::kDomain, kLabel63 + ".example", kLabel63 + ".example"},
      {T::kDomain, kDomain253, kDomain253},
      {T::kDomain, "host.example.123abc", "host.example.123abc"},
      // url: scheme and host lower-cased, the rest kept as given
      {T::kUrl, "HTTP://Example.COM/Path?Q=1", "http://example.com/Path?Q=1"},
      {T::kUrl, "hxxps://Evil.example.net/login.php", "hxxps://evil.example.net/login.php"},
      {T::kUrl, "https://[2001:DB8::1]:8443/x", "https://[2001:db8::1]:8443/x"},
      {T::kUrl, "http://192.0.2.1/a", "http://192.0.2.1/a"},
      {T::kUrl, "ftp://User@Files.Example.org/pub/", "ftp://User@files.example.org/pub/"},
      {T::kUrl, "http://paypal.com@EVIL.example/", "http://paypal.com@evil.example/"},
      {T::kUrl, "https://example.org", "https://example.org"},
      {T::kUrl, "https://example.org./", "https://example.org/"},
      {T::kUrl, "https://example.org/caf%C3%A9#Top", "https://example.org/caf%C3%A9#Top"},
      {T::kUrl, "https://example.org/日本語?q=ß", "https://example.org/日本語?q=ß"},
      {T::kUrl, "http://Example.org:8080", "http://example.org:8080"},
      {T::kUrl, "http://example.org:080/", "http://example.org:80/"},
      // email: only the domain is lower-cased
      {T::kEmail, "Abuse@Example.ORG", "Abuse@example.org"},
      {T::kEmail, "first.last+tag@mail.example.co.jp", "first.last+tag@mail.example.co.jp"},
      {T::kEmail, "taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"},
      {T::kEmail, " soc@example.org ", "soc@example.org"},
      {T::kEmail, std::string(64, 'x') + "@example.org", std::string(64, 'x') + "@example.org"},
      // hashes
      {T::kMd5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
      {T::kSha1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {T::kSha256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {T::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      // asn
      {T::kAsn, "AS64500", "AS64500"},
      {T::kAsn, "as64500", "AS64500"},
      {T::kAsn, "64500", "AS64500"},
      {T::kAsn, "As1", "AS1"},
      {T::kAsn, "4294967295", "AS4294967295"},
      // cve
      {T::kCve, "cve-2024-12345", "CVE-2024-12345"},
      {T::kCve, "CVE-1999-0001", "CVE-1999-0001"},
      {T::kCve, "Cve-2014-0160", "CVE-2014-0160"},
      {T::kCve, "CVE-2100-1234567", "CVE-2100-1234567"},
      // filename: trimmed, otherwise exactly as given
      {T::kFilename, " invoice.pdf.exe ", "invoice.pdf.exe"},
      {T::kFilename, "請求書.zip", "請求書.zip"},
      {T::kFilename, "invoice\u202Efdp.exe", "invoice\u202Efdp.exe"},  // the RLO trick is evidence
      {T::kFilename, "a", "a"},
      {T::kFilename, std::string(255, 'f'), std::string(255, 'f')},
      {T::kFilename, "Read Me.TXT", "Read Me.TXT"},
  };
}

std::vector<Rejected> RejectedCases() {
  return {
      // ipv4
      {T::kIpv4, "999.1.1.1", "'999.1.1.1' is not an IPv4 address: 999 is over 255"},
      {T::kIpv4, "256.0.0.1", "256 is over 255"},
      {T::kIpv4, "010.1.1.1", "'010' has a leading zero"},
      {T::kIpv4, "1.2.3", "four decimal numbers"},
      {T::kIpv4, "1.2.3.4.5", "more than four numbers"},
      {T::kIpv4, "1..2.3", "one of them is empty"},
      {T::kIpv4, "0x7f.0.0.1", "'x' is not allowed"},
      {T::kIpv4, "192.0.2.1/24", "use type cidr"},
      {T::kIpv4, "2001:db8::1", "use type ipv6"},
      {T::kIpv4, "3232235777", "four decimal numbers"},
      {T::kIpv4, "1.2.3.-4", "'-' is not allowed"},
      {T::kIpv4, "192.0.2.1 x", "a space is not allowed"},
      {T::kIpv4, "   ", "value is empty"},
      // ipv6
      {T::kIpv6, "2001:db8::1%eth0", "zone ids ('%eth0')"},
      {T::kIpv6, "[fe80::1%25en0]", "zone ids"},
      {T::kIpv6, "2001:db8::g", "'g' is not allowed"},
      {T::kIpv6, "1::2::3", "'::' may appear only once"},
      {T::kIpv6, "12345::1", "is not an IPv6 address"},
      {T::kIpv6, "1:2:3:4:5:6:7:8:9", "is not an IPv6 address"},
      {T::kIpv6, "192.0.2.1", "it is an IPv4 address; use type ipv4"},
      {T::kIpv6, "[2001:db8::1", "no closing ']'"},
      {T::kIpv6, "2001:db8::1]", "no opening '['"},
      {T::kIpv6, "::ffff:010.1.1.1", "embedded IPv4 part '010.1.1.1' is invalid: '010' has a leading zero"},
      {T::kIpv6, "::ffff:1.2.3", "embedded IPv4 part"},
      {T::kIpv6, "1.2.3.4::", "may only come last"},
      {T::kIpv6, ":1::", "is not an IPv6 address"},
      {T::kIpv6, "[2001:db8::1]:443", "no closing ']'"},
      // cidr
      {T::kCidr, "192.0.2.1", "'192.0.2.1' is not a CIDR prefix: it has no prefix length"},
      {T::kCidr, "192.0.2.0/33", "prefix length '33' is not a number from 0 to 32"},
      {T::kCidr, "2001:db8::/129", "prefix length '129' is not a number from 0 to 128"},
      {T::kCidr, "192.0.2.0/", "prefix length '' is not a number"},
      {T::kCidr, "192.0.2.0/24/1", "prefix length '24/1'"},
      {T::kCidr, "192.0.2.0/-1", "prefix length '-1'"},
      {T::kCidr, "192.0.2.0/08", "prefix length '08'"},
      {T::kCidr, "300.0.0.0/8", "300 is over 255"},
      {T::kCidr, "2001:db8::g/32", "'g' is not allowed"},
      {T::kCidr, "example.org/24", "'e' is not allowed"},
      {T::kCidr, "fe80::%eth0/64", "zone ids"},
      // domain
      {T::kDomain, "localhost", "at least two labels"},
      {T::kDomain, "example..org", "empty label"},
      {T::kDomain, ".example.org", "empty label"},
      {T::kDomain, "example.org..", "empty label"},
      {T::kDomain, "-example.org", "starts or ends with '-'"},
      {T::kDomain, "example-.org", "starts or ends with '-'"},
      {T::kDomain, "exa_mple.org", "'_' is not allowed"},
      {T::kDomain, "exa mple.org", "a space is not allowed"},
      {T::kDomain, "bücher.example", "must be given in punycode"},
      {T::kDomain, kLabel63 + "a.example", "is 64 characters long; the limit is 63"},
      {T::kDomain, "c" + kDomain253, "is 254 characters long; the limit is 253"},
      {T::kDomain, "192.0.2.1", "last label is all digits"},
      {T::kDomain, "http://example.org", "':' is not allowed"},
      {T::kDomain, "", "value is empty"},
      // url
      {T::kUrl, "example.org/path", "needs a scheme followed by '://'"},
      {T::kUrl, "http://", "it has no host"},
      {T::kUrl, "http:///etc/passwd", "it has no host"},
      {T::kUrl, "http://exa mple.org/", "it contains whitespace"},
      {T::kUrl, "http://example.org/a b", "it contains whitespace"},
      {T::kUrl, "http://example.org/\tx", "it contains whitespace"},
      {T::kUrl, "http://example.org/\x01", "control character (byte 0x01)"},
      {T::kUrl, "http://example.org/\xff", "not valid UTF-8"},
      {T::kUrl, "http://example.org:99999/", "port '99999'"},
      {T::kUrl, "http://example.org:/", "port ''"},
      {T::kUrl, "1http://example.org/", "scheme '1http' is not a valid scheme"},
      {T::kUrl, "http://999.1.1.1/", "host '999.1.1.1' is not an IPv4 address: 999 is over 255"},
      {T::kUrl, "http://[2001:db8::1/", "'[' without ']'"},
      {T::kUrl, "http://[fe80::1%25eth0]/", "zone ids"},
      {T::kUrl, "http://bücher.example/", "must be given in punycode"},
      {T::kUrl, "http://localhost/", "at least two labels"},
      {T::kUrl, "http://evil.example\\@bank.example/", "a '\\' before the path"},
      {T::kUrl, "http://example.org" + std::string(4096, 'a'), "the limit is 4096"},
      // email
      {T::kEmail, "user.example.org", "it has no '@'"},
      {T::kEmail, "@example.org", "nothing comes before the '@'"},
      {T::kEmail, "a@b@example.org", "more than one '@'"},
      {T::kEmail, "user@localhost", "at least two labels"},
      {T::kEmail, "user@[192.0.2.1]", "'[' is not allowed"},
      {T::kEmail, "mailto:user@example.org", "':' is not allowed before the '@'"},
      {T::kEmail, "<user@example.org>", "'<' is not allowed before the '@'"},
      {T::kEmail, "first last@example.org", "a space is not allowed before the '@'"},
      {T::kEmail, std::string(65, 'x') + "@example.org", "is 65 characters long; the limit is 64"},
      {T::kEmail, "user@", "its domain '' is not valid"},
      {T::kEmail, "user@exa_mple.org", "'_' is not allowed"},
      // hashes
      {T::kMd5, "d41d8cd98f00b204e9800998ecf8427", "it has 31 hex digits; expected 32"},
      {T::kMd5, "d41d8cd98f00b204e9800998ecf8427e0", "it has 33 hex digits; expected 32"},
      {T::kMd5, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "is not an MD5 hash"},
      {T::kMd5, "g41d8cd98f00b204e9800998ecf8427e", "'g' is not a hex digit"},
      {T::kSha1, "da39a3ee5e6b4b0d3255bfef95601890afd8070", "it has 39 hex digits; expected 40"},
      {T::kSha1, "da39a3ee 5e6b4b0d3255bfef95601890afd80709", "a space is not a hex digit"},
      {T::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85z", "'z' is not a hex digit"},
      {T::kSha256, "d41d8cd98f00b204e9800998ecf8427e", "is not a SHA-256 hash"},
      // asn
      {T::kAsn, "AS0", "AS0 is reserved"},
      {T::kAsn, "AS4294967296", "over 4294967295"},
      {T::kAsn, "99999999999999999999", "over 4294967295"},
      {T::kAsn, "ASN64500", "expected AS followed by a decimal number"},
      {T::kAsn, "AS-1", "expected AS followed by a decimal number"},
      {T::kAsn, "AS 64500", "expected AS followed by a decimal number"},
      {T::kAsn, "AS1.10", "expected AS followed by a decimal number"},
      {T::kAsn, "AS", "expected AS followed by a decimal number"},
      {T::kAsn, "AS064500", "leading zero"},
      // cve
      {T::kCve, "CVE-98-1234", "expected CVE-<year>-<number"},
      {T::kCve, "CVE-1998-1234", "year 1998 is outside 1999-2100"},
      {T::kCve, "CVE-2101-1234", "year 2101 is outside 1999-2100"},
      {T::kCve, "CVE-2024-123", "expected CVE-<year>-<number"},
      {T::kCve, "CVE-2024-01234", "no leading zero"},
      {T::kCve, "CVE2024-12345", "expected CVE-<year>-<number"},
      {T::kCve, "CVE-2024-12a45", "expected CVE-<year>-<number"},
      {T::kCve, "CAN-1999-0067", "expected CVE-<year>-<number"},
      // filename
      {T::kFilename, "../etc/passwd", "path separator ('/')"},
      {T::kFilename, "C:\\Users\\x.exe", "path separator ('\\')"},
      {T::kFilename,
       "a\x01"
       "b.exe",
       "control character (byte 0x01)"},
      {T::kFilename, "a\0b.exe"s, "control character (byte 0x00)"},
      {T::kFilename,
       "a\x7f"
       "b.exe",
       "control character (byte 0x7F)"},
      {T::kFilename,
       "\xc2\x85"
       "a.exe",
       "control character (U+0085)"},
      {T::kFilename,
       "\xff"
       ".exe",
       "not valid UTF-8"},
      {T::kFilename, std::string(256, 'f'), "256 bytes long; the limit is 255"},
      {T::kFilename, " \t ", "value is empty"},
  };
}

class NormalizeAccepts : public testing::TestWithParam<Accepted> {};

TEST_P(NormalizeAccepts, GivesTheNormalisedForm) {
  const Accepted& row = GetParam();
  const Result<Observable> result = NormalizeObservable(row.type, row.raw);
  ASSERT_TRUE(result.has_value()) << "'" << row.raw << "' was refused: " << result.error().message();
  EXPECT_EQ(result->type, row.type);
  EXPECT_EQ(result->value, row.normalised);
}

// Pivots normalise the search term and compare it with stored values; a stored value must
// therefore map to itself.
TEST_P(NormalizeAccepts, NormalisedFormIsAFixedPoint) {
  const Accepted& row = GetParam();
  const Result<Observable> again = NormalizeObservable(row.type, row.normalised);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(again->value, row.normalised);
}

INSTANTIATE_TEST_SUITE_P(Table, NormalizeAccepts, testing::ValuesIn(AcceptedCases()), RowName<Accepted>);

class NormalizeRejects : public testing::TestWithParam<Rejected> {};

TEST_P(NormalizeRejects, SaysWhyOnTheValueField) {
  const Rejected& row = GetParam();
  const Result<Observable> result = NormalizeObservable(row.type, row.raw);
  ASSERT_FALSE(result.has_value()) << "'" << row.raw << "' was accepted as '" << result->value << "'";
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().field(), "/value");
  EXPECT_NE(result.error().message().find(row.reason), std::string::npos)
      << "message: " << result.error().message() << "\nexpected to contain: " << row.reason;
}

INSTANTIATE_TEST_SUITE_P(Table, NormalizeRejects, testing::ValuesIn(RejectedCases()), RowName<Rejected>);

TEST(ObservableTypeTest, NamesRoundTrip) {
  struct Named {
    ObservableType type;
    std::string_view name;
  };
  constexpr std::array<Named, 12> kNames{{
      {T::kIpv4, "ipv4"},
      {T::kIpv6, "ipv6"},
      {T::kCidr, "cidr"},
      {T::kDomain, "domain"},
      {T::kUrl, "url"},
      {T::kEmail, "email"},
      {T::kMd5, "md5"},
      {T::kSha1, "sha1"},
      {T::kSha256, "sha256"},
      {T::kAsn, "asn"},
      {T::kCve, "cve"},
      {T::kFilename, "filename"},
  }};
  for (const Named& named : kNames) {
    EXPECT_EQ(ObservableTypeName(named.type), named.name);
    EXPECT_EQ(ParseObservableType(named.name), named.type) << named.name;
  }
}

TEST(ObservableTypeTest, ParsingIgnoresCase) {
  EXPECT_EQ(ParseObservableType("IPv4"), T::kIpv4);
  EXPECT_EQ(ParseObservableType("SHA256"), T::kSha256);
  EXPECT_EQ(ParseObservableType("CVE"), T::kCve);
}

TEST(ObservableTypeTest, UnknownNamesAreRefused) {
  EXPECT_EQ(ParseObservableType(""), std::nullopt);
  EXPECT_EQ(ParseObservableType("ip"), std::nullopt);
  EXPECT_EQ(ParseObservableType("sha-256"), std::nullopt);
  EXPECT_EQ(ParseObservableType("ipv4 "), std::nullopt);
  EXPECT_EQ(ParseObservableType("hostname"), std::nullopt);
}

TEST(NormalizeCidrTest, ClearsHostBits) {
  EXPECT_EQ(NormalizeCidr("203.0.113.200/27"), "203.0.113.192/27");
  EXPECT_EQ(NormalizeCidr("2001:db8:1234:5678::1/48"), "2001:db8:1234::/48");
  const Result<std::string> bare = NormalizeCidr("203.0.113.200");
  ASSERT_FALSE(bare.has_value());
  EXPECT_EQ(bare.error().field(), "/value");
}

TEST(NormalizeDomainTest, LowerCasesAndDropsTheRootDot) {
  EXPECT_EQ(NormalizeDomain("Mail.Example.JP."), "mail.example.jp");
  const Result<std::string> ulabel = NormalizeDomain("例え.jp");
  ASSERT_FALSE(ulabel.has_value());
  EXPECT_EQ(ulabel.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(ulabel.error().message().find("punycode"), std::string::npos);
}

// Messages reach JSON responses and terminals: they must stay short and printable whatever the
// input held.
TEST(ObservableMessageTest, QuotesHostileInputSafely) {
  const Result<Observable> control = NormalizeObservable(T::kDomain, "exa\x01mple.org");
  ASSERT_FALSE(control.has_value());
  EXPECT_NE(control.error().message().find("'exa\\x01mple.org'"), std::string::npos) << control.error().message();
  EXPECT_EQ(control.error().message().find('\x01'), std::string::npos);

  const Result<Observable> huge = NormalizeObservable(T::kUrl, "http://example.org/" + std::string(5000, 'a') + " ");
  ASSERT_FALSE(huge.has_value());
  EXPECT_LT(huge.error().message().size(), 300u);
  EXPECT_NE(huge.error().message().find("...'"), std::string::npos);
}

}  // namespace
}  // namespace hikeshi::core
