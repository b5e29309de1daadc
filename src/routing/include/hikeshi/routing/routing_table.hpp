#pragma once
// RoutingTable: which constituency an observable belongs to, by the constituencies' IP prefixes
// (longest match), AS numbers and owned domains (longest owned suffix). Built once from the
// constituency list and immutable after that, so any number of threads may look up in one table
// at once. Router (router.hpp) publishes a new table whenever the constituencies change.
//
// Pure computation: no I/O and no locks. The Lookup*() functions allocate nothing.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/observable.hpp"

namespace hikeshi::routing {

namespace detail {
struct Tables;
}  // namespace detail

// What becomes of a report or event that no constituency claims. A national coordination centre
// handles it anyway (kCoordinationQueue, the default); a team serving one organisation drops it
// (kOutOfScope).
enum class UnmatchedPolicy { kCoordinationQueue, kOutOfScope };

struct RoutingOptions {
  UnmatchedPolicy unmatched = UnmatchedPolicy::kCoordinationQueue;
  bool operator==(const RoutingOptions&) const = default;
};

// The kind of rule that matched.
enum class MatchKind { kAsn, kDomain, kIpv4Prefix, kIpv6Prefix };

struct Match {
  std::int64_t constituency_id = 0;
  MatchKind kind = MatchKind::kAsn;
  // How specific the rule is: the prefix length in bits for kIpv4Prefix (0-32) and kIpv6Prefix
  // (0-128); the number of labels of the owned domain for kDomain ("example.ac.jp" is 3); 0 for kAsn.
  int length = 0;
  bool operator==(const Match&) const = default;
};

// True if `a` is stronger evidence than `b`. An address prefix beats a domain, which beats an AS
// number: an address names the machine involved and its network's owner can act on it, a domain
// can be hosted anywhere or forged (an e-mail sender), and an AS is a whole network. Between
// prefixes the longer wins, an IPv4 length counting as that length + 96 (its place in
// ::ffff:0:0/96), so a /24 beats an IPv6 /64 and loses to an IPv6 /128. Between domains the one
// with more labels wins.
bool MoreSpecific(const Match& a, const Match& b);

enum class Disposition {
  kConstituency,       // handled for the matched constituency
  kCoordinationQueue,  // no constituency matched; a person triages it in the coordination queue
  kOutOfScope,         // no constituency matched and the policy says this is not ours to handle
};

// The routing decision for one observable or for a report's set of them.
struct Decision {
  Disposition disposition = Disposition::kCoordinationQueue;
  std::optional<Match> match;  // present exactly when disposition is kConstituency

  std::optional<std::int64_t> constituency_id() const {
    return match ? std::optional<std::int64_t>(match->constituency_id) : std::nullopt;
  }
  bool operator==(const Decision&) const = default;
};

// Two constituencies claim the same prefix, AS number or domain. The table routes it to the one
// with the lower id (whatever the list order), so the answer is stable; the list lets an admin
// see and fix the overlap.
struct Conflict {
  std::string rule;  // as the constituency wrote it: "192.0.2.0/24", "AS64500", "example.org"
  std::int64_t kept = 0;
  std::int64_t ignored = 0;
  bool operator==(const Conflict&) const = default;
};

struct TableStats {
  std::size_t ipv4_prefixes = 0;  // distinct, after mapping ::ffff:0:0/96 prefixes to IPv4
  std::size_t ipv6_prefixes = 0;
  std::size_t asns = 0;
  std::size_t domains = 0;
  std::size_t trie_bytes = 0;  // memory held by the two prefix tries
};

class RoutingTable {
 public:
  // An empty table: nothing matches, so everything is decided by `options.unmatched`.
  explicit RoutingTable(RoutingOptions options = {});

  // Builds the table from every constituency's cidrs, asns and domains. `constituencies` is only
  // read during the call. CIDRs with host bits set are taken as their network; domains are
  // normalised as core::NormalizeDomain does.
  // Errors: kInvalidArgument naming the constituency, with field "/<index>/cidrs/<n>" or
  // "/<index>/domains/<n>", for a CIDR or domain that does not parse; kTooLarge past 2^31 rules.
  [[nodiscard]] static Result<RoutingTable> Build(std::span<const core::Constituency> constituencies,
                                                  RoutingOptions options = {});

  // Move-only: a table can be large, and Router shares one by shared_ptr instead of copying it.
  // A moved-from table may only be destroyed or assigned to.
  RoutingTable(RoutingTable&&) noexcept;
  RoutingTable& operator=(RoutingTable&&) noexcept;
  RoutingTable(const RoutingTable&) = delete;
  RoutingTable& operator=(const RoutingTable&) = delete;
  ~RoutingTable();

  // The constituency an observable belongs to, or nullopt. By type:
  //   ipv4, ipv6  longest prefix holding the address. An IPv4-mapped IPv6 address
  //               (::ffff:192.0.2.1) is the IPv4 host it carries and routes as 192.0.2.1; IPv6
  //               prefixes shorter than /96 (::/0 included) do not apply to it.
  //   cidr        longest prefix holding the whole observed prefix (10.1.2.0/24 is not routed by
  //               a constituency owning only 10.1.2.128/25).
  //   domain      longest owned suffix on a label boundary: "mail.example.ac.jp" is routed by an
  //               owner of "example.ac.jp", "badexample.ac.jp" is not. IDNs match in their
  //               punycode (xn--) form, the form core normalises them to.
  //   url         by its host: an address host by address, a name by domain. The host is what
  //               follows any "user@", so "http://bank.example@evil.example/" routes as evil.example.
  //   email       by the domain after '@'.
  //   asn         "AS64500" by AS number.
  // Other types (hashes, CVE ids, file names) and values that do not parse match nothing.
  std::optional<Match> Lookup(const core::Observable& observable) const;

  // The same lookups on parsed values. `address` is in host byte order (192.0.2.1 is 0xC0000201).
  std::optional<Match> LookupIpv4(std::uint32_t address) const;
  std::optional<Match> LookupIpv6(const std::array<std::uint8_t, 16>& address) const;
  std::optional<Match> LookupAsn(std::uint32_t asn) const;
  // `name` is a normalised domain (lower case, no trailing dot).
  std::optional<Match> LookupDomain(std::string_view name) const;

  // One constituency for a set of observables (a report's, or an event's), or nullopt if none
  // matches. The rule, independent of the order of `observables`:
  //   1. each observable is looked up alone;
  //   2. the constituency holding the most specific match (MoreSpecific) wins;
  //   3. on a tie, the one matched by more of the observables (duplicates count as given);
  //   4. then the lower constituency id.
  // The returned Match is the winner's most specific one.
  std::optional<Match> Resolve(std::span<const core::Observable> observables) const;

  // Lookup() or Resolve() with the unmatched policy applied: what the caller should do.
  Decision Route(const core::Observable& observable) const;
  Decision Route(std::span<const core::Observable> observables) const;

  const RoutingOptions& options() const;
  // Rules claimed by more than one constituency, sorted by rule then by ignored id.
  const std::vector<Conflict>& conflicts() const;
  TableStats stats() const;

 private:
  explicit RoutingTable(std::unique_ptr<const detail::Tables> tables);
  Decision Decide(std::optional<Match> match) const;

  std::unique_ptr<const detail::Tables> tables_;
};

}  // namespace hikeshi::routing
