#pragma once
// Cryptographic primitives Hikeshi relies on, behind plain types so that libsodium stays out of
// every public header. All functions are thread-safe once InitCrypto() has returned.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::common {

// Initialises libsodium. Throws std::runtime_error if the library cannot start (start-up failure).
void InitCrypto();

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Lower-case hex SHA-256 of the concatenation of `parts`, without building it.
std::string Sha256Hex(std::initializer_list<std::string_view> parts);
// The same into `out`, replacing what it held but keeping its room (for hashes taken per record).
void Sha256Hex(std::initializer_list<std::string_view> parts, std::string& out);

// `n` bytes from the OS CSPRNG, encoded as unpadded base64url.
std::string RandomToken(std::size_t n);

// Constant-time comparison of two equal-length strings; false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Authenticated encryption for data at rest (XChaCha20-Poly1305 with a random nonce).
inline constexpr std::size_t kSecretKeyBytes = 32;
// A new random key of kSecretKeyBytes bytes.
std::string NewSecretKey();
// nonce || ciphertext || tag. `associated` is authenticated but not stored (e.g. the blob's name).
// Errors: kInvalidArgument when `key` is not kSecretKeyBytes long.
[[nodiscard]] Result<std::string> Seal(std::string_view key, std::string_view plaintext, std::string_view associated);
// Errors: kInvalidArgument for a wrong-sized key; kDataLoss when `sealed` is truncated, altered, or
// was sealed under another key or associated data.
[[nodiscard]] Result<std::string> Open(std::string_view key, std::string_view sealed, std::string_view associated);

// Blobs (raw mail, attachments) are named by the lower-case hex SHA-256 of their plaintext and sealed
// with that name as associated data, wherever a BlobStore keeps them.
// Whether `text` is such a name: 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);
// The plaintext of the blob `sha256` sealed as `sealed`, checked against its name.
// Errors: kDataLoss when it fails authentication (tampered, wrong key) or does not match its name.
[[nodiscard]] Result<std::string> OpenBlob(std::string_view key, std::string_view sealed, std::string_view sha256);

// Argon2id cost: interactive is libsodium's OPSLIMIT/MEMLIMIT_INTERACTIVE (64 MiB).
struct PasswordCost {
  unsigned long long ops;
  std::size_t mem_bytes;
  static PasswordCost Interactive();
};

// Hashes a password with argon2id into the self-describing "$argon2id$..." string.
// Errors: kInternal when memory for the hash cannot be had.
[[nodiscard]] Result<std::string> HashPassword(std::string_view password, PasswordCost cost);
// True when `password` matches `encoded`. A malformed `encoded` never matches.
bool VerifyPassword(std::string_view encoded, std::string_view password);

}  // namespace hikeshi::common
