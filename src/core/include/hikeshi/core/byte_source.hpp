#pragma once
// A stream of bytes read in chunks, so that intake stays memory-bounded whatever the input size.
// The port through which a file, stdin or an HTTP body reaches intake. One reader at a time.

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
