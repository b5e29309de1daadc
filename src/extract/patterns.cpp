#include "detail/patterns.hpp"

#include <array>
#include <new>
#include <string>
#include <utility>

namespace hikeshi::extract::detail {

namespace {

struct Pattern {
  const char* expression;
  Trigger trigger;
  unsigned flags;
};

// Byte-oriented on purpose: HS_FLAG_UTF8 requires valid UTF-8 input, and input here is arbitrary.
// Non-ASCII bytes (\x80-\xff) stand for "some other script", which is all the triggers need.
constexpr unsigned kCaseless = HS_FLAG_CASELESS;
constexpr std::array kPatterns{
    Pattern{R"([A-Za-z]://)", Trigger::kUrl, 0},
    Pattern{R"([A-Za-z0-9._%+\-]@[A-Za-z0-9\x80-\xff])", Trigger::kEmail, 0},
    Pattern{R"([0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9])", Trigger::kIpv4, 0},
    Pattern{R"([0-9A-Fa-f]::)", Trigger::kIpv6, 0},
    Pattern{R"(::[0-9A-Fa-f])", Trigger::kIpv6, 0},
    Pattern{R"([0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f])", Trigger::kIpv6, 0},
    // Two ASCII letters after the dot: every ASCII TLD has at least two, and "e.g." or "U.S." do not.
    Pattern{R"([A-Za-z0-9_\-\x80-\xff]\.[A-Za-z]{2})", Trigger::kDomain, 0},
    Pattern{R"([A-Za-z0-9_\-\x80-\xff]\.[\x80-\xff])", Trigger::kDomain, 0},
    // \b on both sides: a 32-digit run inside a longer hex run is not an MD5.
    Pattern{R"(\b[0-9A-Fa-f]{32}\b)", Trigger::kMd5, 0},
    Pattern{R"(\b[0-9A-Fa-f]{40}\b)", Trigger::kSha1, 0},
    Pattern{R"(\b[0-9A-Fa-f]{64}\b)", Trigger::kSha256, 0},
    Pattern{R"(\bCVE-[0-9]{4}-[0-9]{4})", Trigger::kCve, kCaseless},
    Pattern{R"(\bASN?[0-9])", Trigger::kAsn, kCaseless},
    // With a space only in capitals: "as 1" is English, "AS 64500" is an AS number.
    Pattern{R"(\bASN? [0-9])", Trigger::kAsn, 0},
    Pattern{R"(\[\.\]|\(\.\)|\{\.\}|\\\.)", Trigger::kDefangDot, 0},
    Pattern{R"(\[dot\]|\(dot\)|\{dot\})", Trigger::kDefangDotWord, kCaseless},
    Pattern{R"(\[@\]|\(@\)|\{@\})", Trigger::kDefangAt, 0},
    Pattern{R"(\[at\]|\(at\)|\{at\})", Trigger::kDefangAtWord, kCaseless},
    Pattern{R"(\[:\])", Trigger::kDefangColon, 0},
    Pattern{R"(\[://\])", Trigger::kDefangSchemeSep, 0},
    Pattern{R"(\[/\])", Trigger::kDefangSlash, 0},
    Pattern{R"(hxxp)", Trigger::kDefangHxxp, kCaseless},
    Pattern{R"(fxp://)", Trigger::kDefangFxp, kCaseless},
};

std::string HyperscanError(hs_error_t code) { return "Hyperscan error " + std::to_string(code); }

Result<Database> Compile(bool defang) {
  if (hs_valid_platform() != HS_SUCCESS) {
    return Fail(Error::Unavailable("this CPU cannot run Hyperscan, which needs SSSE3"));
  }
  std::vector<const Pattern*> chosen;
  for (const Pattern& pattern : kPatterns) {
    if (IsDefang(pattern.trigger) == defang) chosen.push_back(&pattern);
  }
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const Pattern* pattern : chosen) {
    expressions.push_back(pattern->expression);
    flags.push_back(pattern->flags);
    ids.push_back(static_cast<unsigned>(pattern->trigger));
  }
  hs_database_t* raw_db = nullptr;
  hs_compile_error_t* raw_error = nullptr;
  const hs_error_t rc =
      hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned>(expressions.size()),
                       HS_MODE_BLOCK, nullptr, &raw_db, &raw_error);
  Database db(raw_db);
  if (rc != HS_SUCCESS) {
    std::string message = "the extraction patterns did not compile";
    if (raw_error != nullptr) {
      if (raw_error->expression >= 0) {
        message += ": pattern " + std::string(chosen[static_cast<std::size_t>(raw_error->expression)]->expression);
      }
      if (raw_error->message != nullptr) message += ": " + std::string(raw_error->message);
      hs_free_compile_error(raw_error);
    }
    return Fail(Error::Internal(std::move(message)));
  }
  return db;
}

}  // namespace

Result<Database> CompileObservablePatterns() { return Compile(false); }
Result<Database> CompileDefangPatterns() { return Compile(true); }

Result<std::unique_ptr<ScratchPool>> ScratchPool::Create(const std::vector<const hs_database_t*>& dbs) {
  hs_scratch_t* raw = nullptr;
  for (const hs_database_t* db : dbs) {
    // The first call allocates; later ones grow the same scratch to fit each database.
    if (const hs_error_t rc = hs_alloc_scratch(db, &raw); rc != HS_SUCCESS) {
      Scratch owned(raw);
      return Fail(Error::Internal("cannot allocate Hyperscan scratch space: " + HyperscanError(rc)));
    }
  }
  return std::make_unique<ScratchPool>(Scratch(raw));
}

Result<ScratchPool::Lease> ScratchPool::Borrow() {
  {
    const std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      Scratch scratch = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(scratch));
    }
  }
  hs_scratch_t* raw = nullptr;
  if (const hs_error_t rc = hs_clone_scratch(prototype_.get(), &raw); rc != HS_SUCCESS) {
    return Fail(Error::Internal("cannot allocate Hyperscan scratch space: " + HyperscanError(rc)));
  }
  return Lease(*this, Scratch(raw));
}

void ScratchPool::Return(Scratch scratch) {
  const std::lock_guard lock(mutex_);
  try {
    idle_.push_back(std::move(scratch));
  } catch (const std::bad_alloc&) {
    // Out of memory while giving it back: free it instead; the next Borrow() clones another.
  }
}

}  // namespace hikeshi::extract::detail
