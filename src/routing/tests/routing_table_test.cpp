// RoutingTable: longest-prefix, ASN and domain-suffix routing, the set resolution rule, the
// unmatched policy and conflicts. Every expected value is worked out by hand from the rules.

#include "hikeshi/routing/routing_table.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace hikeshi::routing {
namespace {

using core::Constituency;
using core::Observable;
using core::ObservableType;

Constituency Make(std::int64_t id, std::vector<std::string> cidrs, std::vector<std::uint32_t> asns = {},
                  std::vector<std::string> domains = {}) {
  Constituency c;
  c.id = id;
  c.name = "constituency-" + std::to_string(id);
  c.cidrs = std::move(cidrs);
  c.asns = std::move(asns);
  c.domains = std::move(domains);
  return c;
}

RoutingTable BuildOrDie(const std::vector<Constituency>& constituencies, RoutingOptions options = {}) {
  auto table = RoutingTable::Build(constituencies, options);
  EXPECT_TRUE(table.has_value()) << (table ? "" : table.error().message());
  return std::move(*table);
}

Observable Ip(std::string value) {
  return {value.find(':') == std::string::npos ? ObservableType::kIpv4 : ObservableType::kIpv6, std::move(value)};
}

// The constituency id an observable routes to, or -1 for none (easier to read in failures).
std::int64_t IdOf(const RoutingTable& table, const Observable& observable) {
  const auto match = table.Lookup(observable);
  return match ? match->constituency_id : -1;
}

std::int64_t IdOfIp(const RoutingTable& table, std::string address) { return IdOf(table, Ip(std::move(address))); }

// ---- IPv4 longest prefix ---------------------------------------------------------------------

TEST(RoutingTableIpv4, NestedPrefixesLongestWins) {
  const auto table = BuildOrDie(
      {Make(1, {"10.0.0.0/8"}), Make(2, {"10.1.0.0/16"}), Make(3, {"10.1.2.0/24"}), Make(4, {"10.1.2.3/32"})});
  EXPECT_EQ(IdOfIp(table, "10.1.2.3"), 4);
  EXPECT_EQ(IdOfIp(table, "10.1.2.4"), 3);
  EXPECT_EQ(IdOfIp(table, "10.1.2.2"), 3);
  EXPECT_EQ(IdOfIp(table, "10.1.3.1"), 2);
  EXPECT_EQ(IdOfIp(table, "10.1.255.255"), 2);
  EXPECT_EQ(IdOfIp(table, "10.2.0.0"), 1);
  EXPECT_EQ(IdOfIp(table, "10.255.255.255"), 1);
  EXPECT_EQ(IdOfIp(table, "9.255.255.255"), -1);
  EXPECT_EQ(IdOfIp(table, "11.0.0.0"), -1);
}

TEST(RoutingTableIpv4, MatchReportsKindAndLength) {
  const auto table = BuildOrDie({Make(1, {"10.0.0.0/8", "10.1.2.0/24"}), Make(2, {"10.1.2.3/32"})});
  EXPECT_EQ(table.LookupIpv4(0x0A010203), (Match{2, MatchKind::kIpv4Prefix, 32}));
  EXPECT_EQ(table.LookupIpv4(0x0A010204), (Match{1, MatchKind::kIpv4Prefix, 24}));
  EXPECT_EQ(table.LookupIpv4(0x0A7F0000), (Match{1, MatchKind::kIpv4Prefix, 8}));
  EXPECT_EQ(table.LookupIpv4(0x0B000000), std::nullopt);
}

TEST(RoutingTableIpv4, HostRoutesAtTheEdgesOfTheSpace) {
  const auto table = BuildOrDie({Make(1, {"0.0.0.0/32"}), Make(2, {"255.255.255.255/32"}), Make(3, {"0.0.0.1/32"})});
  EXPECT_EQ(IdOfIp(table, "0.0.0.0"), 1);
  EXPECT_EQ(IdOfIp(table, "0.0.0.1"), 3);
  EXPECT_EQ(IdOfIp(table, "0.0.0.2"), -1);
  EXPECT_EQ(IdOfIp(table, "255.255.255.255"), 2);
  EXPECT_EQ(IdOfIp(table, "255.255.255.254"), -1);
}

TEST(RoutingTableIpv4, DefaultRouteCatchesWhatNothingLongerDoes) {
  const auto table = BuildOrDie({Make(9, {"0.0.0.0/0"}), Make(1, {"192.0.2.0/24"})});
  EXPECT_EQ(IdOfIp(table, "192.0.2.200"), 1);
  EXPECT_EQ(IdOfIp(table, "198.51.100.7"), 9);
  EXPECT_EQ(table.LookupIpv4(0xC6336407), (Match{9, MatchKind::kIpv4Prefix, 0}));
  EXPECT_EQ(IdOfIp(table, "0.0.0.0"), 9);
  EXPECT_EQ(IdOfIp(table, "255.255.255.255"), 9);
  // An IPv4 default route says nothing about IPv6.
  EXPECT_EQ(IdOfIp(table, "2001:db8::1"), -1);
}

// Lengths that are not multiples of 8, that end inside the trie's 6-bit strides and on their edges
// (for IPv4 the flat array covers 18 bits, then strides start at bits 18, 24 and 30).
TEST(RoutingTableIpv4, UnalignedLengthsAndStrideBoundaries) {
  const auto table = BuildOrDie({Make(1, {"172.16.0.0/12"}), Make(2, {"100.64.0.0/10"}), Make(3, {"192.0.2.128/25"}),
                                 Make(4, {"192.0.2.64/26"}), Make(5, {"198.18.0.0/15"}), Make(6, {"203.0.112.0/22"}),
                                 Make(7, {"203.0.113.0/28"}), Make(8, {"203.0.113.16/29"}), Make(9, {"10.64.0.0/18"}),
                                 Make(10, {"10.64.32.0/19"}), Make(11, {"203.0.113.28/31"})});
  EXPECT_EQ(IdOfIp(table, "172.16.0.0"), 1);
  EXPECT_EQ(IdOfIp(table, "172.31.255.255"), 1);
  EXPECT_EQ(IdOfIp(table, "172.32.0.0"), -1);
  EXPECT_EQ(IdOfIp(table, "172.15.255.255"), -1);
  EXPECT_EQ(IdOfIp(table, "100.127.255.255"), 2);
  EXPECT_EQ(IdOfIp(table, "100.128.0.0"), -1);
  EXPECT_EQ(IdOfIp(table, "192.0.2.127"), 4);
  EXPECT_EQ(IdOfIp(table, "192.0.2.128"), 3);
  EXPECT_EQ(IdOfIp(table, "192.0.2.63"), -1);
  EXPECT_EQ(IdOfIp(table, "198.19.255.255"), 5);
  EXPECT_EQ(IdOfIp(table, "198.20.0.0"), -1);
  EXPECT_EQ(IdOfIp(table, "203.0.115.255"), 6);
  EXPECT_EQ(IdOfIp(table, "203.0.116.0"), -1);
  EXPECT_EQ(IdOfIp(table, "203.0.113.15"), 7);
  EXPECT_EQ(IdOfIp(table, "203.0.113.16"), 8);
  EXPECT_EQ(IdOfIp(table, "203.0.113.23"), 8);
  EXPECT_EQ(IdOfIp(table, "203.0.113.24"), 6);
  EXPECT_EQ(IdOfIp(table, "203.0.113.27"), 6);
  EXPECT_EQ(IdOfIp(table, "203.0.113.28"), 11);
  EXPECT_EQ(IdOfIp(table, "203.0.113.29"), 11);
  EXPECT_EQ(IdOfIp(table, "203.0.113.30"), 6);
  EXPECT_EQ(IdOfIp(table, "10.64.0.0"), 9);
  EXPECT_EQ(IdOfIp(table, "10.64.31.255"), 9);
  EXPECT_EQ(IdOfIp(table, "10.64.32.0"), 10);
  EXPECT_EQ(IdOfIp(table, "10.64.63.255"), 10);
  EXPECT_EQ(IdOfIp(table, "10.64.64.0"), -1);
  EXPECT_EQ(IdOfIp(table, "10.63.255.255"), -1);
}

TEST(RoutingTableIpv4, HostBitsInAConstituencyPrefixAreIgnored) {
  const auto table = BuildOrDie({Make(1, {"192.0.2.77/24"})});
  EXPECT_EQ(IdOfIp(table, "192.0.2.1"), 1);
  EXPECT_EQ(IdOfIp(table, "192.0.3.1"), -1);
}

// ---- IPv6 ------------------------------------------------------------------------------------

TEST(RoutingTableIpv6, NestedPrefixesLongestWins) {
  const auto table = BuildOrDie({Make(1, {"2001:db8::/32"}), Make(2, {"2001:db8:1::/48"}),
                                 Make(3, {"2001:db8:1:2::/64"}), Make(4, {"2001:db8:1:2::1/128"})});
  EXPECT_EQ(IdOfIp(table, "2001:db8:1:2::1"), 4);
  EXPECT_EQ(IdOfIp(table, "2001:db8:1:2::2"), 3);
  EXPECT_EQ(IdOfIp(table, "2001:db8:1:2:ffff:ffff:ffff:ffff"), 3);
  EXPECT_EQ(IdOfIp(table, "2001:db8:1:3::1"), 2);
  EXPECT_EQ(IdOfIp(table, "2001:db8:2::1"), 1);
  EXPECT_EQ(IdOfIp(table, "2001:db9::1"), -1);
  EXPECT_EQ(IdOfIp(table, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), -1);
  const auto match = table.Lookup(Ip("2001:db8:1:2::1"));
  ASSERT_TRUE(match);
  EXPECT_EQ(*match, (Match{4, MatchKind::kIpv6Prefix, 128}));
}

TEST(RoutingTableIpv6, PrefixesInTheLowHalfOfTheAddress) {
  // /96, /124 and /127 end in the second 64-bit word, where the last stride runs past bit 128.
  const auto table =
      BuildOrDie({Make(1, {"2001:db8::/96"}), Make(2, {"2001:db8::a:b:c0/124"}), Make(3, {"2001:db8::a:b:ce/127"})});
  EXPECT_EQ(IdOfIp(table, "2001:db8::a:b:cf"), 3);
  EXPECT_EQ(IdOfIp(table, "2001:db8::a:b:ce"), 3);
  EXPECT_EQ(IdOfIp(table, "2001:db8::a:b:cd"), 2);
  EXPECT_EQ(IdOfIp(table, "2001:db8::a:b:c0"), 2);
  EXPECT_EQ(IdOfIp(table, "2001:db8::a:b:d0"), -1);
  EXPECT_EQ(IdOfIp(table, "2001:db8::ffff:ffff"), 1);
  EXPECT_EQ(IdOfIp(table, "2001:db8::1:0:0"), -1);
}

TEST(RoutingTableIpv6, DefaultRouteAndLoopbackHostRoute) {
  const auto table = BuildOrDie({Make(9, {"::/0"}), Make(1, {"::1/128"})});
  EXPECT_EQ(IdOfIp(table, "::1"), 1);
  EXPECT_EQ(IdOfIp(table, "::"), 9);
  EXPECT_EQ(IdOfIp(table, "::2"), 9);
  EXPECT_EQ(IdOfIp(table, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 9);
  // An IPv6 default route says nothing about IPv4.
  EXPECT_EQ(IdOfIp(table, "192.0.2.1"), -1);
}

TEST(RoutingTableIpv6, MappedAddressRoutesAsItsIpv4Host) {
  const auto table = BuildOrDie({Make(1, {"192.0.2.0/24"}), Make(2, {"::/0"})});
  EXPECT_EQ(IdOfIp(table, "::ffff:192.0.2.1"), 1);
  const auto match = table.Lookup(Ip("::ffff:192.0.2.1"));
  ASSERT_TRUE(match);
  EXPECT_EQ(*match, (Match{1, MatchKind::kIpv4Prefix, 24}));
  // IPv6 prefixes shorter than /96 do not apply: the mapped address is IPv4 traffic.
  EXPECT_EQ(IdOfIp(table, "::ffff:198.51.100.1"), -1);
  // Only ::ffff:0:0/96 is mapped; the deprecated IPv4-compatible form is plain IPv6.
  EXPECT_EQ(IdOfIp(table, "::192.0.2.1"), 2);
}

TEST(RoutingTableIpv6, MappedConstituencyPrefixActsAsIpv4) {
  const auto table = BuildOrDie({Make(1, {"::ffff:198.51.100.0/120"})});
  EXPECT_EQ(IdOfIp(table, "198.51.100.9"), 1);
  EXPECT_EQ(IdOfIp(table, "::ffff:198.51.100.9"), 1);
  EXPECT_EQ(IdOfIp(table, "198.51.101.9"), -1);
  EXPECT_EQ(table.LookupIpv4(0xC6336409), (Match{1, MatchKind::kIpv4Prefix, 24}));
  EXPECT_EQ(table.stats().ipv4_prefixes, 1u);
  EXPECT_EQ(table.stats().ipv6_prefixes, 0u);
}

// ---- Overlapping constituencies and conflicts ----------------------------------------------

TEST(RoutingTableOverlap, AConstituencyInsideAnotherTakesItsOwnHosts) {
  // A university network with a hospital's /24 inside it, both served by the same CSIRT.
  const auto table = BuildOrDie(
      {Make(1, {"203.0.112.0/21", "2001:db8::/32"}), Make(2, {"203.0.113.0/24"}), Make(3, {"2001:db8:beef::/48"})});
  EXPECT_EQ(IdOfIp(table, "203.0.113.9"), 2);
  EXPECT_EQ(IdOfIp(table, "203.0.114.9"), 1);
  EXPECT_EQ(IdOfIp(table, "2001:db8:beef::9"), 3);
  EXPECT_EQ(IdOfIp(table, "2001:db8:bee0::9"), 1);
}

TEST(RoutingTableOverlap, SamePrefixClaimedTwiceGoesToTheLowerIdAndIsReported) {
  for (const bool reversed : {false, true}) {
    std::vector<Constituency> list = {Make(7, {"192.0.2.0/24"}, {64500}, {"example.org"}),
                                      Make(3, {"192.0.2.0/24"}, {64500}, {"example.org"})};
    if (reversed) std::swap(list[0], list[1]);
    const auto table = BuildOrDie(list);
    EXPECT_EQ(IdOfIp(table, "192.0.2.1"), 3) << reversed;
    EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "AS64500"}), 3) << reversed;
    EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "www.example.org"}), 3) << reversed;
    const std::vector<Conflict> expected = {{"192.0.2.0/24", 3, 7}, {"AS64500", 3, 7}, {"example.org", 3, 7}};
    EXPECT_EQ(table.conflicts(), expected) << reversed;
  }
}

