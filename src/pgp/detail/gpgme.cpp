#include "detail/gpgme.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>

#include <unistd.h>

#include "hikeshi/common/error.hpp"

namespace hikeshi::pgp::detail {
namespace {

// The longest socket name gpg-agent creates in its home, with the separating slash.
constexpr std::string_view kLongestSocketName = "/S.gpg-agent.browser";
// sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

// Asked only when a key or message needs a passphrase. The team key has none, and a message
// encrypted with a passphrase is not addressed to us: refusing makes either case an error instead of
// a prompt that would wait forever.
gpgme_error_t RefusePassphrase(void* /*hook*/, const char* /*uid_hint*/, const char* /*info*/, int /*prev_bad*/,
                               int /*fd*/) {
  return gpg_error(GPG_ERR_CANCELED);
}

std::optional<Error> InitializeOnce() {
  // GPGME needs this before anything else, once, and it is not thread-safe itself.
  gpgme_check_version(nullptr);
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    std::signal(SIGPIPE, SIG_IGN);
  }
  if (gpgme_error_t err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP); err != 0) {
    return Error::Unavailable(Describe("no usable gpg (GnuPG 2.2 or later) found", err));
  }
  return std::nullopt;
}

// gpg puts a non-default home's sockets under /run/user/<uid>/gnupg when that directory exists, and
// in the home itself otherwise.
bool SocketsGoInHome() {
  std::error_code ec;
  return !std::filesystem::is_directory("/run/user/" + std::to_string(::getuid()), ec);
}

}  // namespace

Result<void> InitializeGpgme() {
  static std::once_flag once;
  static std::optional<Error> failure;
  std::call_once(once, [] { failure = InitializeOnce(); });
  if (failure) return Fail(*failure);
  return {};
}

Result<std::filesystem::path> PrepareHome(const std::filesystem::path& home) {
  if (home.empty()) return Fail(Error::InvalidArgument("the gpg home directory path is empty"));
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(home, ec).lexically_normal();
  if (ec) return Fail(Error::InvalidArgument("gpg home " + home.string() + ": " + ec.message()));
  if (!absolute.has_filename() && absolute.has_parent_path()) absolute = absolute.parent_path();
  if (SocketsGoInHome() && absolute.native().size() + kLongestSocketName.size() > kMaxSocketPath) {
    return Fail(Error::InvalidArgument("gpg home " + absolute.string() + " is too long (" +
                                       std::to_string(absolute.native().size()) +
                                       " bytes): gpg-agent's socket paths in it must stay under " +
                                       std::to_string(kMaxSocketPath + 1) + " bytes; use a shorter path"));
  }
  std::filesystem::file_status status = std::filesystem::status(absolute, ec);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_directory(status)) {
      return Fail(Error::InvalidArgument("gpg home " + absolute.string() + " exists and is not a directory"));
    }
    return absolute;
  }
  std::filesystem::create_directories(absolute, ec);
  if (ec) return Fail(Error::Internal("cannot create gpg home " + absolute.string() + ": " + ec.message()));
  std::filesystem::permissions(absolute, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
  if (ec) return Fail(Error::Internal("cannot make gpg home " + absolute.string() + " private: " + ec.message()));
  return absolute;
}

Result<Context> NewContext(const std::filesystem::path& home) {
  HIKESHI_CHECK(InitializeGpgme());
  gpgme_ctx_t raw = nullptr;
  if (gpgme_error_t err = gpgme_new(&raw); err != 0) return Fail(InternalError("cannot create a context", err));
  Context ctx(raw);
  auto setup = [&]() -> gpgme_error_t {
    if (gpgme_error_t err = gpgme_set_protocol(raw, GPGME_PROTOCOL_OpenPGP); err != 0) return err;
    if (gpgme_error_t err = gpgme_ctx_set_engine_info(raw, GPGME_PROTOCOL_OpenPGP, nullptr, home.c_str()); err != 0) {
      return err;
    }
    if (gpgme_error_t err = gpgme_set_pinentry_mode(raw, GPGME_PINENTRY_MODE_LOOPBACK); err != 0) return err;
    // Every key in this home was imported on purpose, after vetting (docs/pgp.md), so gpg's web of
    // trust has nothing to add, and no trust database is read or written.
    if (gpgme_error_t err = gpgme_set_ctx_flag(raw, "trust-model", "always"); err != 0) return err;
    if (gpgme_error_t err = gpgme_set_ctx_flag(raw, "no-symkey-cache", "1"); err != 0) return err;
    return 0;
  };
  if (gpgme_error_t err = setup(); err != 0) return Fail(InternalError("cannot configure a context", err));
  gpgme_set_offline(raw, 1);  // never fetch keys from key servers or WKD
  gpgme_set_passphrase_cb(raw, RefusePassphrase, nullptr);
  return ctx;
}

