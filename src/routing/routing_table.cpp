#include "hikeshi/routing/routing_table.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <utility>

#include "detail/address.hpp"
#include "detail/tables.hpp"

namespace hikeshi::routing {

namespace {

using detail::Prefix;

// The tries tell a value from a node index by the top bit, so route indices must stay below it.
constexpr std::size_t kMaxRoutes = 0x7fff'ffff;

int EvidenceRank(MatchKind kind) {
  switch (kind) {
    case MatchKind::kAsn:
      return 0;
    case MatchKind::kDomain:
      return 1;
    case MatchKind::kIpv4Prefix:
    case MatchKind::kIpv6Prefix:
      return 2;
  }
  return 0;
}

// The length on one scale for both address families: IPv4 sits at ::ffff:0:0/96.
int ScaledLength(const Match& match) { return match.kind == MatchKind::kIpv4Prefix ? match.length + 96 : match.length; }

// MoreSpecific, made total so that Resolve's answer never depends on input order: between an IPv4
// and an IPv6 prefix of equal scaled length, IPv4 is taken.
bool Stronger(const Match& a, const Match& b) {
  if (MoreSpecific(a, b)) return true;
  if (MoreSpecific(b, a)) return false;
  return a.kind == MatchKind::kIpv4Prefix && b.kind == MatchKind::kIpv6Prefix;
}

bool IsDottedQuadShape(std::string_view host) {
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

std::optional<std::uint32_t> ParseAsnValue(std::string_view text) {
  if (text.size() > 2 && (text[0] == 'A' || text[0] == 'a') && (text[1] == 'S' || text[1] == 's')) {
    text.remove_prefix(2);
  }
  std::uint32_t asn = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), asn);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return asn;
}

// A rule that two constituencies claimed; who keeps it is read back once every claim is in.
struct LostClaim {
  MatchKind kind;
  Prefix prefix;
  std::uint32_t asn = 0;
  std::string name;
  Conflict conflict;
};

Error BadRule(const core::Constituency& constituency, std::size_t index, std::string_view list, std::size_t n,
              std::string message) {
  return Error::InvalidArgument(
      "constituency '" + constituency.name + "' (id " + std::to_string(constituency.id) + "): " + std::move(message),
      "/" + std::to_string(index) + "/" + std::string(list) + "/" + std::to_string(n));
}

}  // namespace

bool MoreSpecific(const Match& a, const Match& b) {
  const int rank_a = EvidenceRank(a.kind);
  const int rank_b = EvidenceRank(b.kind);
  if (rank_a != rank_b) return rank_a > rank_b;
  if (rank_a == EvidenceRank(MatchKind::kAsn)) return false;
  return ScaledLength(a) > ScaledLength(b);
}

RoutingTable::RoutingTable(RoutingOptions options)
    : tables_([&] {
        auto tables = std::make_unique<detail::Tables>();
        tables->options = options;
        return tables;
      }()) {}

RoutingTable::RoutingTable(std::unique_ptr<const detail::Tables> tables) : tables_(std::move(tables)) {}
RoutingTable::RoutingTable(RoutingTable&&) noexcept = default;
RoutingTable& RoutingTable::operator=(RoutingTable&&) noexcept = default;
RoutingTable::~RoutingTable() = default;

