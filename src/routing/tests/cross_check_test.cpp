// The trie against a brute-force linear scan over thousands of random, heavily nested prefixes,
// for random addresses and random CIDR observables. The seed is fixed, and the random numbers are
// taken straight from mt19937_64 (whose output the standard fixes), so every run checks the same
// cases.

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "hikeshi/routing/routing_table.hpp"

namespace hikeshi::routing {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

struct RandomPrefix {
  Bytes network{};
  int length = 0;
  std::int64_t id = 0;
};

// An address as two 64-bit words, so the linear scan compares words instead of looping over bytes.
struct Words {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
};

Words ToWords(const Bytes& bytes) {
  Words words;
  for (int i = 0; i < 8; ++i) words.hi = (words.hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) words.lo = (words.lo << 8) | bytes[i];
  return words;
}

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t Next() { return engine_(); }
  // Uniform enough for a test: the bias of a modulo over 2^64 is negligible.
  std::uint64_t Below(std::uint64_t bound) { return engine_() % bound; }

 private:
  std::mt19937_64 engine_;
};

Bytes MaskBytes(Bytes bytes, int length) {
  for (int i = 0; i < 16; ++i) {
    const int bits_before = i * 8;
    if (bits_before >= length) {
      bytes[i] = 0;
    } else if (length - bits_before < 8) {
      bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (length - bits_before)));
    }
  }
  return bytes;
}

// The reference answer: the longest prefix holding `address` (for a CIDR, no longer than
// `max_length`), and among equal prefixes the lowest id, as RoutingTable documents. Prefixes are
// kept as masked words so that scanning thousands of them per probe stays quick under ASan.
class LinearScan {
 public:
  LinearScan(const std::vector<RandomPrefix>& prefixes, MatchKind kind) : kind_(kind) {
    for (const RandomPrefix& prefix : prefixes) {
      const Words network = ToWords(prefix.network);
      entries_.push_back(
          {network.hi, network.lo, MaskWord(prefix.length), MaskWord(prefix.length - 64), prefix.length, prefix.id});
    }
  }

  std::optional<Match> Find(const Bytes& address, int max_length) const {
    const Words target = ToWords(address);
    std::optional<Match> best;
    for (const Entry& entry : entries_) {
      if (entry.length > max_length || (target.hi & entry.mask_hi) != entry.hi ||
          (target.lo & entry.mask_lo) != entry.lo) {
        continue;
      }
      if (!best || entry.length > best->length || (entry.length == best->length && entry.id < best->constituency_id)) {
        best = Match{entry.id, kind_, entry.length};
      }
    }
    return best;
  }

 private:
  struct Entry {
    std::uint64_t hi, lo, mask_hi, mask_lo;
    int length;
    std::int64_t id;
  };
  static std::uint64_t MaskWord(int bits) {
    return bits <= 0 ? 0 : bits >= 64 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (64 - bits);
  }

  MatchKind kind_;
  std::vector<Entry> entries_;
};

std::string Format(const Bytes& bytes, bool ipv6) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), text.data(), text.size());
  return text.data();
}

