#pragma once
// Use cases for constituencies: whose incidents we handle. Thread-safe; Store and Clock must
// outlive it.

#include <optional>
#include <string>
#include <vector>

#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

struct NewConstituency {
  std::string name;  // 1..64 of [a-z0-9._-]
  std::string description;
  std::vector<std::string> cidrs;
  std::vector<std::string> asns;  // "AS64500" or "64500"
  std::vector<std::string> domains;
};

class Constituencies {
 public:
  Constituencies(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Admins only. Errors: kPermissionDenied, kInvalidArgument naming the bad CIDR/ASN/domain,
  // kConflict when the name is taken.
  [[nodiscard]] Result<Constituency> Add(const Principal& actor, const NewConstituency& request);
  // The constituencies `actor` may see.
  [[nodiscard]] Result<std::vector<Constituency>> List(const Principal& actor);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace hikeshi::core
