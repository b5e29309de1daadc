#pragma once
// The observable pivot: from one value (an IP, a domain, a hash...) to every incident and report
// that holds it, within the principal's scope. Thread-safe; Store must outlive it.

#include <optional>
#include <string_view>

#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

struct Pivot {
  Observable observable;  // the normalised value that was looked up
  Sightings sightings;
};

class Observables {
 public:
  explicit Observables(Store& store) : store_(store) {}

  // `type` may be omitted: the value is then read as the first type it is valid for, in the order
  // ipv4, ipv6, cidr, email, url, md5, sha1, sha256, asn, cve, domain (never filename).
  // Errors: kInvalidArgument (field "/type" or "/value") when the value is not valid as the type, or
  // as any type; kInvalidArgument ("/limit") outside 1..500.
  [[nodiscard]] Result<Pivot> Find(const Principal& actor, std::string_view value, std::optional<std::string_view> type,
                                   int limit);

 private:
  Store& store_;
};

}  // namespace hikeshi::core
