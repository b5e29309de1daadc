#pragma once
// The field mapping for the generic ndjson and csv formats: which field (JSON pointer) or column
// gives the time, the category, the subject, the port, the id, the description and any further
// observables. Written in TOML; docs/feeds.md describes it. Not a public header; immutable once
// parsed, so it may be shared between threads.

#include <cstddef>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/observable.hpp"
#include "hikeshi/core/taxonomy.hpp"
#include "hikeshi/intake/feed/event.hpp"

#include "detail/json_fields.hpp"

namespace hikeshi::intake::feed::detail {

enum class TimeFormat { kAuto, kRfc3339, kEpoch, kEpochMillis };

// How a mapped value becomes an observable.
enum class ValueKind {
  kIp,        // "ip": IPv4 or IPv6, told by the text
  kIpOrCidr,  // "ip_or_cidr"
  kHost,      // "host": an IP address or a domain name
  kHash,      // "hash": MD5, SHA-1 or SHA-256 told by the length
  kTyped,     // one of core's observable type names ("domain", "url", "sha256"...)
};

struct MappedObservable {
  std::size_t slot = 0;
  ValueKind kind = ValueKind::kTyped;
  core::ObservableType type = core::ObservableType::kDomain;  // for kTyped
  bool skip_invalid = false;                                  // a bad value is dropped instead of rejecting the record
};

struct Mapping {
  bool csv = false;
  std::vector<std::string> field_names;  // by slot: JSON pointers (ndjson) or column names (csv)
  char delimiter = ',';                  // csv only
  std::optional<std::size_t> time;
  TimeFormat time_format = TimeFormat::kAuto;
  std::optional<std::size_t> category;
  std::optional<std::size_t> category_class;
  std::optional<std::size_t> category_type;
  std::optional<core::Category> category_fixed;
  std::optional<core::Category> category_default;
  std::vector<std::pair<std::string, core::Category>> category_map;  // keys lower-cased and trimmed
  std::optional<std::size_t> report_type;
  std::string report_type_fixed;
  std::optional<std::size_t> event_id;
  std::optional<std::size_t> description;
  std::optional<std::size_t> subject_ip;
  std::optional<std::size_t> subject_domain;
  std::optional<std::size_t> subject_url;
  std::optional<std::size_t> subject_port;
  std::optional<std::size_t> tlp;  // a TLP label (IntelMQ's "tlp": WHITE, GREEN, AMBER, RED)
  std::vector<MappedObservable> observables;

  // "field '/source/ip'" or "column 'ip'", for reject reasons.
  std::string Describe(std::size_t slot) const;
};

// Errors: kInvalidArgument naming the TOML key (or the TOML syntax error's line and column).
[[nodiscard]] Result<Mapping> ParseMapping(std::string_view toml, bool csv);

// The event one record gives under `mapping`, `values` being the record's value for each slot;
// or why the record is rejected (without the "line N: " prefix). record and raw are left to the
// caller.
std::expected<FeedEvent, std::string> BuildMappedEvent(const Mapping& mapping, std::span<const FieldValue> values);

}  // namespace hikeshi::intake::feed::detail