TEST(RoutingTableOverlap, ThreeClaimantsAllReportTheFinalOwner) {
  const auto table = BuildOrDie({Make(5, {"2001:db8::/32"}), Make(3, {"2001:db8::/32"}), Make(8, {"2001:db8::/32"})});
  EXPECT_EQ(IdOfIp(table, "2001:db8::1"), 3);
  const std::vector<Conflict> expected = {{"2001:db8::/32", 3, 5}, {"2001:db8::/32", 3, 8}};
  EXPECT_EQ(table.conflicts(), expected);
}

TEST(RoutingTableOverlap, RepeatingARuleInOneConstituencyIsNoConflict) {
  const auto table =
      BuildOrDie({Make(1, {"192.0.2.0/24", "192.0.2.0/24"}, {64500, 64500}, {"a.example", "a.example"})});
  EXPECT_TRUE(table.conflicts().empty());
  EXPECT_EQ(IdOfIp(table, "192.0.2.1"), 1);
}

// ---- ASN -------------------------------------------------------------------------------------

TEST(RoutingTableAsn, AsNumbersRouteExactly) {
  const auto table = BuildOrDie({Make(1, {}, {64500, 4200000000u}), Make(2, {}, {64501})});
  EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "AS64500"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "AS64501"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "AS4200000000"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "AS64502"}), -1);
  EXPECT_EQ(table.LookupAsn(64500), (Match{1, MatchKind::kAsn, 0}));
  EXPECT_EQ(table.LookupAsn(6450), std::nullopt);
}