Bytes RandomBytes(Random& random, int size) {
  Bytes bytes{};
  for (int i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(random.Next());
  return bytes;
}

// An address inside `prefix`: its network with random host bits.
Bytes Inside(Random& random, const RandomPrefix& prefix, int address_bits) {
  const Bytes noise = RandomBytes(random, address_bits / 8);
  Bytes address = prefix.network;
  const Bytes kept =
      MaskBytes(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                prefix.length);
  for (int i = 0; i < 16; ++i) address[i] = static_cast<std::uint8_t>((address[i] & kept[i]) | (noise[i] & ~kept[i]));
  return address;
}

// Random prefixes, a third drawn fresh and two thirds as longer prefixes inside earlier ones, so
// that nesting is deep and frequent. Ids come from a small range, so some prefixes are claimed by
// two constituencies and the lowest-id rule is exercised too. IPv6 prefixes stay out of
// ::ffff:0:0/96, which the table maps to IPv4 (covered by hand-written tests).
std::vector<RandomPrefix> RandomPrefixes(Random& random, int count, int address_bits) {
  std::vector<RandomPrefix> prefixes;
  while (static_cast<int>(prefixes.size()) < count) {
    RandomPrefix prefix;
    if (prefixes.empty() || random.Below(3) == 0) {
      prefix.length = static_cast<int>(random.Below(static_cast<std::uint64_t>(address_bits) + 1));
      prefix.network = MaskBytes(RandomBytes(random, address_bits / 8), prefix.length);
    } else {
      const RandomPrefix& parent = prefixes[random.Below(prefixes.size())];
      const int room = address_bits - parent.length;
      prefix.length = parent.length + (room == 0 ? 0 : static_cast<int>(random.Below(std::min(room, 12)) + 1));
      prefix.network = MaskBytes(Inside(random, parent, address_bits), prefix.length);
    }
    if (address_bits == 128 && prefix.length >= 96) {
      const Bytes mapped_range{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      if (MaskBytes(prefix.network, 96) == mapped_range) continue;
    }
    prefix.id = static_cast<std::int64_t>(random.Below(60)) + 1;
    prefixes.push_back(prefix);
  }
  return prefixes;
}

std::vector<core::Constituency> AsConstituencies(const std::vector<RandomPrefix>& prefixes, bool ipv6) {
  std::vector<core::Constituency> constituencies(61);
  for (std::size_t i = 0; i < constituencies.size(); ++i) {
    constituencies[i].id = static_cast<std::int64_t>(i);
    constituencies[i].name = "c" + std::to_string(i);
  }
  for (const RandomPrefix& prefix : prefixes) {
    constituencies[static_cast<std::size_t>(prefix.id)].cidrs.push_back(Format(prefix.network, ipv6) + "/" +
                                                                        std::to_string(prefix.length));
  }
  return constituencies;
}

// Half the probes fall inside a random prefix (deep paths), half anywhere (mostly short ones).
std::vector<Bytes> RandomAddresses(Random& random, const std::vector<RandomPrefix>& prefixes, int count,
                                   int address_bits) {
  std::vector<Bytes> addresses;
  for (int i = 0; i < count; ++i) {
    addresses.push_back(i % 2 == 0 ? Inside(random, prefixes[random.Below(prefixes.size())], address_bits)
                                   : RandomBytes(random, address_bits / 8));
  }
  return addresses;
}

std::uint32_t AsIpv4(const Bytes& bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

TEST(RoutingCrossCheck, Ipv4TrieAgreesWithLinearScan) {
  Random random(0x68696b65736869);  // "hikeshi"
  const auto prefixes = RandomPrefixes(random, 4000, 32);
  auto table = RoutingTable::Build(AsConstituencies(prefixes, false));
  ASSERT_TRUE(table) << table.error().message();

  const LinearScan scan(prefixes, MatchKind::kIpv4Prefix);
  int disagreements = 0;
  for (const Bytes& address : RandomAddresses(random, prefixes, 20000, 32)) {
    const auto expected = scan.Find(address, 32);
    const auto by_value = table->LookupIpv4(AsIpv4(address));
    const auto by_text = table->Lookup({core::ObservableType::kIpv4, Format(address, false)});
    if (by_value != expected || by_text != expected) {
      ADD_FAILURE() << Format(address, false) << ": trie " << (by_value ? by_value->constituency_id : -1) << "/"
                    << (by_value ? by_value->length : -1) << ", scan " << (expected ? expected->constituency_id : -1)
                    << "/" << (expected ? expected->length : -1);
      if (++disagreements == 10) break;
    }
  }
}

TEST(RoutingCrossCheck, Ipv6TrieAgreesWithLinearScan) {
  Random random(0x626f7573686921);
  const auto prefixes = RandomPrefixes(random, 4000, 128);
  auto table = RoutingTable::Build(AsConstituencies(prefixes, true));
  ASSERT_TRUE(table) << table.error().message();

  const LinearScan scan(prefixes, MatchKind::kIpv6Prefix);
  int disagreements = 0;
  for (const Bytes& address : RandomAddresses(random, prefixes, 20000, 128)) {
    if (MaskBytes(address, 96) == Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) continue;
    const auto expected = scan.Find(address, 128);
    const auto by_value = table->LookupIpv6(address);
    const auto by_text = table->Lookup({core::ObservableType::kIpv6, Format(address, true)});
    if (by_value != expected || by_text != expected) {
      ADD_FAILURE() << Format(address, true) << ": trie " << (by_value ? by_value->constituency_id : -1) << "/"
                    << (by_value ? by_value->length : -1) << ", scan " << (expected ? expected->constituency_id : -1)
                    << "/" << (expected ? expected->length : -1);
      if (++disagreements == 10) break;
    }
  }
}

TEST(RoutingCrossCheck, CidrObservablesAgreeWithLinearScan) {
  for (const int address_bits : {32, 128}) {
    const bool ipv6 = address_bits == 128;
    Random random(0x63696472 + static_cast<std::uint64_t>(address_bits));
    const auto prefixes = RandomPrefixes(random, 2000, address_bits);
    auto table = RoutingTable::Build(AsConstituencies(prefixes, ipv6));
    ASSERT_TRUE(table) << table.error().message();
    const LinearScan scan(prefixes, ipv6 ? MatchKind::kIpv6Prefix : MatchKind::kIpv4Prefix);

    int disagreements = 0;
    for (const Bytes& address : RandomAddresses(random, prefixes, 5000, address_bits)) {
      const int length = static_cast<int>(random.Below(static_cast<std::uint64_t>(address_bits) + 1));
      const Bytes network = MaskBytes(address, length);
      if (ipv6 && MaskBytes(network, 96) == Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) continue;
      const std::string cidr = Format(network, ipv6) + "/" + std::to_string(length);
      const auto expected = scan.Find(network, length);
      const auto actual = table->Lookup({core::ObservableType::kCidr, cidr});
      if (actual != expected) {
        ADD_FAILURE() << cidr << ": table " << (actual ? actual->constituency_id : -1) << "/"
                      << (actual ? actual->length : -1) << ", scan " << (expected ? expected->constituency_id : -1)
                      << "/" << (expected ? expected->length : -1);
        if (++disagreements == 10) break;
      }
    }
  }
}

}  // namespace
}  // namespace hikeshi::routing
