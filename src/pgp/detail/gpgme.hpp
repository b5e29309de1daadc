#pragma once
// GPGME handles owned from birth, the one-time library set-up, and the data objects every
// operation uses. Private to src/pgp. Thread-safety: a Context and the Data objects given to it
// belong to one call on one thread; the free functions are thread-safe.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gpgme.h>

#include "hikeshi/common/error.hpp"

namespace hikeshi::pgp::detail {

struct ContextRelease {
  void operator()(gpgme_ctx_t ctx) const { gpgme_release(ctx); }
};
struct DataRelease {
  void operator()(gpgme_data_t data) const { gpgme_data_release(data); }
};
struct KeyUnref {
  void operator()(gpgme_key_t key) const { gpgme_key_unref(key); }
};
using Context = std::unique_ptr<gpgme_context, ContextRelease>;
using Data = std::unique_ptr<gpgme_data, DataRelease>;
using Key = std::unique_ptr<_gpgme_key, KeyUnref>;

// gpgme_check_version and the engine check, once per process. Errors: kUnavailable when gpg is
// missing or older than 2.2.
[[nodiscard]] Result<void> InitializeGpgme();

// Checks `home` (absolute, a directory or missing, short enough for the agent's sockets), creates it
// 0700 when missing, and returns its absolute form.
[[nodiscard]] Result<std::filesystem::path> PrepareHome(const std::filesystem::path& home);

// A fresh OpenPGP context on `home`: offline (no key servers), trust model "always" (see
// docs/pgp.md), loopback pinentry that refuses every passphrase prompt, so nothing ever waits on a
// terminal or a pinentry window.
[[nodiscard]] Result<Context> NewContext(const std::filesystem::path& home);

// Read-only data over `bytes`, which must outlive the returned object.
[[nodiscard]] Result<Data> BorrowedData(std::string_view bytes);

// Collects what gpg writes, up to a limit; writing past it fails the write (and so the operation)
// and sets overflowed(). The OutputSink must outlive data().
class OutputSink {
 public:
  explicit OutputSink(std::size_t limit) : limit_(limit) {}
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  [[nodiscard]] Result<void> Open();  // creates data(); call once before use
  gpgme_data_t data() const { return data_.get(); }
  bool overflowed() const { return overflowed_; }
  std::string Take() { return std::move(bytes_); }

 private:
  static ssize_t Write(void* handle, const void* buffer, std::size_t size);

  std::size_t limit_;
  bool overflowed_ = false;
  std::string bytes_;
  Data data_;
};

// "gpg: <what>: <GPGME's text for err>", for messages.
std::string Describe(std::string_view what, gpgme_error_t err);
// kInternal carrying Describe(what, err).
Error InternalError(std::string_view what, gpgme_error_t err);

// Whitespace removed and upper-cased; a full v4 (40) or v5 (64 hex digits) fingerprint, or
// kInvalidArgument naming `what`.
[[nodiscard]] Result<std::string> NormalizeFingerprint(std::string_view text, std::string_view what);

// Every key with secret material in the home, as listed by gpg.
[[nodiscard]] Result<std::vector<Key>> ListSecretKeys(gpgme_ctx_t ctx);

// The public key with this exact fingerprint (primary or subkey). kNotFound when absent.
[[nodiscard]] Result<Key> FindPublicKey(gpgme_ctx_t ctx, const std::string& fingerprint);

}  // namespace hikeshi::pgp::detail