Result<RoutingTable> RoutingTable::Build(std::span<const core::Constituency> constituencies, RoutingOptions options) {
  auto tables = std::make_unique<detail::Tables>();
  tables->options = options;
  std::vector<LostClaim> lost;

  // Records `id`'s claim on a rule `current` already holds: the lower id keeps it.
  auto contest = [&lost](Match& current, std::int64_t id, LostClaim claim) {
    if (current.constituency_id == id) return;
    claim.conflict.ignored = std::max(current.constituency_id, id);
    current.constituency_id = std::min(current.constituency_id, id);
    lost.push_back(std::move(claim));
  };

  std::vector<detail::PrefixTrie<32>::Entry> ipv4;
  std::vector<detail::PrefixTrie<128>::Entry> ipv6;
  for (std::size_t index = 0; index < constituencies.size(); ++index) {
    const core::Constituency& constituency = constituencies[index];
    const std::int64_t id = constituency.id;

    for (std::size_t n = 0; n < constituency.cidrs.size(); ++n) {
      const std::string& text = constituency.cidrs[n];
      const auto prefix = detail::ParsePrefix(text);
      if (!prefix) return Fail(BadRule(constituency, index, "cidrs", n, "'" + text + "' is not a CIDR prefix"));
      const auto [it, inserted] =
          tables->prefixes.try_emplace(*prefix, static_cast<std::uint32_t>(tables->routes.size()));
      if (!inserted) {
        const MatchKind kind = prefix->ipv6 ? MatchKind::kIpv6Prefix : MatchKind::kIpv4Prefix;
        contest(tables->routes[it->second], id, {kind, *prefix, 0, {}, {text, 0, 0}});
        continue;
      }
      if (tables->routes.size() >= kMaxRoutes) return Fail(Error::TooLarge("more than 2^31 prefixes"));
      const MatchKind kind = prefix->ipv6 ? MatchKind::kIpv6Prefix : MatchKind::kIpv4Prefix;
      tables->routes.push_back({id, kind, prefix->length});
      if (prefix->ipv6) {
        ipv6.push_back({prefix->network, prefix->length, it->second});
        tables->ipv6_lengths.set(static_cast<std::size_t>(prefix->length));
      } else {
        ipv4.push_back({prefix->network, prefix->length, it->second});
        tables->ipv4_lengths.set(static_cast<std::size_t>(prefix->length));
      }
    }

    for (const std::uint32_t asn : constituency.asns) {
      const auto [it, inserted] = tables->asns.try_emplace(asn, Match{id, MatchKind::kAsn, 0});
      if (!inserted) contest(it->second, id, {MatchKind::kAsn, {}, asn, {}, {"AS" + std::to_string(asn), 0, 0}});
    }

    for (std::size_t n = 0; n < constituency.domains.size(); ++n) {
      auto name = core::NormalizeDomain(constituency.domains[n]);
      if (!name) return Fail(BadRule(constituency, index, "domains", n, name.error().message()));
      const int labels = static_cast<int>(std::count(name->begin(), name->end(), '.')) + 1;
      const auto [it, inserted] = tables->domains.try_emplace(*name, Match{id, MatchKind::kDomain, labels});
      if (!inserted) contest(it->second, id, {MatchKind::kDomain, {}, 0, *name, {*name, 0, 0}});
    }
  }

  tables->ipv4 = detail::PrefixTrie<32>::Build(ipv4);
  tables->ipv6 = detail::PrefixTrie<128>::Build(ipv6);

  for (LostClaim& claim : lost) {
    switch (claim.kind) {
      case MatchKind::kIpv4Prefix:
      case MatchKind::kIpv6Prefix:
        claim.conflict.kept = tables->routes[tables->prefixes.at(claim.prefix)].constituency_id;
        break;
      case MatchKind::kAsn:
        claim.conflict.kept = tables->asns.at(claim.asn).constituency_id;
        break;
      case MatchKind::kDomain:
        claim.conflict.kept = tables->domains.at(claim.name).constituency_id;
        break;
    }
    tables->conflicts.push_back(std::move(claim.conflict));
  }
  std::sort(tables->conflicts.begin(), tables->conflicts.end(), [](const Conflict& a, const Conflict& b) {
    return std::tie(a.rule, a.ignored, a.kept) < std::tie(b.rule, b.ignored, b.kept);
  });
  return RoutingTable(std::move(tables));
}

std::optional<Match> RoutingTable::LookupIpv4(std::uint32_t address) const {
  const std::uint32_t route = tables_->ipv4.Lookup(detail::Ipv4Key(address));
  if (route == 0) return std::nullopt;
  return tables_->routes[route];
}

std::optional<Match> RoutingTable::LookupIpv6(const std::array<std::uint8_t, 16>& address) const {
  if (const auto mapped = detail::MappedIpv4(address)) return LookupIpv4(*mapped);
  const std::uint32_t route = tables_->ipv6.Lookup(detail::Ipv6Key(address));
  if (route == 0) return std::nullopt;
  return tables_->routes[route];
}

std::optional<Match> RoutingTable::LookupAsn(std::uint32_t asn) const {
  const auto it = tables_->asns.find(asn);
  if (it == tables_->asns.end()) return std::nullopt;
  return it->second;
}

