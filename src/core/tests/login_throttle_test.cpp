#include "hikeshi/core/login_throttle.hpp"

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const common::Timestamp kT0 = common::FromMicros(1'795'765'396'000'000LL);

TEST(LoginThrottleTest, LocksAnAccountAfterFiveFailuresUntilTheWindowPasses) {
  LoginThrottle throttle;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(throttle.Check("alice", "192.0.2.1", kT0).has_value()) << "attempt " << i;
    throttle.RecordFailure("alice", "192.0.2.1", kT0);
  }
  const auto locked = throttle.Check("alice", "192.0.2.99", kT0 + seconds(1));
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().code(), ErrorCode::kResourceExhausted);
  // Another account from the same address is not locked by alice's failures.
  EXPECT_TRUE(throttle.Check("bob", "192.0.2.1", kT0 + seconds(1)).has_value());
  // After the 15-minute window the account may try again.
  EXPECT_TRUE(throttle.Check("alice", "192.0.2.1", kT0 + minutes(15) + seconds(1)).has_value());
}

TEST(LoginThrottleTest, LocksAnAddressThatSpraysManyAccounts) {
  LoginThrottle throttle;
  for (int i = 0; i < 20; ++i) throttle.RecordFailure("user" + std::to_string(i), "198.51.100.7", kT0);
  EXPECT_FALSE(throttle.Check("someone-new", "198.51.100.7", kT0).has_value());
  EXPECT_TRUE(throttle.Check("someone-new", "198.51.100.8", kT0).has_value());
}

TEST(LoginThrottleTest, SuccessClearsTheAccountButNotTheAddress) {
  LoginThrottle throttle({.max_failures_per_account = 2, .max_failures_per_address = 3, .window = minutes(5)});
  throttle.RecordFailure("alice", "192.0.2.1", kT0);
  throttle.RecordSuccess("alice");
  throttle.RecordFailure("alice", "192.0.2.1", kT0);
  EXPECT_TRUE(throttle.Check("alice", "192.0.2.2", kT0).has_value());  // one failure since the success
  throttle.RecordFailure("carol", "192.0.2.1", kT0);
  EXPECT_FALSE(throttle.Check("dave", "192.0.2.1", kT0).has_value());  // the address has 3 failures
}

}  // namespace
}  // namespace hikeshi::core