Result<Data> BorrowedData(std::string_view bytes) {
  gpgme_data_t raw = nullptr;
  if (gpgme_error_t err = gpgme_data_new_from_mem(&raw, bytes.data(), bytes.size(), 0); err != 0) {
    return Fail(InternalError("cannot wrap input data", err));
  }
  return Data(raw);
}

Result<void> OutputSink::Open() {
  static gpgme_data_cbs callbacks{nullptr, &OutputSink::Write, nullptr, nullptr};
  gpgme_data_t raw = nullptr;
  if (gpgme_error_t err = gpgme_data_new_from_cbs(&raw, &callbacks, this); err != 0) {
    return Fail(InternalError("cannot create an output buffer", err));
  }
  data_.reset(raw);
  return {};
}

ssize_t OutputSink::Write(void* handle, const void* buffer, std::size_t size) {
  auto* sink = static_cast<OutputSink*>(handle);
  if (size > sink->limit_ - sink->bytes_.size()) {
    sink->overflowed_ = true;
    errno = EFBIG;
    return -1;
  }
  sink->bytes_.append(static_cast<const char*>(buffer), size);
  return static_cast<ssize_t>(size);
}

std::string Describe(std::string_view what, gpgme_error_t err) {
  return "gpg: " + std::string(what) + ": " + gpgme_strerror(err);
}

Error InternalError(std::string_view what, gpgme_error_t err) { return Error::Internal(Describe(what, err)); }

Result<std::string> NormalizeFingerprint(std::string_view text, std::string_view what) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '\t') continue;
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return Fail(Error::InvalidArgument(std::string(what) + " is not an OpenPGP fingerprint (hex digits only)"));
    }
    out.push_back(c);
  }
  if (out.size() != 40 && out.size() != 64) {
    return Fail(Error::InvalidArgument(std::string(what) + " must be a full fingerprint of 40 or 64 hex digits, not " +
                                       std::to_string(out.size())));
  }
  return out;
}

Result<std::vector<Key>> ListSecretKeys(gpgme_ctx_t ctx) {
  if (gpgme_error_t err = gpgme_op_keylist_start(ctx, nullptr, 1); err != 0) {
    return Fail(InternalError("cannot list secret keys", err));
  }
  std::vector<Key> keys;
  while (true) {
    gpgme_key_t raw = nullptr;
    gpgme_error_t err = gpgme_op_keylist_next(ctx, &raw);
    if (gpgme_err_code(err) == GPG_ERR_EOF) break;
    if (err != 0) {
      gpgme_op_keylist_end(ctx);
      return Fail(InternalError("cannot list secret keys", err));
    }
    keys.emplace_back(raw);
  }
  return keys;
}

Result<Key> FindPublicKey(gpgme_ctx_t ctx, const std::string& fingerprint) {
  gpgme_key_t raw = nullptr;
  gpgme_error_t err = gpgme_get_key(ctx, fingerprint.c_str(), &raw, 0);
  Key key(raw);
  if (gpgme_err_code(err) == GPG_ERR_EOF) return Fail(Error::NotFound("OpenPGP key " + fingerprint));
  if (err != 0) return Fail(InternalError("cannot look up key " + fingerprint, err));
  if (!key) return Fail(Error::NotFound("OpenPGP key " + fingerprint));
  // gpg matches a fingerprint exactly, but check: a pattern must never widen to another key.
  for (gpgme_subkey_t sub = key->subkeys; sub != nullptr; sub = sub->next) {
    if (sub->fpr != nullptr && fingerprint == sub->fpr) return key;
  }
  return Fail(Error::NotFound("OpenPGP key " + fingerprint));
}

}  // namespace hikeshi::pgp::detail
