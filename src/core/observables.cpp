#include "hikeshi/core/observables.hpp"

#include <array>

namespace hikeshi::core {

Result<Pivot> Observables::Find(const Principal& actor, std::string_view value, std::optional<std::string_view> type,
                                int limit) {
  if (limit < 1 || limit > 500) return Fail(Error::InvalidArgument("must be 1..500", "/limit"));
  std::optional<Observable> observable;
  if (type) {
    const auto parsed = ParseObservableType(*type);
    if (!parsed) return Fail(Error::InvalidArgument("'" + std::string(*type) + "' is not an observable type", "/type"));
    HIKESHI_TRY(observable, AtField(NormalizeObservable(*parsed, value), "/value"));
  } else {
    using T = ObservableType;
    constexpr std::array kGuessOrder = {T::kIpv4, T::kIpv6,   T::kCidr, T::kEmail, T::kUrl,   T::kMd5,
                                        T::kSha1, T::kSha256, T::kAsn,  T::kCve,   T::kDomain};
    for (const auto t : kGuessOrder) {
      if (auto o = NormalizeObservable(t, value)) {
        observable = std::move(*o);
        break;
      }
    }
    if (!observable) {
      return Fail(Error::InvalidArgument("'" + std::string(value.substr(0, 200)) +
                                             "' is not an IP, network, e-mail, URL, hash, AS number, CVE or domain",
                                         "/value"));
    }
  }
  Pivot pivot{*observable, {}};
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(pivot.sightings, r.FindSightings(actor.scope, pivot.observable, limit));
    return {};
  }));
  return pivot;
}

}  // namespace hikeshi::core
