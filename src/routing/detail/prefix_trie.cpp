#include "detail/prefix_trie.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace hikeshi::routing::detail {

// A plain one-bit-per-level trie of the prefixes. Easy to build correctly; PrefixTrie is compiled
// from it and then it is dropped.
struct BinaryTrie {
  struct Node {
    std::array<std::uint32_t, 2> child{};  // 0 means none: the root (index 0) is nobody's child
    std::uint32_t value = 0;
  };
  std::vector<Node> nodes{Node{}};

  void Insert(const AddressKey& network, int length, std::uint32_t value) {
    std::uint32_t at = 0;
    for (int depth = 0; depth < length; ++depth) {
      const unsigned bit = BitAt(network, depth);
      if (nodes[at].child[bit] == 0) {
        nodes[at].child[bit] = static_cast<std::uint32_t>(nodes.size());
        nodes.emplace_back();
      }
      at = nodes[at].child[bit];
    }
    nodes[at].value = value;
  }

  bool HasChildren(std::uint32_t at) const { return nodes[at].child[0] != 0 || nodes[at].child[1] != 0; }
};

namespace {

// One slot of an expanded level: the result so far, and the binary node to continue from when
// longer prefixes lie below (0 when none do, so the slot is a plain result).
struct Slot {
  std::uint32_t binary_node = 0;
  std::uint32_t value = 0;
};

// Expands `levels` levels of the binary trie below `at` into 2^levels slots starting at `first`.
// `best` is the value of the longest prefix seen on the way down to `at`, `at` included.
void Expand(const BinaryTrie& binary, std::uint32_t at, int levels, std::uint32_t best, std::size_t first,
            std::span<Slot> slots) {
  if (levels == 0) {
    slots[first] = {binary.HasChildren(at) ? at : 0, best};
    return;
  }
  const std::size_t half = std::size_t{1} << (levels - 1);
  for (unsigned bit = 0; bit < 2; ++bit) {
    const std::uint32_t child = binary.nodes[at].child[bit];
    const std::size_t start = first + bit * half;
    if (child == 0) {
      std::fill_n(slots.begin() + static_cast<std::ptrdiff_t>(start), half, Slot{0, best});
      continue;
    }
    const std::uint32_t value = binary.nodes[child].value;
    Expand(binary, child, levels - 1, value != 0 ? value : best, start, slots);
  }
}

}  // namespace

template <int kAddressBits>
PrefixTrie<kAddressBits>::PrefixTrie() : direct_(std::size_t{1} << kDirectBits, 0) {}

template <int kAddressBits>
PrefixTrie<kAddressBits> PrefixTrie<kAddressBits>::Build(std::span<const Entry> entries) {
  BinaryTrie binary;
  for (const Entry& entry : entries) {
    assert(entry.value != 0 && entry.value < kNodeFlag && entry.length <= kAddressBits);
    binary.Insert(entry.network, entry.length, entry.value);
  }

  PrefixTrie trie;
  std::vector<Slot> top(std::size_t{1} << kDirectBits);
  Expand(binary, 0, kDirectBits, binary.nodes[0].value, 0, top);
  for (std::size_t i = 0; i < top.size(); ++i) {
    if (top[i].binary_node == 0) {
      trie.direct_[i] = top[i].value;
      continue;
    }
    const auto index = static_cast<std::uint32_t>(trie.nodes_.size());
    trie.nodes_.emplace_back();
    trie.direct_[i] = kNodeFlag | index;
    trie.FillNode(binary, index, top[i].binary_node, top[i].value);
  }
  trie.nodes_.shrink_to_fit();
  trie.leaves_.shrink_to_fit();
  return trie;
}

// Writes node `index` (already allocated) for the 6 levels below `binary_node`, then its children.
// The children of one node are allocated together, contiguously, as Lookup's popcount requires.
template <int kAddressBits>
void PrefixTrie<kAddressBits>::FillNode(const BinaryTrie& binary, std::uint32_t index, std::uint32_t binary_node,
                                        std::uint32_t inherited) {
  std::array<Slot, std::size_t{1} << kStride> slots{};
  Expand(binary, binary_node, kStride, inherited, 0, slots);

  Node node;
  node.first_child = static_cast<std::uint32_t>(nodes_.size());
  node.first_leaf = static_cast<std::uint32_t>(leaves_.size());
  std::uint32_t children = 0;
  bool any_leaf = false;
  std::uint32_t previous_leaf = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (slots[i].binary_node != 0) {
      node.internal |= bit;
      ++children;
    } else if (!any_leaf || slots[i].value != previous_leaf) {
      node.leaf_runs |= bit;
      leaves_.push_back(slots[i].value);
      previous_leaf = slots[i].value;
      any_leaf = true;
    }
  }
  nodes_[index] = node;
  nodes_.resize(nodes_.size() + children);

  std::uint32_t child = node.first_child;
  for (const Slot& slot : slots) {
    if (slot.binary_node != 0) FillNode(binary, child++, slot.binary_node, slot.value);
  }
}

template class PrefixTrie<32>;
template class PrefixTrie<128>;

}  // namespace hikeshi::routing::detail
