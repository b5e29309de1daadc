// The extraction table: free text as a handler receives it (English and Japanese, plain and
// defanged, with the usual look-alikes) and exactly the observables a handler expects from it, in
// order. Every expected value is written out by hand from the rules in docs/architecture.md §5;
// none is computed by the code under test. A row with no expected values is a false-positive check.

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/extract/extractor.hpp"

namespace hikeshi::extract {
namespace {

struct Row {
  std::string text;
  std::vector<std::string> expected;  // "type value", in order of first occurrence
};

// Test listings show the row's text with anything a terminal or ctest would mangle replaced.
void PrintTo(const Row& row, std::ostream* os) {
  std::string shown;
  for (char c : row.text.substr(0, 60)) shown += (c >= 0x20 && c < 0x7f) ? c : '_';
  *os << shown;
}

const std::string kMd5 = "d41d8cd98f00b204e9800998ecf8427e";
const std::string kSha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const std::string kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kSha256Upper = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";

std::vector<Row> Rows() {
  return {
      // ---- IPv4 -----------------------------------------------------------------------------
      {"Scan from 192.0.2.1 observed", {"ipv4 192.0.2.1"}},
      {"src=198.51.100.23, dst=203.0.113.7", {"ipv4 198.51.100.23", "ipv4 203.0.113.7"}},
      {"The attacker used 192.0.2.1.", {"ipv4 192.0.2.1"}},
      {"(192.0.2.44)", {"ipv4 192.0.2.44"}},
      {"connect 192.0.2.5:8080 refused", {"ipv4 192.0.2.5"}},
      {"range 192.0.2.1-192.0.2.10", {"ipv4 192.0.2.1", "ipv4 192.0.2.10"}},
      {"[192.0.2.9]", {"ipv4 192.0.2.9"}},
      {"IP:192.0.2.10", {"ipv4 192.0.2.10"}},
      {"see...192.0.2.11 below", {"ipv4 192.0.2.11"}},
      {"listening on 0.0.0.0", {"ipv4 0.0.0.0"}},
      {"broadcast 255.255.255.255", {"ipv4 255.255.255.255"}},
      {"192.0.2.1 and 192.0.2.1 again", {"ipv4 192.0.2.1"}},
      {"サーバ192.0.2.1から不審な通信", {"ipv4 192.0.2.1"}},
      {"IPアドレスは203.0.113.5です。", {"ipv4 203.0.113.5"}},
      {"送信元IPアドレス：198.51.100.7", {"ipv4 198.51.100.7"}},
      {"１９２．０．２．１からのアクセス", {"ipv4 192.0.2.1"}},
      {"ＩＰアドレス１９８．５１．１００．７を遮断", {"ipv4 198.51.100.7"}},
      {"192.0.2[.]1", {"ipv4 192.0.2.1"}},
      {"192[.]0[.]2[.]1", {"ipv4 192.0.2.1"}},
      {"192.0.2(.)1", {"ipv4 192.0.2.1"}},
      {"192.0.2{.}1", {"ipv4 192.0.2.1"}},
      {"192.0.2[dot]1", {"ipv4 192.0.2.1"}},
      {"送信元192.0.2[.]77を確認", {"ipv4 192.0.2.77"}},
      {"version 1.2.3.4", {}},
      {"Version: 10.0.0.1", {}},
      {"v1.2.3.4", {}},
      {"ver. 10.0.0.1", {}},
      {"firmware build 10.1.2.3", {}},
      {"バージョン1.2.3.4", {}},
      {"the cover 10.0.0.1 story", {"ipv4 10.0.0.1"}},
      {"1.2.3.4.5", {}},
      {"OID 1.3.6.1.4.1.311", {}},
      {"2.4.1", {}},
      {"version 2.4.1", {}},
      {"192.168.001.001", {}},
      {"256.1.1.1", {}},
      {"1.2.3", {}},
      {"1.2.3.4a", {}},
      {"x1.2.3.4", {}},
      {"2024.01.15", {}},
      {"Windows 10.0.19045.3803", {}},
      {"Chrome 120.0.6099.109", {}},
      {"Python 3.11.4", {}},

      // ---- CIDR -----------------------------------------------------------------------------
      {"block 192.0.2.0/24 now", {"cidr 192.0.2.0/24"}},
      {"198.51.100.77/24", {"cidr 198.51.100.0/24"}},
      {"10.0.0.0/8,172.16.0.0/12", {"cidr 10.0.0.0/8", "cidr 172.16.0.0/12"}},
      {"ネットワーク203.0.113.0/24を遮断", {"cidr 203.0.113.0/24"}},
      {"2001:db8::/32", {"cidr 2001:db8::/32"}},
      {"2001:DB8:0:0::/48 announced", {"cidr 2001:db8::/48"}},
      {"192.0.2.0/33", {}},
      {"192.0.2.1/index.html", {"ipv4 192.0.2.1"}},

      // ---- IPv6 -----------------------------------------------------------------------------
      {"from 2001:db8::1 port 22", {"ipv6 2001:db8::1"}},
      {"2001:0DB8:0000:0000:0000:0000:0000:0001", {"ipv6 2001:db8::1"}},
      {"2001:db8:0:0:1:0:0:1", {"ipv6 2001:db8::1:0:0:1"}},
      {"2001:db8:85a3::8a2e:370:7334", {"ipv6 2001:db8:85a3::8a2e:370:7334"}},
      {"[2001:db8::2]:443", {"ipv6 2001:db8::2"}},
      {"::ffff:192.0.2.1", {"ipv6 ::ffff:192.0.2.1"}},
      {"fe80::1%eth0 is link-local", {"ipv6 fe80::1"}},
      {"Address:fe80::a", {"ipv6 fe80::a"}},
      {"loopback ::1", {"ipv6 ::1"}},
      {"reached 2001:db8::1.", {"ipv6 2001:db8::1"}},
      {"IPv6アドレス2001:db8::5から", {"ipv6 2001:db8::5"}},
      {"2001:db8[:]:7", {"ipv6 2001:db8::7"}},
      {"std::string name", {}},
      {"Foo::Bar", {}},
      {"12:30:45", {}},
      {"00:1a:2b:3c:4d:5e", {}},
      {"2001:db8::1::2", {}},
      {"scope :: here", {}},
      {"10:30:00 JST", {}},
      {"a:b:c:d:e", {}},

      // ---- Domains ---------------------------------------------------------------------------
      {"Visit example.com today", {"domain example.com"}},
      {"EXAMPLE.COM", {"domain example.com"}},
      {"Example.com and example.COM", {"domain example.com"}},
      {"www.example.co.jp", {"domain www.example.co.jp"}},
      {"mail.example.org.", {"domain mail.example.org"}},
      {"sub-domain.example.net", {"domain sub-domain.example.net"}},
      {"サーバexample.jpから", {"domain example.jp"}},
      {"ドメインexample.co.jpを確認", {"domain example.co.jp"}},
      {"example.com、example.net", {"domain example.com", "domain example.net"}},
      {"（example.com）", {"domain example.com"}},
      {"example.com。", {"domain example.com"}},
      {"ドメイン 例え.jp を確認", {"domain xn--r8jz45g.jp"}},
      {"から例え.jpへ", {"domain xn--r8jz45g.jp"}},
      {"「例え.jp」", {"domain xn--r8jz45g.jp"}},
      {"bücher.de", {"domain xn--bcher-kva.de"}},
      {"xn--bcher-kva.de", {"domain xn--bcher-kva.de"}},
      {"XN--BCHER-KVA.DE", {"domain xn--bcher-kva.de"}},
      {"xn--bcher-xxx.de", {}},
      {"example.みんな", {"domain example.xn--q9jyb4c"}},
      {"example.みんなで確認", {"domain example.xn--q9jyb4c"}},
      {"例え.テスト", {}},
      {"example[.]com", {"domain example.com"}},
      {"example(dot)com", {"domain example.com"}},
      {"example[dot]com", {"domain example.com"}},
      {"example [dot] com", {"domain example.com"}},
      {"evil\\.example\\.com", {"domain evil.example.com"}},
      {"ｅｘａｍｐｌｅ．ｃｏｍ", {"domain example.com"}},
      {"example．com", {"domain example.com"}},
      {"サイト：ｗｗｗ．ｅｘａｍｐｌｅ．ｊｐ", {"domain www.example.jp"}},
      {"不審なドメインevil［.］example．com", {"domain evil.example.com"}},
      {"ドメインexample（.）comを遮断", {"domain example.com"}},
      {"1.2.3.4.example.com", {"domain 1.2.3.4.example.com"}},
      {"user.github.io", {"domain user.github.io"}},
      {"github.io", {}},
      {"co.jp", {}},
      {"www.example.zip", {"domain www.example.zip"}},
      {"invoice.zip", {}},
      {"invoice[.]zip", {"domain invoice.zip"}},
      {"README.md", {}},
      {"setup.py", {}},
      {"src/main.rs", {}},
      {"run install.sh", {}},
      {"movie.mov", {}},
      {"report.pdf", {}},
      {"invoice.exe", {}},
      {"archive.tar.gz", {}},
      {"index.html", {}},
      {"config.json", {}},
      {"e.g. this", {}},
      {"i.e. that", {}},
      {"U.S.A.", {}},
      {"It was done.Today we left", {}},
      {"node.js", {}},
      {"host.local", {}},
      {"server.internal", {}},
      {"example.invalid", {}},
      {"_dmarc.example.com", {}},
      {"a.b", {}},

      // ---- URLs -----------------------------------------------------------------------------
      {"http://example.com/path?q=1", {"url http://example.com/path?q=1"}},
      {"HTTPS://Example.COM/Path", {"url https://example.com/Path"}},
      {"hxxp://evil.example.com/payload.exe", {"url http://evil.example.com/payload.exe"}},
      {"hxxps://evil[.]example[.]com/a", {"url https://evil.example.com/a"}},
      {"hXXps[:]//evil[.]example[.]net/x", {"url https://evil.example.net/x"}},
      {"https[:]//example[.]com", {"url https://example.com"}},
      {"http[://]example.org/", {"url http://example.org/"}},
      {"fxp://files.example.com/pub", {"url ftp://files.example.com/pub"}},
      {"(see https://example.com/a).", {"url https://example.com/a"}},
      {"https://en.wikipedia.org/wiki/Foo_(bar)", {"url https://en.wikipedia.org/wiki/Foo_(bar)"}},
      {"<https://example.com/x>", {"url https://example.com/x"}},
      {"'https://example.com/q'", {"url https://example.com/q"}},
      {"https://example.com/a.b.", {"url https://example.com/a.b"}},
      {"https://example.com,", {"url https://example.com"}},
      {"https://example.com/news/を参照", {"url https://example.com/news/"}},
      {"詳細はhttps://example.jp/a/b.htmlをご覧ください", {"url https://example.jp/a/b.html"}},
      {"URLhttps://example.jp/", {"url https://example.jp/"}},
      {"http://192.0.2.1:8080/admin", {"url http://192.0.2.1:8080/admin"}},
      {"http://[2001:db8::1]/x", {"url http://[2001:db8::1]/x"}},
      {"https://例え.jp/path", {"url https://xn--r8jz45g.jp/path"}},
      {"http://user:pass@example.com/", {"url http://user:pass@example.com/"}},
      {"https://example.com:443/", {"url https://example.com:443/"}},
      {"ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ／", {"url https://example.com/"}},
      {"接続先hxxps［:］//example［.］jp/malware を確認", {"url https://example.jp/malware"}},
      {"フィッシングサイトhxxps://login-example[.]com/verify が報告されました",
       {"url https://login-example.com/verify"}},
      {"https://www.virustotal.com/gui/file/" + kSha256,
       {"url https://www.virustotal.com/gui/file/" + kSha256, "sha256 " + kSha256}},
      {"https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
       {"url https://nvd.nist.gov/vuln/detail/CVE-2021-44228", "cve CVE-2021-44228"}},
      {"http://localhost/", {}},
      {"http://", {}},
      {"foo://example.com/", {"domain example.com"}},
      {"https://example.com:99999/", {"domain example.com"}},

      // ---- E-mail addresses -------------------------------------------------------------------
      {"contact abuse@example.com now", {"email abuse@example.com"}},
      {"Abuse@Example.COM", {"email Abuse@example.com"}},
      {"john.smith@example.co.jp", {"email john.smith@example.co.jp"}},
      {"abuse[@]example.com", {"email abuse@example.com"}},
      {"abuse[at]example[dot]com", {"email abuse@example.com"}},
      {"abuse (at) example (dot) com", {"email abuse@example.com"}},
      {"abuse [at] mail [dot] example [dot] co [dot] jp", {"email abuse@mail.example.co.jp"}},
      {"mailto:abuse@example.org", {"email abuse@example.org"}},
      {"<abuse@example.net>", {"email abuse@example.net"}},
      {"user+tag@example.com", {"email user+tag@example.com"}},
      {"連絡先abuse@example.jpまで", {"email abuse@example.jp"}},
      {"ａｂｕｓｅ＠ｅｘａｍｐｌｅ．ｊｐ", {"email abuse@example.jp"}},
      {"taro..yamada.@docomo.ne.jp", {"email taro..yamada.@docomo.ne.jp"}},
      {"info@例え.jp", {"email info@xn--r8jz45g.jp"}},
      {"user@localhost", {}},
      {"foo@bar", {}},
      {"user@example.invalid", {}},
      {"a@b.c", {}},
      {"foo@report.pdf", {}},
      {"@example.com", {"domain example.com"}},
      {"user@[192.0.2.1]", {"ipv4 192.0.2.1"}},

      // ---- Hashes ---------------------------------------------------------------------------
      {"md5 " + kMd5, {"md5 " + kMd5}},
      {"D41D8CD98F00B204E9800998ECF8427E", {"md5 " + kMd5}},
      {"sha1:" + kSha1, {"sha1 " + kSha1}},
      {"sha256=" + kSha256Upper, {"sha256 " + kSha256}},
      {"MD5: " + kMd5 + ", SHA-1: " + kSha1, {"md5 " + kMd5, "sha1 " + kSha1}},
      {"ハッシュ値" + kMd5 + "を確認", {"md5 " + kMd5}},
      {"マルウェア（SHA256：" + kSha256 + "）を確認", {"sha256 " + kSha256}},
      {kMd5 + ".exe", {"md5 " + kMd5}},
      {kMd5 + "a", {}},                  // 33 hex digits
      {kMd5.substr(1), {}},              // 31
      {"0x" + kMd5, {}},                 // glued to "0x"
      {kMd5 + "g", {}},                  // glued to a letter
      {kSha256 + "0", {}},               // 65
      {kSha1 + kSha1.substr(0, 8), {}},  // 48
      {"12345678901234567890123456789012", {}},
      {"abcdefabcdefabcdefabcdefabcdefab", {}},
      {kMd5 + "@example.com", {"email " + kMd5 + "@example.com"}},

      // ---- CVE ids --------------------------------------------------------------------------
      {"CVE-2021-44228", {"cve CVE-2021-44228"}},
      {"patch cve-2021-44228 now", {"cve CVE-2021-44228"}},
      {"CVE-2024-123456", {"cve CVE-2024-123456"}},
      {"Log4Shell (CVE-2021-44228) and CVE-2021-45046.", {"cve CVE-2021-44228", "cve CVE-2021-45046"}},
      {"脆弱性CVE-2023-12345の影響", {"cve CVE-2023-12345"}},
      {"ＣＶＥ－２０２１－４４２２８", {"cve CVE-2021-44228"}},
      {"CVE-2021-123", {}},
      {"CVE-1998-1234", {}},
      {"CVE-2021-012345", {}},
      {"XCVE-2021-44228", {}},
      {"CVE-2021-44228a", {}},

      // ---- AS numbers -----------------------------------------------------------------------
      {"AS64500", {"asn AS64500"}},
      {"as64500", {"asn AS64500"}},
      {"ASN64500", {"asn AS64500"}},
      {"ASN 64496", {"asn AS64496"}},
      {"AS 64511 announced it", {"asn AS64511"}},
      {"origin AS13335.", {"asn AS13335"}},
      {"AS番号AS64500の経路", {"asn AS64500"}},
      {"AS0", {}},
      {"AS4294967296", {}},
      {"HAS64500", {}},
      {"AS64500x", {}},
      {"as 64500", {}},
      {"AS1.5", {}},
      {"CLASS3", {}},

      // ---- Prose: several kinds at once, and text with nothing in it --------------------------
      {"本日、203.0.113.50 から example.co.jp へのスキャンを検知しました。",
       {"ipv4 203.0.113.50", "domain example.co.jp"}},
      {"Phishing mail from attacker@evil.example.com linked hxxp://198.51.100.9/login and dropped " + kMd5 + ".",
       {"email attacker@evil.example.com", "url http://198.51.100.9/login", "md5 " + kMd5}},
      {"JPCERT/CC（https://www.jpcert.or.jp/）によると、AS64500配下の2001:db8::10がCVE-2023-4966を悪用。",
       {"url https://www.jpcert.or.jp/", "asn AS64500", "ipv6 2001:db8::10", "cve CVE-2023-4966"}},
      {"Timestamp 2024-01-15T12:34:56Z", {}},
      {"2024/01/15 12:34:56", {}},
      {"Call +81-3-1234-5678", {}},
      {"Price $1,234.56", {}},
      {"v2.4.1 released", {}},
      {"pip install requests==2.31.0", {}},
      {"Copyright (c) 2024", {}},
      {"日本語だけの文章です。", {}},
      {"", {}},
  };
}

class ExtractionTable : public testing::TestWithParam<Row> {
 protected:
  // One extractor for the whole table, as in production: created once, used for every text.
  static void SetUpTestSuite() {
    auto created = Extractor::Create();
    ASSERT_TRUE(created) << created.error().message();
    extractor_ = std::move(*created);
  }
  static void TearDownTestSuite() { extractor_.reset(); }
  static std::unique_ptr<Extractor> extractor_;
};
std::unique_ptr<Extractor> ExtractionTable::extractor_;

TEST_P(ExtractionTable, FindsExactlyTheExpectedObservables) {
  const Row& row = GetParam();
  auto found = extractor_->Extract(row.text);
  ASSERT_TRUE(found) << found.error().message();
  std::vector<std::string> actual;
  for (const Extracted& x : *found) {
    actual.push_back(std::string(core::ObservableTypeName(x.observable.type)) + " " + x.observable.value);
    // The raw text is where the offset says it is.
    EXPECT_EQ(std::string_view(row.text).substr(x.offset, x.raw.size()), x.raw);
  }
  EXPECT_EQ(actual, row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, ExtractionTable, testing::ValuesIn(Rows()));

TEST(ExtractionTableSize, HoldsAtLeast150RowsOfBothKinds) {
  const std::vector<Row> rows = Rows();
  std::size_t negative = 0;
  for (const Row& row : rows) negative += row.expected.empty() ? 1 : 0;
  EXPECT_GE(rows.size(), 150u);
  EXPECT_GE(negative, 50u);
  EXPECT_GE(rows.size() - negative, 100u);
}

}  // namespace
}  // namespace hikeshi::extract
