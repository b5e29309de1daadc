#include "hikeshi/core/login_throttle.hpp"

#include <fmt/format.h>

namespace hikeshi::core {

void LoginThrottle::Expire(Failures& failures, common::Timestamp now) const {
  while (!failures.empty() && failures.front() + options_.window <= now) failures.pop_front();
}

Result<void> LoginThrottle::Check(std::string_view account, std::string_view address, common::Timestamp now) {
  std::lock_guard lock(mu_);
  const auto blocked_for = [&](std::unordered_map<std::string, Failures>& map, std::string_view key,
                               std::size_t limit) -> std::optional<std::chrono::seconds> {
    auto it = map.find(std::string(key));
    if (it == map.end()) return std::nullopt;
    Expire(it->second, now);
    if (it->second.empty()) {
      map.erase(it);
      return std::nullopt;
    }
    if (it->second.size() < limit) return std::nullopt;
    return std::chrono::ceil<std::chrono::seconds>(it->second.front() + options_.window - now);
  };
  auto wait = blocked_for(by_account_, account, options_.max_failures_per_account);
  if (!wait) wait = blocked_for(by_address_, address, options_.max_failures_per_address);
  if (wait) {
    return Fail(Error::ResourceExhausted(
        fmt::format("too many failed logins; try again in {} seconds", std::max<long long>(1, wait->count()))));
  }
  return {};
}

void LoginThrottle::RecordFailure(std::string_view account, std::string_view address, common::Timestamp now) {
  std::lock_guard lock(mu_);
  by_account_[std::string(account)].push_back(now);
  by_address_[std::string(address)].push_back(now);
}

void LoginThrottle::RecordSuccess(std::string_view account) {
  std::lock_guard lock(mu_);
  by_account_.erase(std::string(account));
}

}  // namespace hikeshi::core
