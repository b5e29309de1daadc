#pragma once
// KeyRing port: the team's OpenPGP keys. Mail intake decrypts and verifies with it; outgoing mail
// (acknowledgements, investigations, advisories) is signed and encrypted with it. The adapter is
// src/pgp (GPGME over a real gpg home in the data directory).
//
// Thread-safety: implementations must be safe to call from several threads at once.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"

namespace hikeshi::core {

enum class SignatureValidity {
  kGood,        // the signature is valid and made by a key in the keyring
  kBad,         // the signed data was altered, or the signature is forged
  kUnknownKey,  // the signing key is not in the keyring
  kExpiredKey,  // valid signature by a key that has expired
  kRevokedKey,  // valid signature by a revoked key
  kError,       // the signature could not be checked (malformed, unsupported algorithm)
};
std::string_view SignatureValidityName(SignatureValidity validity);  // "good", "bad", "unknown-key", ...
std::optional<SignatureValidity> ParseSignatureValidity(std::string_view text);

struct SignatureCheck {
  SignatureValidity validity = SignatureValidity::kError;
  std::string fingerprint;  // upper-case hex of the signing (sub)key's primary key; may be a key id when unknown
  std::string signer;       // first user id of the key ("Name <addr>"), empty when unknown
  std::optional<common::Timestamp> signed_at;
};

// What the keyring knows about one public key: enough to tell a person whether mail to it can be
// encrypted, and why not.
struct PublicKeyInfo {
  std::string fingerprint;                      // the primary key's, upper-case hex
  std::vector<std::string> user_ids;            // "Name <addr>", in the key's order
  std::optional<common::Timestamp> expires_at;  // the primary key's expiry, absent when none
  bool can_encrypt = false;                     // SignAndEncrypt to it would be accepted
  std::string problem;                          // why it cannot be used for encryption ("has expired"...), else ""
};

struct Decrypted {
  std::string plaintext;                   // the decrypted (or verified inline) content, as bytes
  std::vector<SignatureCheck> signatures;  // signatures found inside, empty when unsigned
};

class KeyRing {
 public:
  virtual ~KeyRing() = default;

  // Decrypts an OpenPGP message (ASCII-armoured or binary) addressed to one of our secret keys and
  // verifies any signature inside it.
  // Errors: kInvalidArgument when `ciphertext` is not OpenPGP data or is signed but not encrypted
  // (use VerifyInline for that), kPermissionDenied when no secret key of ours can decrypt it (also a
  // message encrypted with a passphrase), kDataLoss when it is corrupt or fails its integrity check,
  // kTooLarge when the plaintext exceeds the adapter's limit, kInternal otherwise.
  virtual Result<Decrypted> Decrypt(std::string_view ciphertext) = 0;

  // Verifies a detached signature (PGP/MIME multipart/signed) over `signed_data`, byte for byte.
  // A bad signature is a result (kBad), not an error. The caller canonicalises `signed_data` first
  // (RFC 3156: the first MIME part's exact bytes, CRLF line ends). Errors: kInvalidArgument when
  // `signature` is not an OpenPGP signature.
  virtual Result<std::vector<SignatureCheck>> VerifyDetached(std::string_view signed_data,
                                                             std::string_view signature) = 0;

  // Verifies an inline signed message (a "-----BEGIN PGP SIGNED MESSAGE-----" clear-signed text or
  // an armoured signed message) and returns the signed text. Errors as VerifyDetached, and
  // kTooLarge when the signed text exceeds the adapter's limit.
  virtual Result<Decrypted> VerifyInline(std::string_view message) = 0;

  // Signs `data` with the team key; returns an ASCII-armoured detached signature.
  // Errors: kFailedPrecondition when the keyring has no secret key.
  virtual Result<std::string> SignDetached(std::string_view data) = 0;

  // Signs with the team key and encrypts to every fingerprint in `recipients` (and to the team key,
  // so the team can read its own sent mail); returns ASCII armour.
  // Recipients are full fingerprints (40 or 64 hex digits; case and spaces do not matter).
  // Errors: kInvalidArgument when a recipient is not a full fingerprint, kNotFound when a recipient
  // key is missing, kFailedPrecondition when it is expired, revoked or unusable for encryption, or
  // when the keyring has no secret key.
  virtual Result<std::string> SignAndEncrypt(std::string_view data, const std::vector<std::string>& recipients) = 0;

  // Imports ASCII-armoured public key(s); returns the fingerprints imported (or already present).
  // Errors: kInvalidArgument when `armoured` holds no key, or holds secret key material.
  virtual Result<std::vector<std::string>> ImportKeys(std::string_view armoured) = 0;

  // Describes the public key with this fingerprint (primary key or subkey; case and spaces do not
  // matter). An expired, revoked or encryption-less key is a result (can_encrypt false), not an error.
  // Errors: kInvalidArgument when `fingerprint` is not a full fingerprint, kNotFound when no such key.
  virtual Result<PublicKeyInfo> DescribeKey(std::string_view fingerprint) = 0;

  // The team key's fingerprint and its armoured public key (for the public team page), or kNotFound.
  virtual Result<std::string> TeamFingerprint() = 0;
  virtual Result<std::string> ExportPublicKey(std::string_view fingerprint) = 0;
};

}  // namespace hikeshi::core
