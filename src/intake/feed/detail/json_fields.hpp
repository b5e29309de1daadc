#pragma once
// Pulling named values out of JSON records in one pass. A JsonFieldSet names the values by JSON
// pointer (RFC 6901: "/alert/signature", "/source.ip" for a key with a dot, "/dns/query/0/rrname");
// a JsonRecord holds one record's values by slot. Two extractors fill it: OndemandExtractor
// (simdjson On Demand, for JSON lines: reuses its buffers, so no allocations once warm) and
// ExtractFromDocument (nlohmann, for whole documents). simdjson and nlohmann stay in the .cpp files.
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::intake::feed::detail {

class JsonFieldSet {
 public:
  JsonFieldSet();
  // A set of pointers known at compile time, in slot order (slot i is pointers[i]). A malformed
  // constant pointer is a bug: it aborts.
  static JsonFieldSet FromConstants(std::span<const std::string_view> pointers);
  // The slot for `pointer` (the same pointer always gives the same slot).
  // Errors: kInvalidArgument when `pointer` is not a non-empty JSON pointer.
  [[nodiscard]] Result<std::size_t> Add(std::string_view pointer);
  std::size_t size() const { return slot_count_; }

  // The path tree the extractors walk: node 0 is the document root.
  struct Edge {
    std::uint64_t hash;  // of key: most keys a record holds are named by no pointer, and are
                         // told apart by this without comparing strings
    std::string key;     // an object key, or an array index in decimal
    std::size_t node;
  };
  struct Node {
    std::vector<Edge> children;
    std::optional<std::size_t> slot;  // when a pointer ends here
  };
  const Node& node(std::size_t index) const { return nodes_[index]; }
  std::optional<std::size_t> Child(std::size_t node, std::string_view key) const;

 private:
  std::vector<Node> nodes_;
  std::size_t slot_count_ = 0;
};

enum class JsonKind { kString, kNumber, kBool, kArray };

// One value as a parser sees it. Views into the JsonRecord: valid until it is cleared or refilled.
struct FieldValue {
  bool present = false;  // false also for JSON null and for "" (CSV's empty cell)
  JsonKind kind = JsonKind::kString;
  std::string_view text;              // strings unescaped; numbers and booleans as written
  std::span<const std::string> list;  // kArray: the array's strings and numbers, in order
};

class JsonRecord {
 public:
  explicit JsonRecord(std::size_t slots) : slots_(slots) {}
  void Clear();
  FieldValue Get(std::size_t slot) const;
  // For the extractors.
  void Set(std::size_t slot, JsonKind kind, std::string_view text);
  void Append(std::size_t slot, std::string_view item);

 private:
  struct Slot {
    bool present = false;
    JsonKind kind = JsonKind::kString;
    std::string text;
    std::vector<std::string> list;  // reused; the first list_size are the value's
    std::size_t list_size = 0;
  };
  std::vector<Slot> slots_;
};

class OndemandExtractor {
 public:
  explicit OndemandExtractor(const JsonFieldSet& fields);  // `fields` must outlive the extractor
  ~OndemandExtractor();
  OndemandExtractor(const OndemandExtractor&) = delete;
  OndemandExtractor& operator=(const OndemandExtractor&) = delete;

  // Parses `json` (one JSON object) into `record`. Returns nullopt on success, otherwise why it is
  // not one well-formed JSON object ("not valid JSON: ..."). Values no pointer names are checked
  // for structure only, as On Demand parsing does.
  std::optional<std::string> Extract(std::string_view json, JsonRecord& record);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hikeshi::intake::feed::detail