// ---- Domains ---------------------------------------------------------------------------------

TEST(RoutingTableDomain, SubdomainsRouteToTheOwnerOfTheirParent) {
  const auto table = BuildOrDie({Make(1, {}, {}, {"example.ac.jp"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "example.ac.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "mail.example.ac.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "a.b.c.example.ac.jp"}), 1);
  EXPECT_EQ(table.LookupDomain("mail.example.ac.jp"), (Match{1, MatchKind::kDomain, 3}));
  // A parent of an owned domain is not owned.
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "ac.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "other.ac.jp"}), -1);
}

TEST(RoutingTableDomain, SuffixesMatchOnlyOnLabelBoundaries) {
  const auto table = BuildOrDie({Make(1, {}, {}, {"example.ac.jp"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "badexample.ac.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "mail.badexample.ac.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "example.ac.jp.evil.example"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "xexample.ac.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "example-ac.jp"}), -1);
}

TEST(RoutingTableDomain, LongestOwnedSuffixWins) {
  const auto table = BuildOrDie(
      {Make(1, {}, {}, {"example.ac.jp"}), Make(2, {}, {}, {"lab.example.ac.jp"}), Make(3, {}, {}, {"ac.jp"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "www.lab.example.ac.jp"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "lab.example.ac.jp"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "www.example.ac.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "xlab.example.ac.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "other.ac.jp"}), 3);
  EXPECT_EQ(table.LookupDomain("www.lab.example.ac.jp"), (Match{2, MatchKind::kDomain, 4}));
}

TEST(RoutingTableDomain, PunycodeDomainsMatchByTheirAsciiForm) {
  // 日本語.jp and テスト.ドメイン名例 in their A-label form, which is how core normalises IDNs.
  const auto table =
      BuildOrDie({Make(1, {}, {}, {"xn--wgv71a119e.jp"}), Make(2, {}, {}, {"xn--zckzah.xn--eckwd4c7cu47r2wf"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "xn--wgv71a119e.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "www.xn--wgv71a119e.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "xn--zckzah.xn--wgv71a119e.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "mail.xn--zckzah.xn--eckwd4c7cu47r2wf"}), 2);
  // Label boundaries hold for A-labels too.
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "axn--wgv71a119e.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "wgv71a119e.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "xn--eckwd4c7cu47r2wf"}), -1);
}

TEST(RoutingTableDomain, ConstituencyDomainsAreNormalisedAtBuild) {
  const auto table = BuildOrDie({Make(1, {}, {}, {"Example.AC.JP."})});
  EXPECT_EQ(IdOf(table, {ObservableType::kDomain, "www.example.ac.jp"}), 1);
}

// ---- Other observable types ------------------------------------------------------------------

TEST(RoutingTableObservable, UrlsRouteByTheirHost) {
  const auto table = BuildOrDie({Make(1, {"192.0.2.0/24"}), Make(2, {"2001:db8::/32"}),
                                 Make(3, {}, {}, {"example.ac.jp"}), Make(4, {"203.0.113.0/24"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://192.0.2.5:8080/login.php?x=1"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "https://[2001:db8::5]/"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "https://[2001:db8::5]:8443/a"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://www.example.ac.jp/phish"}), 3);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://www.example.ac.jp:8080"}), 3);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://www.example.ac.jp#frag"}), 3);
  // The host follows the userinfo: this URL opens 203.0.113.7, not the university.
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://www.example.ac.jp@203.0.113.7/"}), 4);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://user:pw@www.example.ac.jp/"}), 3);
  // A domain in the path or query is not the host.
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://evil.example/www.example.ac.jp"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "http://evil.example/?u=http://192.0.2.5/"}), -1);
}

TEST(RoutingTableObservable, EmailAddressesRouteByTheirDomain) {
  const auto table = BuildOrDie({Make(1, {}, {}, {"example.ac.jp"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kEmail, "abuse@mail.example.ac.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kEmail, "taro@example.ac.jp"}), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kEmail, "example.ac.jp@gmail.example"}), -1);
}

TEST(RoutingTableObservable, CidrRoutesByThePrefixHoldingAllOfIt) {
  const auto table = BuildOrDie(
      {Make(1, {"10.0.0.0/8"}), Make(2, {"10.1.0.0/16"}), Make(3, {"10.1.2.128/25"}), Make(4, {"2001:db8::/32"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "10.1.2.0/24"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "10.1.2.128/25"}), 3);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "10.1.2.192/26"}), 3);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "10.1.0.0/16"}), 2);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "10.0.0.0/7"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "2001:db8:1::/48"}), 4);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "2001:db8::/31"}), -1);
  const auto match = table.Lookup({ObservableType::kCidr, "10.1.2.0/24"});
  ASSERT_TRUE(match);
  EXPECT_EQ(*match, (Match{2, MatchKind::kIpv4Prefix, 16}));
}

TEST(RoutingTableObservable, TypesWithoutAnOwnerAndMalformedValuesMatchNothing) {
  const auto table = BuildOrDie({Make(1, {"0.0.0.0/0", "::/0"}, {64500}, {"example.org"})});
  EXPECT_EQ(IdOf(table, {ObservableType::kMd5, "d41d8cd98f00b204e9800998ecf8427e"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kCve, "CVE-2024-12345"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kFilename, "example.org"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kIpv4, "not an address"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kIpv4, "192.0.2.1.5"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kIpv6, "2001:db8:::1"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kIpv4, std::string(1000, '1')}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kCidr, "192.0.2.0/33"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "ASN64500"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kUrl, "no scheme here"}), -1);
  EXPECT_EQ(IdOf(table, {ObservableType::kEmail, "nobody"}), -1);
  // The same table routes well-formed values, so the -1s above are about the values.
  EXPECT_EQ(IdOfIp(table, "192.0.2.1"), 1);
  EXPECT_EQ(IdOf(table, {ObservableType::kAsn, "AS64500"}), 1);
}

// ---- Resolution across a set -----------------------------------------------------------------

class RoutingTableResolve : public ::testing::Test {
 protected:
  // 1: a /16 and a domain. 2: a /24 inside it. 3: another /24. 4: an AS and an IPv6 /48.
  // 5: an IPv6 host route.
  RoutingTable table_ =
      BuildOrDie({Make(1, {"198.51.0.0/16"}, {}, {"example.ac.jp"}), Make(2, {"198.51.100.0/24"}),
                  Make(3, {"203.0.113.0/24"}), Make(4, {"2001:db8:4::/48"}, {64500}), Make(5, {"2001:db8:5::1/128"})});

  std::int64_t Winner(const std::vector<Observable>& observables) const {
    const auto match = table_.Resolve(observables);
    return match ? match->constituency_id : -1;
  }
};

TEST_F(RoutingTableResolve, TheLongerPrefixWinsAcrossObservables) {
  EXPECT_EQ(Winner({Ip("198.51.7.7"), Ip("198.51.100.7")}), 2);
  EXPECT_EQ(Winner({Ip("198.51.100.7"), Ip("198.51.7.7")}), 2);
}

TEST_F(RoutingTableResolve, AnAddressBeatsADomainWhichBeatsAnAsn) {
  EXPECT_EQ(Winner({{ObservableType::kDomain, "www.example.ac.jp"}, Ip("203.0.113.9")}), 3);
  EXPECT_EQ(Winner({{ObservableType::kAsn, "AS64500"}, {ObservableType::kEmail, "a@example.ac.jp"}}), 1);
  EXPECT_EQ(Winner({{ObservableType::kAsn, "AS64500"}}), 4);
}

TEST_F(RoutingTableResolve, Ipv4AndIpv6LengthsCompareOnOneScale) {
  // An IPv4 /24 (= /120 in ::ffff:0:0/96) beats an IPv6 /48 and loses to an IPv6 /128.
  EXPECT_EQ(Winner({Ip("2001:db8:4::9"), Ip("203.0.113.9")}), 3);
  EXPECT_EQ(Winner({Ip("203.0.113.9"), Ip("2001:db8:5::1")}), 5);
}

TEST_F(RoutingTableResolve, EqualSpecificityGoesToTheConstituencyMoreObservablesPointTo) {
  EXPECT_EQ(Winner({Ip("203.0.113.1"), Ip("198.51.100.1"), Ip("203.0.113.2")}), 3);
  EXPECT_EQ(Winner({Ip("198.51.100.1"), Ip("203.0.113.1"), Ip("198.51.100.2")}), 2);
}

TEST_F(RoutingTableResolve, AFullTieGoesToTheLowerIdWhateverTheOrder) {
  EXPECT_EQ(Winner({Ip("203.0.113.1"), Ip("198.51.100.1")}), 2);
  EXPECT_EQ(Winner({Ip("198.51.100.1"), Ip("203.0.113.1")}), 2);
}

TEST_F(RoutingTableResolve, TheWinnersMostSpecificMatchIsReturned) {
  const auto match =
      table_.Resolve(std::vector<Observable>{{ObservableType::kDomain, "example.ac.jp"}, Ip("198.51.7.7")});
  ASSERT_TRUE(match);
  EXPECT_EQ(*match, (Match{1, MatchKind::kIpv4Prefix, 16}));
}

TEST_F(RoutingTableResolve, NothingMatchingResolvesToNothing) {
  EXPECT_EQ(Winner({}), -1);
  EXPECT_EQ(Winner({Ip("192.0.2.1"), {ObservableType::kSha256, std::string(64, 'a')}}), -1);
}

// ---- The unmatched policy --------------------------------------------------------------------

TEST(RoutingTablePolicy, UnmatchedGoesToTheCoordinationQueueByDefault) {
  const auto table = BuildOrDie({Make(1, {"192.0.2.0/24"})});
  const Decision decision = table.Route(Ip("198.51.100.1"));
  EXPECT_EQ(decision.disposition, Disposition::kCoordinationQueue);
  EXPECT_EQ(decision.match, std::nullopt);
  EXPECT_EQ(decision.constituency_id(), std::nullopt);
  EXPECT_EQ(table.Route(std::vector<Observable>{}).disposition, Disposition::kCoordinationQueue);
}

TEST(RoutingTablePolicy, UnmatchedIsOutOfScopeWhenConfigured) {
  const auto table = BuildOrDie({Make(1, {"192.0.2.0/24"})}, {UnmatchedPolicy::kOutOfScope});
  EXPECT_EQ(table.Route(Ip("198.51.100.1")).disposition, Disposition::kOutOfScope);
  EXPECT_EQ(table.Route(std::vector<Observable>{Ip("198.51.100.1")}).disposition, Disposition::kOutOfScope);
  EXPECT_EQ(table.options().unmatched, UnmatchedPolicy::kOutOfScope);
}

TEST(RoutingTablePolicy, AMatchIsRoutedWhateverThePolicy) {
  for (const auto policy : {UnmatchedPolicy::kCoordinationQueue, UnmatchedPolicy::kOutOfScope}) {
    const auto table = BuildOrDie({Make(1, {"192.0.2.0/24"})}, {policy});
    const Decision decision = table.Route(Ip("192.0.2.1"));
    EXPECT_EQ(decision.disposition, Disposition::kConstituency);
    EXPECT_EQ(decision.constituency_id(), 1);
    EXPECT_EQ(table.Route(std::vector<Observable>{Ip("198.51.100.1"), Ip("192.0.2.1")}).constituency_id(), 1);
  }
}

TEST(RoutingTablePolicy, AnEmptyTableAppliesThePolicyToEverything) {
  const RoutingTable queue;
  const RoutingTable drop(RoutingOptions{UnmatchedPolicy::kOutOfScope});
  EXPECT_EQ(queue.Route(Ip("192.0.2.1")).disposition, Disposition::kCoordinationQueue);
  EXPECT_EQ(drop.Route(Ip("2001:db8::1")).disposition, Disposition::kOutOfScope);
  EXPECT_EQ(drop.Route({ObservableType::kDomain, "example.org"}).disposition, Disposition::kOutOfScope);
}

// ---- Building --------------------------------------------------------------------------------

TEST(RoutingTableBuild, AMalformedCidrIsRefusedNamingWhereItIs) {
  const auto table = RoutingTable::Build(
      std::vector<Constituency>{Make(1, {"192.0.2.0/24"}), Make(2, {"198.51.100.0/24", "192.0.2.0/33"})});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(table.error().field(), "/1/cidrs/1");
  EXPECT_NE(table.error().message().find("constituency-2"), std::string::npos) << table.error().message();
  EXPECT_NE(table.error().message().find("192.0.2.0/33"), std::string::npos) << table.error().message();
}

TEST(RoutingTableBuild, OtherMalformedCidrsAreRefused) {
  for (const std::string bad : {"192.0.2.0", "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/2x", "192.0.2/24",
                                "2001:db8::/129", "2001:db8:::/32", "/24", "example.org/24"}) {
    const auto table = RoutingTable::Build(std::vector<Constituency>{Make(1, {bad})});
    EXPECT_FALSE(table) << bad;
  }
}

TEST(RoutingTableBuild, AMalformedDomainIsRefusedNamingWhereItIs) {
  const auto table = RoutingTable::Build(std::vector<Constituency>{Make(1, {}, {}, {"ok.example", "-bad-.example"})});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(table.error().field(), "/0/domains/1");
}

TEST(RoutingTableBuild, StatsCountDistinctRules) {
  const auto table = BuildOrDie({Make(1, {"192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32"}, {64500}, {"a.example"}),
                                 Make(2, {"192.0.2.0/24"}, {64500, 64501}, {"b.example"})});
  const TableStats stats = table.stats();
  EXPECT_EQ(stats.ipv4_prefixes, 2u);
  EXPECT_EQ(stats.ipv6_prefixes, 1u);
  EXPECT_EQ(stats.asns, 2u);
  EXPECT_EQ(stats.domains, 2u);
  EXPECT_GT(stats.trie_bytes, 0u);
}

}  // namespace
}  // namespace hikeshi::routing
