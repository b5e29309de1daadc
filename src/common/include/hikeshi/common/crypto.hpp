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

// `n` bytes from the OS CSPRNG, encoded as unpadded base64url.
std::string RandomToken(std::size_t n);

// Constant-time comparison of two equal-length strings; false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

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
