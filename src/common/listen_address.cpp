#include "hikeshi/common/listen_address.hpp"

#include <charconv>

namespace hikeshi::common {
namespace {

bool IsLocalhost(std::string_view host) {
  constexpr std::string_view kLocalhost = "localhost";
  if (host.size() != kLocalhost.size()) return false;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = (host[i] >= 'A' && host[i] <= 'Z') ? static_cast<char>(host[i] - 'A' + 'a') : host[i];
    if (c != kLocalhost[i]) return false;
  }
  return true;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view listen, std::string_view what) {
  auto invalid = [&](std::string_view why) {
    return Fail(Error::InvalidArgument(std::string(what) + " '" + std::string(listen) + "': " + std::string(why)));
  };
  ListenAddress out;
  std::string_view host;
  std::string_view port_text;
  if (listen.starts_with('[')) {
    const std::size_t close = listen.find(']');
    if (close == std::string_view::npos) return invalid("missing ']'");
    if (listen.substr(close + 1, 1) != ":") return invalid("expected ':port' after ']'");
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
    out.bracketed = true;
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) return invalid("expected host:port");
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return invalid("IPv6 addresses must be in brackets");
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return invalid("port must be a number from 0 to 65535");
  }
  if (host.empty()) return invalid("missing host (use 0.0.0.0 or [::] for every interface)");
  out.host = !out.bracketed && IsLocalhost(host) ? "127.0.0.1" : std::string(host);
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace hikeshi::common
