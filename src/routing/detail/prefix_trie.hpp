#pragma once
// PrefixTrie: longest-prefix match over IPv4 or IPv6 addresses, laid out as a Poptrie (Asai and
// Ohara, "Poptrie: A Compressed Trie with Population Count for Fast and Scalable Software IP
// Routing Table Lookup", SIGCOMM 2015).
//
// The first bits of an address (18 for IPv4, 16 for IPv6) index a flat array. Below it, each node
// consumes 6 bits: a 64-bit bitmap says which of its 64 slots lead to a child node, a second one
// marks where each run of equal results begins, and a popcount turns a slot into an index into the
// node's contiguous children or results. An IPv4 lookup reads the array, at most 3 nodes (bits 18,
// 24 and 30 on) and one result; a node is 24 bytes whatever its fan-out, so 100,000 prefixes take
// about 7 MiB. The 18-bit array (1 MiB, as in the paper) was 15% faster than a 16-bit one on the
// benchmark; IPv6 keeps 16 so that no stride straddles its two 64-bit words.
//
// Immutable after Build(); Lookup() is safe from any number of threads. Copyable and movable.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "detail/address.hpp"

namespace hikeshi::routing::detail {

struct BinaryTrie;

// std::popcount is one instruction where the target has POPCNT (-mpopcnt, -march=x86-64-v2); on
// Debian's x86-64 baseline it is a call into libgcc. Measured on the 100,000-prefix benchmark, the
// call still clears the 10 M lookups/s target with room to spare, and an inline bit-twiddling
// version was no faster, so the portable form stays (see docs/PERFORMANCE.md).
inline std::uint32_t Popcount(std::uint64_t x) { return static_cast<std::uint32_t>(std::popcount(x)); }

template <int kAddressBits>
class PrefixTrie {
  static_assert(kAddressBits == 32 || kAddressBits == 128);

 public:
  // One prefix and its value. `network` has its host bits clear; `value` is not 0.
  struct Entry {
    AddressKey network;
    int length = 0;
    std::uint32_t value = 0;
  };

  // An empty trie: every lookup answers 0.
  PrefixTrie();

  // `entries` must hold each (network, length) at most once; values must be below 2^31.
  static PrefixTrie Build(std::span<const Entry> entries);

  // The value of the longest prefix holding `address`, or 0 if none does.
  std::uint32_t Lookup(const AddressKey& address) const {
    const std::uint32_t top = direct_[static_cast<std::size_t>(address.hi >> (64 - kDirectBits))];
    if ((top & kNodeFlag) == 0) return top;
    std::uint32_t index = top & ~kNodeFlag;
    // IPv4 lives in the top word. IPv6 strides start at bits 16, 22, ..., 58, 64, ...: none
    // straddles the two words.
    for (int offset = kDirectBits;; offset += kStride) {
      const Node& node = nodes_[index];
      const std::uint64_t word = (kAddressBits == 32 || offset < 64) ? address.hi : address.lo;
      const unsigned slot = static_cast<unsigned>((word << (offset & 63)) >> (64 - kStride));
      const std::uint64_t bit = std::uint64_t{1} << slot;
      // Slots 0..slot inclusive; for slot 63 the shift wraps to 0 and the mask to all ones.
      const std::uint64_t upto = (bit << 1) - 1;
      if ((node.internal & bit) == 0) {
        return leaves_[node.first_leaf + Popcount(node.leaf_runs & upto) - 1];
      }
      index = node.first_child + Popcount(node.internal & upto) - 1;
    }
  }

  std::size_t MemoryBytes() const {
    return direct_.size() * sizeof(std::uint32_t) + nodes_.size() * sizeof(Node) +
           leaves_.size() * sizeof(std::uint32_t);
  }

 private:
  static constexpr int kDirectBits = kAddressBits == 32 ? 18 : 16;
  static constexpr int kStride = 6;
  static constexpr std::uint32_t kNodeFlag = 0x8000'0000u;

  struct Node {
    std::uint64_t internal = 0;   // bit i: slot i leads to a child node
    std::uint64_t leaf_runs = 0;  // bit i: slot i is a result slot whose result differs from the previous one's
    std::uint32_t first_leaf = 0;
    std::uint32_t first_child = 0;
  };

  void FillNode(const BinaryTrie& binary, std::uint32_t index, std::uint32_t binary_node, std::uint32_t inherited);

  // 2^16 entries: a value, or kNodeFlag | the index of a node.
  std::vector<std::uint32_t> direct_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> leaves_;
};

extern template class PrefixTrie<32>;
extern template class PrefixTrie<128>;

}  // namespace hikeshi::routing::detail
