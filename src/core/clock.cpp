#include "hikeshi/core/clock.hpp"

#include <chrono>

namespace hikeshi::core {

common::Timestamp SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace hikeshi::core
