#pragma once
// Turning feed values into observables. Addresses in typed fields (an IP column, an IODEF
// Address) are checked strictly: a bad one is the record's fault. Names copied from attacker
// controlled text (an HTTP Host header, a TLS SNI, a hostname column) are kept only when they are
// valid. Not a public header; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/observable.hpp"

namespace hikeshi::intake::feed::detail {

// An IPv4 or IPv6 address, the family told by the text. Errors: kInvalidArgument saying why.
[[nodiscard]] Result<core::Observable> NormalizeIp(std::string_view text);
// An IP address, or a CIDR prefix when the text has a '/'.
[[nodiscard]] Result<core::Observable> NormalizeIpOrCidr(std::string_view text);
// An IP address or a domain name, as the text looks ("[2001:db8::1]" and "host:443" lose the
// brackets and the port). For fields that hold either, such as X-ARF's source_identifier.
[[nodiscard]] Result<core::Observable> NormalizeHost(std::string_view text);
// An MD5, SHA-1 or SHA-256 told by its length; "sha256:<hex>" and "md5:<hex>" prefixes are read.
[[nodiscard]] Result<core::Observable> NormalizeHash(std::string_view text);

// The text with defanged forms written back (hxxp:// and fxp:// at the start, [.] (.) {.} [dot]
// (dot), [@] (@) [at] (at), [:] and [://], without regard to case): for typed fields of feeds
// that people fill (MISP attributes, mapped ndjson and csv fields), where "evil[.]example" means
// evil.example. Unchanged when there is none; the record's raw bytes keep what was sent.
std::string Refang(std::string_view text);

// The text with its scheme and host checked; nullopt for anything that is not a URL.
std::optional<core::Observable> LenientUrl(std::string_view text);
std::optional<core::Observable> LenientHost(std::string_view text);

// Adds `observable` unless it is already there or is the subject.
void AddObservable(std::vector<core::Observable>& observables, const std::optional<core::Observable>& subject,
                   core::Observable observable);
void AddObservable(std::vector<core::Observable>& observables, const std::optional<core::Observable>& subject,
                   std::optional<core::Observable> observable);

}  // namespace hikeshi::intake::feed::detail
