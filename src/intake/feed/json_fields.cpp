#include "detail/json_fields.hpp"

#include <cstdlib>

#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

JsonFieldSet::JsonFieldSet() : nodes_(1) {}

JsonFieldSet JsonFieldSet::FromConstants(std::span<const std::string_view> pointers) {
  JsonFieldSet set;
  for (const std::string_view pointer : pointers) {
    if (!set.Add(pointer)) std::abort();
  }
  return set;
}

namespace {
// Not a hash of every byte: the length and up to eight bytes from the two ends, which tell apart
// the keys of one object almost always, and cost no loop over the key (this runs for every key of
// every record). Keys that collide are still told apart by comparing them.
std::uint64_t HashKey(std::string_view key) {
  const std::size_t n = key.size();
  if (n == 0) return 0;
  const auto byte = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(key[i])); };
  const std::size_t mid = n / 2;
  return (static_cast<std::uint64_t>(n) << 56) | (byte(0) << 48) | (byte(n - 1) << 40) | (byte(mid) << 32) |
         (byte(n > 1 ? 1 : 0) << 24) | (byte(n > 2 ? n - 2 : 0) << 16) | (byte(mid > 0 ? mid - 1 : 0) << 8) |
         byte(n > 3 ? n - 3 : 0);
}
}  // namespace

std::optional<std::size_t> JsonFieldSet::Child(std::size_t node, std::string_view key) const {
  const std::vector<Edge>& children = nodes_[node].children;
  if (children.empty()) return std::nullopt;
  const std::uint64_t hash = HashKey(key);
  for (const auto& child : children) {
    if (child.hash == hash && child.key == key) return child.node;
  }
  return std::nullopt;
}

Result<std::size_t> JsonFieldSet::Add(std::string_view pointer) {
  if (pointer.size() < 2 || pointer.front() != '/') {
    return Fail(Error::InvalidArgument(Quote(pointer) +
                                       " is not a JSON pointer to a field; write it as '/source/ip' (RFC 6901)"));
  }
  std::size_t node = 0;
  std::size_t pos = 1;
  for (;;) {
    const std::size_t slash = pointer.find('/', pos);
    const std::string_view raw = pointer.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    std::string key;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        key += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else if (raw[i] == '~') {
        return Fail(Error::InvalidArgument(Quote(pointer) + " has a '~' not followed by 0 or 1 (RFC 6901)"));
      } else {
        key += raw[i];
      }
    }
    std::optional<std::size_t> child = Child(node, key);
    if (!child) {
      child = nodes_.size();
      const std::uint64_t hash = HashKey(key);
      nodes_[node].children.push_back({hash, std::move(key), *child});
      nodes_.emplace_back();
    }
    node = *child;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (!nodes_[node].slot) nodes_[node].slot = slot_count_++;
  return *nodes_[node].slot;
}

void JsonRecord::Clear() {
  for (Slot& slot : slots_) {
    slot.present = false;
    slot.list_size = 0;
  }
}

FieldValue JsonRecord::Get(std::size_t slot) const {
  const Slot& value = slots_[slot];
  FieldValue out;
  out.present = value.present;
  out.kind = value.kind;
  out.text = value.text;
  out.list = std::span<const std::string>(value.list.data(), value.list_size);
  return out;
}

void JsonRecord::Set(std::size_t slot, JsonKind kind, std::string_view text) {
  Slot& value = slots_[slot];
  value.kind = kind;
  value.text.assign(text);
  value.present = kind == JsonKind::kArray || !text.empty();
}

void JsonRecord::Append(std::size_t slot, std::string_view item) {
  Slot& value = slots_[slot];
  if (value.list_size == value.list.size()) value.list.emplace_back();
  value.list[value.list_size++].assign(item);
  value.kind = JsonKind::kArray;
  value.present = true;
}

}  // namespace hikeshi::intake::feed::detail
