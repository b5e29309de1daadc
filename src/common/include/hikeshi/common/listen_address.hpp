#pragma once
// "host:port" as the servers' --listen options take it (HTTP, LMTP): an IPv4 literal, a bracketed
// IPv6 literal, or "localhost", and a port from 0 (pick a free one) to 65535. Only the text is
// checked here; each server turns `host` into its socket library's address. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::common {

struct ListenAddress {
  std::string host;        // the literal as written ("localhost" becomes "127.0.0.1"); never empty
  bool bracketed = false;  // written as [v6]:port, so `host` must be an IPv6 literal
  std::uint16_t port = 0;
};

// Errors: kInvalidArgument naming `what` (e.g. "listen address") and what is wrong.
[[nodiscard]] Result<ListenAddress> ParseListenAddress(std::string_view listen, std::string_view what);

}  // namespace hikeshi::common
