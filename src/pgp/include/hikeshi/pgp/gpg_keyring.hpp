#pragma once
// The OpenPGP adapter: core::KeyRing on GPGME, over a gpg home directory of Hikeshi's own (in the
// data directory, never the user's ~/.gnupg). docs/pgp.md describes the home, the team key and the
// trust decision.
//
// Thread-safety: every function here and every method of the returned KeyRing may be called from
// several threads at once; each call runs in a GPGME context of its own. The first call ignores
// SIGPIPE for the whole process if it was at its default (GPGME writes to gpg through pipes, and a
// gpg that stops reading early must fail the call, not kill the process).

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/keyring.hpp"

namespace hikeshi::pgp {

struct GpgKeyRingOptions {
  // Decrypted or verified content larger than this fails with kTooLarge (a compressed message can
  // expand a thousandfold; this bounds the memory one call can take).
  std::size_t max_plaintext_bytes = std::size_t{64} << 20;
};

// Opens the keyring kept in `gnupg_home`, which is used as the gpg home directory (GNUPGHOME) of
// every gpg that Hikeshi runs. The directory is created with mode 0700 when missing; an existing one
// is used as it is. The path is made absolute. It must be short: gpg-agent puts its sockets in it,
// and a Unix socket path is limited to 107 bytes (use e.g. /var/lib/hikeshi/gnupg).
// Errors: kInvalidArgument when the path is not a directory or is too long for the agent's socket,
// kUnavailable when gpg is not installed or too old, kInternal when the directory cannot be created.
// An empty home is fine: the keyring can then import keys and verify, and signing and decrypting
// start to work once CreateTeamKey has made the team key.
[[nodiscard]] Result<std::unique_ptr<core::KeyRing>> OpenGpgKeyRing(std::filesystem::path gnupg_home,
                                                                    GpgKeyRingOptions options = {});

// Generates the team's key pair in `gnupg_home` (created 0700 when missing): an ed25519 primary key
// for signing and certification and a cv25519 subkey for encryption, no passphrase, no expiry.
// `user_id` is e.g. "Example CSIRT <csirt@example.org>". Returns the primary key's fingerprint
// (40 upper-case hex digits). gpg also writes a revocation certificate to
// <gnupg_home>/openpgp-revocs.d/<fingerprint>.rev.
// Errors: kConflict when the home already holds a secret key (the message names it),
// kInvalidArgument when `user_id` is empty, not UTF-8, has control characters or is over 256 bytes,
// or the home is unusable (as OpenGpgKeyRing), kUnavailable when gpg is missing, kInternal when gpg
// fails. Not safe against two concurrent calls on the same home. Leaves the home's gpg-agent
// running: a short-lived command (hikeshi init) calls StopAgent afterwards.
[[nodiscard]] Result<std::string> CreateTeamKey(const std::filesystem::path& gnupg_home, std::string_view user_id);

// Stops the gpg-agent (and any other gpg daemon) that gpg started for `gnupg_home`, by running
// `gpgconf --homedir <gnupg_home> --kill all`. Decrypting and signing start an agent that keeps
// running after the call; call this when the program that used the keyring shuts down. Succeeds
// when nothing was running or the home does not exist. The agent exits shortly after this returns.
// Errors: kUnavailable when gpgconf cannot be run, kInternal when it fails.
[[nodiscard]] Result<void> StopAgent(const std::filesystem::path& gnupg_home);

}  // namespace hikeshi::pgp
