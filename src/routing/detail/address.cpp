#include "detail/address.hpp"

#include <charconv>
#include <cstring>

#include <arpa/inet.h>

namespace hikeshi::routing::detail {

namespace {

// inet_pton wants a NUL-terminated string; the longest valid IPv6 text is 45 characters.
constexpr std::size_t kMaxAddressText = 63;

template <typename Out>
bool Pton(int family, std::string_view text, Out* out) {
  if (text.empty() || text.size() > kMaxAddressText) return false;
  std::array<char, kMaxAddressText + 1> buffer{};
  std::memcpy(buffer.data(), text.data(), text.size());
  return inet_pton(family, buffer.data(), out) == 1;
}

}  // namespace

std::optional<std::uint32_t> ParseIpv4(std::string_view text) {
  std::array<std::uint8_t, 4> bytes{};
  if (!Pton(AF_INET, text, bytes.data())) return std::nullopt;
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

std::optional<Ipv6Bytes> ParseIpv6(std::string_view text) {
  Ipv6Bytes bytes{};
  if (!Pton(AF_INET6, text, bytes.data())) return std::nullopt;
  return bytes;
}

std::optional<std::uint32_t> MappedIpv4(const Ipv6Bytes& bytes) {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return std::nullopt;
  }
  if (bytes[10] != 0xff || bytes[11] != 0xff) return std::nullopt;
  return (std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) | (std::uint32_t{bytes[14]} << 8) |
         bytes[15];
}

std::optional<Prefix> ParsePrefix(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view address = text.substr(0, slash);
  const std::string_view length_text = text.substr(slash + 1);
  int length = -1;
  const auto [end, error] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (error != std::errc() || end != length_text.data() + length_text.size() || length < 0) return std::nullopt;

  if (address.find(':') == std::string_view::npos) {
    const auto v4 = ParseIpv4(address);
    if (!v4 || length > 32) return std::nullopt;
    return Prefix{Mask(Ipv4Key(*v4), length), length, false};
  }
  const auto v6 = ParseIpv6(address);
  if (!v6 || length > 128) return std::nullopt;
  if (length >= 96) {
    if (const auto mapped = MappedIpv4(*v6)) return Prefix{Mask(Ipv4Key(*mapped), length - 96), length - 96, false};
  }
  return Prefix{Mask(Ipv6Key(*v6), length), length, true};
}

std::string_view UrlHost(std::string_view url) {
  const std::size_t separator = url.find("://");
  if (separator == std::string_view::npos) return {};
  std::string_view authority = url.substr(separator + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  // The host follows the last '@': "http://bank.example@evil.example/" opens evil.example.
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.rfind(':'));
}

}  // namespace hikeshi::routing::detail
