#pragma once
// Login rate limiting: too many failures for one account, or from one address, within a window
// lock further attempts out until the window has passed. In memory, per process.
// Thread-safe.

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"

namespace hikeshi::core {

struct LoginThrottleOptions {
  std::size_t max_failures_per_account = 5;
  std::size_t max_failures_per_address = 20;
  std::chrono::seconds window{15 * 60};
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options = {}) : options_(options) {}

  // Errors: kResourceExhausted (saying when to retry) when the account or the address has used up
  // its failures within the window.
  [[nodiscard]] Result<void> Check(std::string_view account, std::string_view address, common::Timestamp now);
  void RecordFailure(std::string_view account, std::string_view address, common::Timestamp now);
  // A success clears the account's failures (not the address's: one good password must not
  // reset a spray across many accounts).
  void RecordSuccess(std::string_view account);

 private:
  using Failures = std::deque<common::Timestamp>;
  void Expire(Failures& failures, common::Timestamp now) const;

  LoginThrottleOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Failures> by_account_;
  std::unordered_map<std::string, Failures> by_address_;
};

}  // namespace hikeshi::core