std::optional<Match> RoutingTable::LookupDomain(std::string_view name) const {
  // Owned suffixes are tried longest first, dropping one whole label at a time, so the first hit
  // is the longest owned suffix and "badexample.ac.jp" never tries "example.ac.jp".
  while (!name.empty()) {
    if (const auto it = tables_->domains.find(name); it != tables_->domains.end()) return it->second;
    const std::size_t dot = name.find('.');
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

std::optional<Match> RoutingTable::Lookup(const core::Observable& observable) const {
  const std::string_view value = observable.value;
  auto by_host = [this](std::string_view host) -> std::optional<Match> {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      const auto address = detail::ParseIpv6(host.substr(1, host.size() - 2));
      return address ? LookupIpv6(*address) : std::nullopt;
    }
    if (IsDottedQuadShape(host)) {
      const auto address = detail::ParseIpv4(host);
      return address ? LookupIpv4(*address) : std::nullopt;
    }
    return LookupDomain(host);
  };

  switch (observable.type) {
    case core::ObservableType::kIpv4: {
      const auto address = detail::ParseIpv4(value);
      return address ? LookupIpv4(*address) : std::nullopt;
    }
    case core::ObservableType::kIpv6: {
      const auto address = detail::ParseIpv6(value);
      return address ? LookupIpv6(*address) : std::nullopt;
    }
    case core::ObservableType::kCidr: {
      const auto prefix = detail::ParsePrefix(value);
      if (!prefix) return std::nullopt;
      for (int length = prefix->length; length >= 0; --length) {
        const auto at = static_cast<std::size_t>(length);
        if (!(prefix->ipv6 ? tables_->ipv6_lengths.test(at) : tables_->ipv4_lengths.test(at))) continue;
        const auto it = tables_->prefixes.find(Prefix{detail::Mask(prefix->network, length), length, prefix->ipv6});
        if (it != tables_->prefixes.end()) return tables_->routes[it->second];
      }
      return std::nullopt;
    }
    case core::ObservableType::kDomain:
      return LookupDomain(value);
    case core::ObservableType::kUrl:
      return by_host(detail::UrlHost(value));
    case core::ObservableType::kEmail: {
      const std::size_t at = value.rfind('@');
      if (at == std::string_view::npos) return std::nullopt;
      return LookupDomain(value.substr(at + 1));
    }
    case core::ObservableType::kAsn: {
      const auto asn = ParseAsnValue(value);
      return asn ? LookupAsn(*asn) : std::nullopt;
    }
    case core::ObservableType::kMd5:
    case core::ObservableType::kSha1:
    case core::ObservableType::kSha256:
    case core::ObservableType::kCve:
    case core::ObservableType::kFilename:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Match> RoutingTable::Resolve(std::span<const core::Observable> observables) const {
  struct Candidate {
    Match best;
    std::size_t support = 0;
  };
  std::vector<Candidate> candidates;
  for (const core::Observable& observable : observables) {
    const auto match = Lookup(observable);
    if (!match) continue;
    const auto it = std::find_if(candidates.begin(), candidates.end(),
                                 [&](const Candidate& c) { return c.best.constituency_id == match->constituency_id; });
    if (it == candidates.end()) {
      candidates.push_back({*match, 1});
      continue;
    }
    ++it->support;
    if (Stronger(*match, it->best)) it->best = *match;
  }
  if (candidates.empty()) return std::nullopt;

  const Candidate* winner = &candidates.front();
  for (const Candidate& c : candidates) {
    const bool wins = Stronger(c.best, winner->best) ||
                      (!Stronger(winner->best, c.best) &&
                       (c.support > winner->support ||
                        (c.support == winner->support && c.best.constituency_id < winner->best.constituency_id)));
    if (wins) winner = &c;
  }
  return winner->best;
}

Decision RoutingTable::Decide(std::optional<Match> match) const {
  if (match) return {Disposition::kConstituency, match};
  return {tables_->options.unmatched == UnmatchedPolicy::kOutOfScope ? Disposition::kOutOfScope
                                                                     : Disposition::kCoordinationQueue,
          std::nullopt};
}

Decision RoutingTable::Route(const core::Observable& observable) const { return Decide(Lookup(observable)); }

Decision RoutingTable::Route(std::span<const core::Observable> observables) const {
  return Decide(Resolve(observables));
}

const RoutingOptions& RoutingTable::options() const { return tables_->options; }

const std::vector<Conflict>& RoutingTable::conflicts() const { return tables_->conflicts; }

TableStats RoutingTable::stats() const {
  TableStats stats;
  for (const auto& [prefix, route] : tables_->prefixes) {
    ++(prefix.ipv6 ? stats.ipv6_prefixes : stats.ipv4_prefixes);
  }
  stats.asns = tables_->asns.size();
  stats.domains = tables_->domains.size();
  stats.trie_bytes = tables_->ipv4.MemoryBytes() + tables_->ipv6.MemoryBytes();
  return stats;
}

}  // namespace hikeshi::routing
