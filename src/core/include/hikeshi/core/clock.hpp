#pragma once
// Clock port: where core learns the time. Implementations must be thread-safe.

#include "hikeshi/common/time.hpp"

namespace hikeshi::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual common::Timestamp Now() const = 0;
};

// The real wall clock (UTC), truncated to microseconds.
class SystemClock final : public Clock {
 public:
  common::Timestamp Now() const override;
};

}  // namespace hikeshi::core
