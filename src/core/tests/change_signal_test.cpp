// ChangeSignal: what a live stream waits on. A waiter wakes when a seq past its own is published,
// not for one it has already read; a deadline or a stop request ends the wait without one.

#include "hikeshi/core/change_signal.hpp"

#include <chrono>
#include <future>
#include <stop_token>
#include <thread>

#include <gtest/gtest.h>

namespace hikeshi::core {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

TEST(ChangeSignalTest, KeepsTheHighestSeqPublished) {
  ChangeSignal signal;
  EXPECT_EQ(signal.Latest(), 0);
  signal.Publish(7);
  signal.Publish(3);  // late news of an older commit changes nothing
  EXPECT_EQ(signal.Latest(), 7);
}

TEST(ChangeSignalTest, AWaiterWakesWhenASeqPastItsOwnIsPublished) {
  ChangeSignal signal;
  signal.Publish(5);
  auto waiter = std::async(std::launch::async, [&] {
    return signal.WaitForChange(5, Steady::now() + std::chrono::seconds(10), std::stop_token());
  });
  // Not for a seq it has already read.
  EXPECT_EQ(waiter.wait_for(milliseconds(100)), std::future_status::timeout);
  signal.Publish(5);
  EXPECT_EQ(waiter.wait_for(milliseconds(100)), std::future_status::timeout);
  const auto published = Steady::now();
  signal.Publish(6);
  ASSERT_EQ(waiter.wait_for(milliseconds(2000)), std::future_status::ready);
  EXPECT_EQ(waiter.get(), 6);
  EXPECT_LT(Steady::now() - published, milliseconds(1000));
}

TEST(ChangeSignalTest, ReturnsAtOnceWhenTheSeqIsAlreadyPast) {
  ChangeSignal signal;
  signal.Publish(9);
  const auto start = Steady::now();
  EXPECT_EQ(signal.WaitForChange(4, Steady::now() + std::chrono::seconds(10), std::stop_token()), 9);
  EXPECT_LT(Steady::now() - start, milliseconds(1000));
}

TEST(ChangeSignalTest, TheDeadlineEndsAWaitWithNothingNew) {
  ChangeSignal signal;
  signal.Publish(2);
  const auto start = Steady::now();
  EXPECT_EQ(signal.WaitForChange(2, start + milliseconds(150), std::stop_token()), 2);
  EXPECT_GE(Steady::now() - start, milliseconds(150));
}

TEST(ChangeSignalTest, AStopRequestEndsAWaitPromptly) {
  ChangeSignal signal;
  std::stop_source stop;
  auto waiter = std::async(std::launch::async, [&] {
    return signal.WaitForChange(0, Steady::now() + std::chrono::seconds(30), stop.get_token());
  });
  EXPECT_EQ(waiter.wait_for(milliseconds(100)), std::future_status::timeout);
  stop.request_stop();
  ASSERT_EQ(waiter.wait_for(milliseconds(2000)), std::future_status::ready);
  EXPECT_EQ(waiter.get(), 0);
}

}  // namespace
}  // namespace hikeshi::core
