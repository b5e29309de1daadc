#pragma once
// The Hyperscan side of extraction: the pattern database (compiled once), scratch space (one per
// concurrent scan), and what each pattern means. Patterns only propose places to look; they never
// decide what an observable is, so they stay short and the scan stays fast. Candidates.cpp decides.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <hs/hs.h>

#include "hikeshi/common/error.hpp"

namespace hikeshi::extract::detail {

// What a pattern match proposes. Values are the Hyperscan pattern ids.
enum class Trigger : unsigned {
  kUrl,     // "x://": a scheme ends here
  kEmail,   // "x@y"
  kIpv4,    // "1.2.3.4" (at least the first digit of the last group)
  kIpv6,    // "a::", "::a" or "a:b:c:d"
  kDomain,  // "x.ab" or a dot next to a non-ASCII byte: a label boundary
  kMd5,     // exactly 32 hex digits between word boundaries
  kSha1,    // exactly 40
  kSha256,  // exactly 64
  kCve,     // "CVE-2024-1234"
  kAsn,     // "AS64500", "ASN64500", "ASN 64500": ends at the first digit
  // Defanged forms. Each is a fixed string, so where it starts is known from where it ends.
  kDefangDot,        // [.] (.) {.} \.
  kDefangDotWord,    // [dot] (dot) {dot}, any case
  kDefangAt,         // [@] (@) {@}
  kDefangAtWord,     // [at] (at) {at}, any case
  kDefangColon,      // [:]
  kDefangSchemeSep,  // [://]
  kDefangSlash,      // [/]
  kDefangHxxp,       // hxxp, any case (hxxps follows from it)
  kDefangFxp,        // fxp://
  kCount,
};

inline bool IsDefang(Trigger trigger) { return trigger >= Trigger::kDefangDot && trigger < Trigger::kCount; }

struct FreeDatabase {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct FreeScratch {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};
using Database = std::unique_ptr<hs_database_t, FreeDatabase>;
using Scratch = std::unique_ptr<hs_scratch_t, FreeScratch>;

// The two block-mode databases, each compiled once. Defanged forms are looked for first, in a
// separate scan of fixed strings only (several GB/s), so that the main scan runs once, over text
// that is already refanged, however many defanged forms it holds.
// Errors: kUnavailable if the CPU cannot run Hyperscan; kInternal if a pattern does not compile.
[[nodiscard]] Result<Database> CompileObservablePatterns();
[[nodiscard]] Result<Database> CompileDefangPatterns();

// Scratch spaces for one database. A scan borrows one for its duration; a pool of them lets any
// number of threads scan at once, each with its own, while a single-threaded caller keeps reusing
// one. Thread-safe.
class ScratchPool {
 public:
  // One scratch serves several databases (Hyperscan sizes it for the largest), so each scan
  // borrows one scratch for both passes.
  // Errors: kInternal if Hyperscan cannot allocate the first scratch.
  [[nodiscard]] static Result<std::unique_ptr<ScratchPool>> Create(const std::vector<const hs_database_t*>& dbs);

  class Lease {
   public:
    Lease(ScratchPool& pool, Scratch scratch) : pool_(&pool), scratch_(std::move(scratch)) {}
    ~Lease() {
      if (scratch_ != nullptr) pool_->Return(std::move(scratch_));
    }
    // Movable so that Borrow() can return it; the moved-from lease returns nothing.
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    hs_scratch_t* get() const { return scratch_.get(); }

   private:
    ScratchPool* pool_;
    Scratch scratch_;
  };

  // Errors: kInternal if a new scratch cannot be allocated.
  [[nodiscard]] Result<Lease> Borrow();

  explicit ScratchPool(Scratch prototype) : prototype_(std::move(prototype)) {}

 private:
  void Return(Scratch scratch);

  Scratch prototype_;  // cloned for each thread that finds the pool empty; never scanned with
  std::mutex mutex_;
  std::vector<Scratch> idle_;
};

}  // namespace hikeshi::extract::detail
