#include "hikeshi/common/crypto.hpp"

#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>
#include <sodium.h>

namespace hikeshi::common {

void InitCrypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string NewSecretKey() {
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

Result<std::string> Seal(std::string_view key, std::string_view plaintext, std::string_view associated) {
  static_assert(kSecretKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  if (key.size() != kSecretKeyBytes) return Fail(Error::InvalidArgument("encryption key has the wrong size"));
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(bytes, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      bytes + kNonce, &written, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nullptr, bytes,
      reinterpret_cast<const unsigned char*>(key.data()));
  out.resize(kNonce + written);
  return out;
}

Result<std::string> Open(std::string_view key, std::string_view sealed, std::string_view associated) {
  if (key.size() != kSecretKeyBytes) return Fail(Error::InvalidArgument("encryption key has the wrong size"));
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kNonce + kTag) return Fail(Error::DataLoss("sealed data is truncated"));
  std::string out(sealed.size() - kNonce - kTag, '\0');
  unsigned long long written = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &written, nullptr, bytes + kNonce, sealed.size() - kNonce,
          reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), bytes,
          reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return Fail(Error::DataLoss("sealed data failed authentication (altered, or another key)"));
  }
  out.resize(written);
  return out;
}

namespace {

// SHA-256 comes from OpenSSL, which uses the CPU's SHA instructions where it has them; libsodium's
// is portable code, several times slower, and feed intake hashes every event for its key. The
// digest is the same either way, and libsodium stays the fallback should OpenSSL fail.
struct DigestFree {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
struct DigestContextFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* Sha256Digest() {
  static const std::unique_ptr<EVP_MD, DigestFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

void HexInto(const unsigned char (&digest)[crypto_hash_sha256_BYTES], std::string& hex) {
  static constexpr char kDigits[] = "0123456789abcdef";
  hex.resize(2 * crypto_hash_sha256_BYTES);
  for (std::size_t i = 0; i < crypto_hash_sha256_BYTES; ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0x0F];
  }
}

std::string HexOf(const unsigned char (&digest)[crypto_hash_sha256_BYTES]) {
  std::string hex;
  HexInto(digest, hex);
  return hex;
}

void Sha256(std::initializer_list<std::string_view> parts, unsigned char (&digest)[crypto_hash_sha256_BYTES]) {
  // One context per thread, reset by each EVP_DigestInit_ex: no allocation per hash.
  thread_local const std::unique_ptr<EVP_MD_CTX, DigestContextFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = Sha256Digest();
  bool done = ctx != nullptr && md != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
  for (auto part = parts.begin(); done && part != parts.end(); ++part) {
    done = EVP_DigestUpdate(ctx.get(), part->data(), part->size()) == 1;
  }
  unsigned int size = 0;
  if (done && EVP_DigestFinal_ex(ctx.get(), digest, &size) == 1 && size == crypto_hash_sha256_BYTES) return;
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  for (const auto part : parts) {
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
  crypto_hash_sha256_final(&state, digest);
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  Sha256({data}, digest);
  return HexOf(digest);
}

std::string Sha256Hex(std::initializer_list<std::string_view> parts) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  Sha256(parts, digest);
  return HexOf(digest);
}

void Sha256Hex(std::initializer_list<std::string_view> parts, std::string& out) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  Sha256(parts, digest);
  HexInto(digest, out);
}

std::string RandomToken(std::size_t n) {
  std::vector<unsigned char> bytes(n);
  randombytes_buf(bytes.data(), bytes.size());
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

PasswordCost PasswordCost::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

Result<std::string> HashPassword(std::string_view password, PasswordCost cost) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(Error::Internal("argon2id: out of memory while hashing a password"));
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  std::string terminated(encoded);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> OpenBlob(std::string_view key, std::string_view sealed, std::string_view sha256) {
  auto plain = Open(key, sealed, sha256);
  if (!plain) return Fail(Error::DataLoss("blob " + std::string(sha256) + ": " + plain.error().message()));
  if (Sha256Hex(*plain) != sha256)
    return Fail(Error::DataLoss("blob " + std::string(sha256) + " does not match its name"));
  return std::move(*plain);
}

}  // namespace hikeshi::common
