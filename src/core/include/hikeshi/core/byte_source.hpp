#pragma once
// A stream of bytes read in chunks, so that intake stays memory-bounded whatever the input size.
// The port through which a file, stdin or an HTTP body reaches intake. One reader at a time.

#include <chrono>
#include <cstddef>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `buffer`; returns 0 at end of input.
  // Errors: kUnavailable when the underlying read fails.
  virtual Result<std::size_t> Read(char* buffer, std::size_t size) = 0;
  // Waits up to `timeout` for input and says whether a Read() would now return without waiting
  // (bytes, the end or an error are there). A live stream (a sensor's `tail -F` on stdin, an upload
  // still arriving) is asked this before the reader blocks, so that what it has read can be
  // committed first. A source that never waits (bytes in memory) is always ready: the default.
  virtual bool WaitReady(std::chrono::milliseconds timeout) {
    static_cast<void>(timeout);
    return true;
  }
};

// A ByteSource over bytes already in memory (an HTTP body); `bytes` must outlive it.
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<std::size_t> Read(char* buffer, std::size_t size) override {
    const std::size_t n = size < bytes_.size() ? size : bytes_.size();
    bytes_.copy(buffer, n);
    bytes_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view bytes_;
};

}  // namespace hikeshi::core
