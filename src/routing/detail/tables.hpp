#pragma once
// What a RoutingTable holds. Filled once by RoutingTable::Build, read-only after that.

#include <bitset>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hikeshi/routing/routing_table.hpp"

#include "detail/address.hpp"
#include "detail/prefix_trie.hpp"

namespace hikeshi::routing::detail {

struct PrefixHash {
  std::size_t operator()(const Prefix& prefix) const {
    // splitmix64's finaliser over the words: cheap, and every input bit reaches every output bit.
    auto mix = [](std::uint64_t x) {
      x ^= x >> 30;
      x *= 0xbf58476d1ce4e5b9ull;
      x ^= x >> 27;
      x *= 0x94d049bb133111ebull;
      return x ^ (x >> 31);
    };
    const std::uint64_t tag = (static_cast<std::uint64_t>(prefix.length) << 1) | (prefix.ipv6 ? 1u : 0u);
    return static_cast<std::size_t>(mix(prefix.network.hi ^ mix(prefix.network.lo ^ mix(tag))));
  }
};

// Lets the domain map be probed with a string_view, so a lookup allocates nothing.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
};

struct Tables {
  RoutingOptions options;
  // Every prefix rule; tries and `prefixes` store an index here. Index 0 is unused, so that 0 can
  // mean "no route" inside the tries.
  std::vector<Match> routes{Match{}};
  PrefixTrie<32> ipv4;
  PrefixTrie<128> ipv6;
  // The exact prefixes, for CIDR observables: probed from the observed length down.
  std::unordered_map<Prefix, std::uint32_t, PrefixHash> prefixes;
  std::bitset<33> ipv4_lengths;
  std::bitset<129> ipv6_lengths;
  std::unordered_map<std::uint32_t, Match> asns;
  std::unordered_map<std::string, Match, NameHash, std::equal_to<>> domains;
  std::vector<Conflict> conflicts;
};

}  // namespace hikeshi::routing::detail
