#pragma once
// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with HMAC-SHA-1, the variant every
// authenticator app understands, and the base32 and otpauth:// encodings used to enrol a device.
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hikeshi/common/time.hpp"

namespace hikeshi::common {

inline constexpr int kTotpDigits = 6;
inline constexpr std::int64_t kTotpPeriodSeconds = 30;
// 160 bits, the HMAC-SHA-1 output size RFC 4226 recommends for the shared secret.
inline constexpr std::size_t kTotpSecretBytes = 20;

// The RFC 6238 time step T of `at`: floor((unix seconds - T0) / period) with T0 = 0. Times before
// 1970 give step 0.
std::int64_t TotpStep(Timestamp at, std::int64_t period_seconds = kTotpPeriodSeconds);

// The HOTP value (RFC 4226, HMAC-SHA-1, dynamic truncation) of `counter` under the raw `secret`,
// as `digits` decimal digits with leading zeros (6..9 digits; other values are clamped).
std::string HotpCode(std::string_view secret, std::uint64_t counter, int digits = kTotpDigits);

// RFC 4648 base32, upper case, without '=' padding (as authenticator apps expect).
std::string Base32Encode(std::string_view bytes);
// Accepts upper or lower case, ignores spaces and '=' padding; nullopt for any other character or
// a dangling partial group that holds non-zero bits.
std::optional<std::string> Base32Decode(std::string_view text);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
// (the Key Uri Format of Google Authenticator, which other apps follow); the label and the issuer
// are percent-encoded.
std::string TotpUri(std::string_view issuer, std::string_view account, std::string_view base32_secret);

}  // namespace hikeshi::common
