#include "detail/observables.hpp"

#include <algorithm>
#include <string>

#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

using core::Observable;
using core::ObservableType;

Result<Observable> NormalizeIp(std::string_view text) {
  text = Trim(text);
  return core::NormalizeObservable(
      text.find(':') != std::string_view::npos ? ObservableType::kIpv6 : ObservableType::kIpv4, text);
}

Result<Observable> NormalizeIpOrCidr(std::string_view text) {
  text = Trim(text);
  if (text.find('/') != std::string_view::npos) return core::NormalizeObservable(ObservableType::kCidr, text);
  return NormalizeIp(text);
}

Result<Observable> NormalizeHost(std::string_view text) {
  text = Trim(text);
  if (text.size() > 2 && text.front() == '[') {
    // "[2001:db8::1]" or "[2001:db8::1]:443".
    const std::size_t close = text.find(']');
    if (close != std::string_view::npos)
      return core::NormalizeObservable(ObservableType::kIpv6, text.substr(1, close - 1));
  }
  const std::size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos &&
      ParsePort(text.substr(colon + 1))) {
    text = text.substr(0, colon);  // "host:port" (one colon only, so not IPv6)
  }
  if (text.find(':') != std::string_view::npos) return core::NormalizeObservable(ObservableType::kIpv6, text);
  const bool looks_numeric =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (looks_numeric) return core::NormalizeObservable(ObservableType::kIpv4, text);
  return core::NormalizeObservable(ObservableType::kDomain, text);
}

Result<Observable> NormalizeHash(std::string_view text) {
  text = Trim(text);
  if (const std::size_t colon = text.find(':'); colon != std::string_view::npos && colon <= 6) {
    text = text.substr(colon + 1);  // "sha256:…", "md5:…", "sha1:…"
  }
  switch (text.size()) {
    case 32:
      return core::NormalizeObservable(ObservableType::kMd5, text);
    case 40:
      return core::NormalizeObservable(ObservableType::kSha1, text);
    case 64:
      return core::NormalizeObservable(ObservableType::kSha256, text);
    default:
      return Fail(Error::InvalidArgument(Quote(text) + " is not an MD5, SHA-1 or SHA-256 hash (" +
                                         std::to_string(text.size()) + " characters, not 32, 40 or 64)"));
  }
}

std::string Refang(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kTokens[] = {
      {"[://]", "://"}, {"[.]", "."}, {"(.)", "."}, {"{.}", "."},  {"[dot]", "."}, {"(dot)", "."},
      {"{dot}", "."},   {"[@]", "@"}, {"(@)", "@"}, {"[at]", "@"}, {"(at)", "@"},  {"[:]", ":"},
  };
  std::string out;
  std::size_t i = 0;
  if (StartsWithIgnoreCase(text, "hxxp")) {
    out = "http";
    i = 4;
  } else if (StartsWithIgnoreCase(text, "fxp")) {
    out = "ftp";
    i = 3;
  } else if (text.find_first_of("[({") == std::string_view::npos) {
    return std::string(text);  // nothing to write back
  }
  out.reserve(text.size());
  while (i < text.size()) {
    bool replaced = false;
    if (text[i] == '[' || text[i] == '(' || text[i] == '{') {
      for (const auto& [token, plain] : kTokens) {
        if (StartsWithIgnoreCase(text.substr(i), token)) {
          out += plain;
          i += token.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::optional<Observable> LenientUrl(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  auto url = core::NormalizeObservable(ObservableType::kUrl, text);
  if (!url) return std::nullopt;
  return *std::move(url);
}

std::optional<Observable> LenientHost(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  auto host = NormalizeHost(text);
  if (!host) return std::nullopt;
  return *std::move(host);
}

void AddObservable(std::vector<Observable>& observables, const std::optional<Observable>& subject,
                   Observable observable) {
  if (subject && *subject == observable) return;
  if (std::find(observables.begin(), observables.end(), observable) != observables.end()) return;
  observables.push_back(std::move(observable));
}

void AddObservable(std::vector<Observable>& observables, const std::optional<Observable>& subject,
                   std::optional<Observable> observable) {
  if (observable) AddObservable(observables, subject, *std::move(observable));
}

}  // namespace hikeshi::intake::feed::detail
