#pragma once
// Observables: typed, normalised values (an IP, a domain, a hash...) that incidents and reports
// hold and that every pivot searches by. Value types; functions are thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

enum class ObservableType { kIpv4, kIpv6, kCidr, kDomain, kUrl, kEmail, kMd5, kSha1, kSha256, kAsn, kCve, kFilename };

std::string_view ObservableTypeName(ObservableType type);  // "ipv4", "ipv6", "cidr", ...
std::optional<ObservableType> ParseObservableType(std::string_view text);

struct Observable {
  ObservableType type;
  std::string value;  // normalised form: the one that is stored, indexed and compared
  bool operator==(const Observable&) const = default;
};

// Validates `raw` as `type` and returns its normalised form:
//   ipv4 dotted quad without leading zeros; ipv6 in RFC 5952 form; cidr with host bits cleared;
//   domain lower-case without a trailing dot; url with lower-case scheme and host; email with a
//   lower-case domain; hashes lower-case hex; asn "AS64500"; cve "CVE-2024-12345"; filename as is
//   (trimmed, no path separators).
// Errors: kInvalidArgument saying why, with field "/value".
[[nodiscard]] Result<Observable> NormalizeObservable(ObservableType type, std::string_view raw);

// A CIDR prefix parsed from text ("192.0.2.0/24", "2001:db8::/32"), normalised as above.
[[nodiscard]] Result<std::string> NormalizeCidr(std::string_view raw);
// A domain name ("Example.ORG." -> "example.org"). ASCII (or punycode) labels only.
[[nodiscard]] Result<std::string> NormalizeDomain(std::string_view raw);

}  // namespace hikeshi::core
