#pragma once
// Addresses and prefixes as the routing tables hold them: bits left-aligned in two 64-bit words.
// Pure functions; thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hikeshi::routing::detail {

// An address with its first bit in the top bit of `hi`. An IPv4 address fills the top 32 bits of
// `hi`; the rest is zero. One layout for both families lets one trie template serve both.
struct AddressKey {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool operator==(const AddressKey&) const = default;
};

using Ipv6Bytes = std::array<std::uint8_t, 16>;

inline AddressKey Ipv4Key(std::uint32_t address) { return {std::uint64_t{address} << 32, 0}; }

inline AddressKey Ipv6Key(const Ipv6Bytes& bytes) {
  AddressKey key;
  for (int i = 0; i < 8; ++i) key.hi = (key.hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) key.lo = (key.lo << 8) | bytes[i];
  return key;
}

// Keeps the first `length` bits (0-128) and clears the rest.
inline AddressKey Mask(AddressKey key, int length) {
  const auto keep = [](std::uint64_t word, int bits) -> std::uint64_t {
    if (bits <= 0) return 0;
    if (bits >= 64) return word;
    return word & (~std::uint64_t{0} << (64 - bits));
  };
  return {keep(key.hi, length), keep(key.lo, length - 64)};
}

// Bit `depth` (0 = first) of the address.
inline unsigned BitAt(const AddressKey& key, int depth) {
  return depth < 64 ? static_cast<unsigned>(key.hi >> (63 - depth)) & 1u
                    : static_cast<unsigned>(key.lo >> (127 - depth)) & 1u;
}

// Dotted quad, in host byte order (192.0.2.1 is 0xC0000201). nullopt if not an IPv4 address.
std::optional<std::uint32_t> ParseIpv4(std::string_view text);
// Any RFC 4291 text form, without brackets. nullopt if not an IPv6 address.
std::optional<Ipv6Bytes> ParseIpv6(std::string_view text);

// The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:0:0/96), or nullopt for any other.
std::optional<std::uint32_t> MappedIpv4(const Ipv6Bytes& bytes);

// A parsed CIDR prefix with its host bits cleared. A prefix inside ::ffff:0:0/96 of length 96 or
// more is returned as the IPv4 prefix it maps (::ffff:192.0.2.0/120 is 192.0.2.0/24), so that
// mapped addresses and their IPv4 form route alike.
struct Prefix {
  AddressKey network;
  int length = 0;
  bool ipv6 = false;
  bool operator==(const Prefix&) const = default;
};
std::optional<Prefix> ParsePrefix(std::string_view text);

// The host of a URL ("http://user@host:8080/x" -> "host", "http://[2001:db8::1]/" ->
// "[2001:db8::1]"), as a view into `url`; empty if the URL has no "://".
std::string_view UrlHost(std::string_view url);

}  // namespace hikeshi::routing::detail
