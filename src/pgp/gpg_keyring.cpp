#include "hikeshi/pgp/gpg_keyring.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include <gpgme.h>

#include "hikeshi/common/utf8.hpp"

#include "detail/gpgme.hpp"

namespace hikeshi::pgp {
namespace {

using detail::Context;
using detail::Data;
using detail::Key;
using detail::OutputSink;

constexpr std::size_t kMaxUserIdBytes = 256;

// What gpg reported about one signature, copied out of the context's result before anything else
// runs on it.
struct RawSignature {
  std::string fpr;  // the signing (sub)key's fingerprint, or its key id when gpg does not know it
  gpgme_error_t status = 0;
  unsigned int summary = 0;
  unsigned long timestamp = 0;  // seconds since the epoch, 0 when unknown (GPGME's type)
};

core::SignatureValidity ValidityOf(const RawSignature& sig) {
  using core::SignatureValidity;
  switch (gpgme_err_code(sig.status)) {
    case GPG_ERR_NO_ERROR:
      // gpg reports these through the status; the summary bits are the second witness.
      if ((sig.summary & GPGME_SIGSUM_KEY_REVOKED) != 0) return SignatureValidity::kRevokedKey;
      if ((sig.summary & GPGME_SIGSUM_KEY_EXPIRED) != 0) return SignatureValidity::kExpiredKey;
      return SignatureValidity::kGood;
    case GPG_ERR_BAD_SIGNATURE:
      return SignatureValidity::kBad;
    case GPG_ERR_NO_PUBKEY:
      return SignatureValidity::kUnknownKey;
    case GPG_ERR_KEY_EXPIRED:
      return SignatureValidity::kExpiredKey;
    case GPG_ERR_CERT_REVOKED:
      return SignatureValidity::kRevokedKey;
    default:
      // GPG_ERR_SIG_EXPIRED (the signature itself carried an expiry that passed), unsupported
      // algorithms, malformed signature packets.
      return SignatureValidity::kError;
  }
}

std::vector<RawSignature> CopySignatures(gpgme_ctx_t ctx) {
  std::vector<RawSignature> out;
  gpgme_verify_result_t result = gpgme_op_verify_result(ctx);
  if (result == nullptr) return out;
  for (gpgme_signature_t sig = result->signatures; sig != nullptr; sig = sig->next) {
    out.push_back({sig->fpr != nullptr ? sig->fpr : "", sig->status, sig->summary, sig->timestamp});
  }
  return out;
}

bool IsOpenPgp(gpgme_data_type_t type) {
  return type == GPGME_DATA_TYPE_PGP_SIGNED || type == GPGME_DATA_TYPE_PGP_ENCRYPTED ||
         type == GPGME_DATA_TYPE_PGP_OTHER || type == GPGME_DATA_TYPE_PGP_KEY || type == GPGME_DATA_TYPE_PGP_SIGNATURE;
}

// What `data` holds, judged from its start (gpg may have read it to the end already).
gpgme_data_type_t Identify(gpgme_data_t data) {
  gpgme_data_seek(data, 0, SEEK_SET);
  gpgme_data_type_t type = gpgme_data_identify(data, 0);
  gpgme_data_seek(data, 0, SEEK_SET);
  return type;
}

// Failures of the machinery (gpg missing or broken, no agent, out of memory or disk) rather than of
// the data given to it. gpg reports damaged or hostile input with many codes (bad packets, unknown
// algorithms, "general error"), so everything not listed here is blamed on the input.
bool IsEngineFailure(gpgme_error_t err) {
  gpgme_err_code_t code = gpgme_err_code(err);
  if (code >= GPG_ERR_ASS_GENERAL && code <= GPG_ERR_ASS_UNKNOWN_INQUIRE) return true;  // IPC with gpg-agent
  switch (code) {
    case GPG_ERR_INV_ENGINE:
    case GPG_ERR_ENGINE_TOO_OLD:
    case GPG_ERR_NO_AGENT:
    case GPG_ERR_AGENT:
    case GPG_ERR_NOT_OPERATIONAL:
    case GPG_ERR_KEYRING_OPEN:
    case GPG_ERR_BUG:
    case GPG_ERR_INTERNAL:
    case GPG_ERR_INV_VALUE:
    case GPG_ERR_TIMEOUT:
    case GPG_ERR_ENOENT:
    case GPG_ERR_ENOMEM:
    case GPG_ERR_EIO:
    case GPG_ERR_ENOSPC:
    case GPG_ERR_EACCES:
    case GPG_ERR_EPERM:
    case GPG_ERR_EMFILE:
    case GPG_ERR_ENFILE:
    case GPG_ERR_EAGAIN:
      return true;
    default:
      return false;
  }
}

// Names each signature's key: the primary key's fingerprint and first user id, when we have it.
Result<std::vector<core::SignatureCheck>> Resolve(gpgme_ctx_t ctx, const std::vector<RawSignature>& raws) {
  std::vector<core::SignatureCheck> checks;
  for (const RawSignature& raw : raws) {
    core::SignatureCheck check;
    check.validity = ValidityOf(raw);
    check.fingerprint = raw.fpr;
    if (raw.timestamp != 0) {
      check.signed_at = common::Timestamp(std::chrono::seconds(static_cast<std::int64_t>(raw.timestamp)));
    }
    if (check.validity != core::SignatureValidity::kUnknownKey && !raw.fpr.empty()) {
      gpgme_key_t found = nullptr;
      gpgme_error_t err = gpgme_get_key(ctx, raw.fpr.c_str(), &found, 0);
      Key key(found);
      if (err == 0 && key) {
        if (key->fpr != nullptr) check.fingerprint = key->fpr;
        if (key->uids != nullptr && key->uids->uid != nullptr) check.signer = key->uids->uid;
      } else if (IsEngineFailure(err)) {
        return Fail(detail::InternalError("cannot look up signing key " + raw.fpr, err));
      }  // otherwise (gone, or a key id two keys share) it stays named as gpg reported it
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

bool NoSecretKeyFor(gpgme_ctx_t ctx, gpgme_error_t err) {
  if (gpgme_err_code(err) == GPG_ERR_NO_SECKEY) return true;
  gpgme_decrypt_result_t result = gpgme_op_decrypt_result(ctx);
  if (result == nullptr || result->recipients == nullptr) return false;
  for (gpgme_recipient_t r = result->recipients; r != nullptr; r = r->next) {
    if (gpgme_err_code(r->status) != GPG_ERR_NO_SECKEY) return false;
  }
  return true;
}

std::string RecipientKeyIds(gpgme_ctx_t ctx) {
  std::string ids;
  gpgme_decrypt_result_t result = gpgme_op_decrypt_result(ctx);
  for (gpgme_recipient_t r = result != nullptr ? result->recipients : nullptr; r != nullptr; r = r->next) {
    if (!ids.empty()) ids += ", ";
    ids += r->keyid != nullptr ? r->keyid : "?";
  }
  return ids.empty() ? "no recipient listed" : ids;
}

bool UsableForSigning(gpgme_key_t key) {
  if (key->revoked || key->expired || key->disabled || key->invalid || key->subkeys == nullptr) return false;
  for (gpgme_subkey_t sub = key->subkeys; sub != nullptr; sub = sub->next) {
    if (sub->secret && sub->can_sign && !sub->revoked && !sub->expired && !sub->disabled && !sub->invalid) return true;
  }
  return false;
}

Result<void> CheckUsableForEncryption(gpgme_key_t key, const std::string& fingerprint) {
  auto refuse = [&](std::string_view why) {
    return Fail(Error::FailedPrecondition("recipient key " + fingerprint + " " + std::string(why)));
  };
  if (key->revoked) return refuse("is revoked");
  if (key->expired) return refuse("has expired");
  if (key->disabled) return refuse("is disabled");
  if (key->invalid) return refuse("is invalid");
  for (gpgme_subkey_t sub = key->subkeys; sub != nullptr; sub = sub->next) {
    if (sub->can_encrypt && !sub->revoked && !sub->expired && !sub->disabled && !sub->invalid) return {};
  }
  return refuse("has no valid encryption subkey (expired, revoked or missing)");
}

Result<void> CheckUserId(std::string_view user_id) {
  if (user_id.empty()) return Fail(Error::InvalidArgument("the team key's user id is empty", "/user_id"));
  if (user_id.size() > kMaxUserIdBytes) {
    return Fail(Error::InvalidArgument("the team key's user id is over 256 bytes", "/user_id"));
  }
  if (!common::IsValidUtf8(user_id)) {
    return Fail(Error::InvalidArgument("the team key's user id is not UTF-8", "/user_id"));
  }
  for (unsigned char c : user_id) {
    if (c < 0x20 || c == 0x7f) {
      return Fail(Error::InvalidArgument("the team key's user id contains a control character", "/user_id"));
    }
  }
  return {};
}

class GpgKeyRing final : public core::KeyRing {
 public:
  GpgKeyRing(std::filesystem::path home, GpgKeyRingOptions options) : home_(std::move(home)), options_(options) {}

  Result<core::Decrypted> Decrypt(std::string_view ciphertext) override {
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(Data in, detail::BorrowedData(ciphertext));
    OutputSink out(options_.max_plaintext_bytes);
    HIKESHI_CHECK(out.Open());
    gpgme_error_t err = gpgme_op_decrypt_verify(ctx.get(), in.get(), out.data());
    if (out.overflowed()) return Fail(TooLarge());
    if (err != 0) return Fail(DecryptFailure(ctx.get(), in.get(), err));
    if (gpgme_decrypt_result_t result = gpgme_op_decrypt_result(ctx.get());
        result != nullptr && result->unsupported_algorithm != nullptr) {
      return Fail(Error::InvalidArgument(std::string("the message uses an unsupported algorithm: ") +
                                         result->unsupported_algorithm));
    }
    std::vector<RawSignature> raws = CopySignatures(ctx.get());
    HIKESHI_TRY(auto signatures, Resolve(ctx.get(), raws));
    return core::Decrypted{out.Take(), std::move(signatures)};
  }

  Result<std::vector<core::SignatureCheck>> VerifyDetached(std::string_view signed_data,
                                                           std::string_view signature) override {
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(Data sig, detail::BorrowedData(signature));
    HIKESHI_TRY(Data text, detail::BorrowedData(signed_data));
    gpgme_error_t err = gpgme_op_verify(ctx.get(), sig.get(), text.get(), nullptr);
    HIKESHI_TRY(auto checks, FinishVerify(ctx.get(), err, "detached signature"));
    return checks;
  }

  Result<core::Decrypted> VerifyInline(std::string_view message) override {
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(Data in, detail::BorrowedData(message));
    OutputSink out(options_.max_plaintext_bytes);
    HIKESHI_CHECK(out.Open());
    gpgme_error_t err = gpgme_op_verify(ctx.get(), in.get(), nullptr, out.data());
    if (out.overflowed()) return Fail(TooLarge());
    HIKESHI_TRY(auto checks, FinishVerify(ctx.get(), err, "signed message"));
    return core::Decrypted{out.Take(), std::move(checks)};
  }

  Result<std::string> SignDetached(std::string_view data) override {
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_CHECK(AddTeamSigner(ctx.get()));
    gpgme_set_armor(ctx.get(), 1);
    HIKESHI_TRY(Data in, detail::BorrowedData(data));
    OutputSink out(Unlimited());
    HIKESHI_CHECK(out.Open());
    gpgme_error_t err = gpgme_op_sign(ctx.get(), in.get(), out.data(), GPGME_SIG_MODE_DETACH);
    HIKESHI_CHECK(CheckSigning(ctx.get(), err));
    return out.Take();
  }

  Result<std::string> SignAndEncrypt(std::string_view data, const std::vector<std::string>& recipients) override {
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(std::string team, AddTeamSigner(ctx.get()));
    std::vector<Key> keys;
    for (const std::string& recipient : recipients) {
      HIKESHI_TRY(std::string fpr, detail::NormalizeFingerprint(recipient, "recipient '" + recipient + "'"));
      HIKESHI_TRY(Key key, detail::FindPublicKey(ctx.get(), fpr));
      HIKESHI_CHECK(CheckUsableForEncryption(key.get(), fpr));
      keys.push_back(std::move(key));
    }
    HIKESHI_TRY(Key team_key, detail::FindPublicKey(ctx.get(), team));
    HIKESHI_CHECK(CheckUsableForEncryption(team_key.get(), team));
    keys.push_back(std::move(team_key));
    std::vector<gpgme_key_t> recipient_array;
    for (const Key& key : keys) recipient_array.push_back(key.get());
    recipient_array.push_back(nullptr);

    gpgme_set_armor(ctx.get(), 1);
    HIKESHI_TRY(Data in, detail::BorrowedData(data));
    OutputSink out(Unlimited());
    HIKESHI_CHECK(out.Open());
    // Always trust: the keys in this home were all imported on purpose (docs/pgp.md).
    gpgme_error_t err =
        gpgme_op_encrypt_sign(ctx.get(), recipient_array.data(), GPGME_ENCRYPT_ALWAYS_TRUST, in.get(), out.data());
    if (gpgme_encrypt_result_t result = gpgme_op_encrypt_result(ctx.get());
        result != nullptr && result->invalid_recipients != nullptr) {
      const gpgme_invalid_key_t bad = result->invalid_recipients;
      return Fail(Error::FailedPrecondition(detail::Describe(
          std::string("cannot encrypt to ") + (bad->fpr != nullptr ? bad->fpr : "a recipient"), bad->reason)));
    }
    HIKESHI_CHECK(CheckSigning(ctx.get(), err));
    return out.Take();
  }

  Result<std::vector<std::string>> ImportKeys(std::string_view armoured) override {
    if (armoured.find("-----BEGIN PGP PRIVATE KEY BLOCK-----") != std::string_view::npos) {
      return Fail(Error::InvalidArgument("refusing to import a secret key: give the public key only"));
    }
    if (armoured.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") == std::string_view::npos) {
      return Fail(Error::InvalidArgument("no ASCII-armoured OpenPGP public key block found"));
    }
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(Data in, detail::BorrowedData(armoured));
    // A dry run first: what the block really holds, whatever its armour header says.
    HIKESHI_TRY(std::size_t offered, CountOfferedPublicKeys(ctx.get(), in.get()));
    if (offered == 0) return Fail(Error::InvalidArgument("the key block holds no OpenPGP key"));
    gpgme_data_seek(in.get(), 0, SEEK_SET);

    if (gpgme_error_t err = gpgme_op_import(ctx.get(), in.get()); err != 0) {
      if (IsEngineFailure(err)) return Fail(detail::InternalError("import failed", err));
      return Fail(Error::InvalidArgument(detail::Describe("the key block is damaged", err)));
    }
    gpgme_import_result_t result = gpgme_op_import_result(ctx.get());
    std::vector<std::string> fingerprints;
    std::string problems;
    for (gpgme_import_status_t s = result != nullptr ? result->imports : nullptr; s != nullptr; s = s->next) {
      if (s->result != 0 || s->fpr == nullptr) {
        if (!problems.empty()) problems += "; ";
        problems += (s->fpr != nullptr ? std::string(s->fpr) + ": " : std::string()) + gpgme_strerror(s->result);
        continue;
      }
      if (std::find(fingerprints.begin(), fingerprints.end(), s->fpr) == fingerprints.end()) {
        fingerprints.emplace_back(s->fpr);
      }
    }
    if (fingerprints.empty()) {
      return Fail(Error::InvalidArgument("no usable key in the key block" +
                                         (problems.empty() ? std::string() : " (" + problems + ")")));
    }
    return fingerprints;
  }

  Result<core::PublicKeyInfo> DescribeKey(std::string_view fingerprint) override {
    HIKESHI_TRY(std::string fpr, detail::NormalizeFingerprint(fingerprint, "the fingerprint"));
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(Key key, detail::FindPublicKey(ctx.get(), fpr));
    core::PublicKeyInfo info;
    info.fingerprint = key->fpr != nullptr ? key->fpr : fpr;
    for (gpgme_user_id_t uid = key->uids; uid != nullptr; uid = uid->next) {
      if (uid->uid != nullptr) info.user_ids.emplace_back(uid->uid);
    }
    if (key->subkeys != nullptr && key->subkeys->expires > 0) {
      info.expires_at = common::Timestamp(std::chrono::seconds(static_cast<std::int64_t>(key->subkeys->expires)));
    }
    const auto usable = CheckUsableForEncryption(key.get(), info.fingerprint);
    info.can_encrypt = usable.has_value();
    if (!usable) info.problem = usable.error().message();
    return info;
  }

  Result<std::string> TeamFingerprint() override {
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    HIKESHI_TRY(Key key, FindTeamKey(ctx.get()));
    return std::string(key->fpr);
  }

  Result<std::string> ExportPublicKey(std::string_view fingerprint) override {
    HIKESHI_TRY(std::string fpr, detail::NormalizeFingerprint(fingerprint, "the fingerprint"));
    HIKESHI_TRY(Context ctx, detail::NewContext(home_));
    gpgme_set_armor(ctx.get(), 1);
    OutputSink out(Unlimited());
    HIKESHI_CHECK(out.Open());
    if (gpgme_error_t err = gpgme_op_export(ctx.get(), fpr.c_str(), 0, out.data()); err != 0) {
      return Fail(detail::InternalError("export of " + fpr + " failed", err));
    }
    std::string armour = out.Take();
    if (armour.empty()) return Fail(Error::NotFound("OpenPGP key " + fpr));
    return armour;
  }

 private:
  static std::size_t Unlimited() { return std::string().max_size(); }

  Error TooLarge() const {
    return Error::TooLarge("the decrypted content is larger than " + std::to_string(options_.max_plaintext_bytes) +
                           " bytes");
  }

  // Decrypt's failure, told apart as the port promises.
  static Error DecryptFailure(gpgme_ctx_t ctx, gpgme_data_t in, gpgme_error_t err) {
    if (NoSecretKeyFor(ctx, err)) {
      return Error::PermissionDenied("the message is not encrypted to a key of ours (it is for " +
                                     RecipientKeyIds(ctx) + ")");
    }
    if (gpgme_err_code(err) == GPG_ERR_CANCELED) {
      return Error::PermissionDenied(
          "the message needs a passphrase (encrypted with a password, or our key is protected by one)");
    }
    if (IsEngineFailure(err)) return detail::InternalError("decryption failed", err);
    gpgme_data_type_t type = Identify(in);
    if (!IsOpenPgp(type)) return Error::InvalidArgument("not OpenPGP data");
    gpgme_decrypt_result_t result = gpgme_op_decrypt_result(ctx);
    bool encrypted = result != nullptr && result->recipients != nullptr;
    if (gpgme_err_code(err) == GPG_ERR_NO_DATA && !encrypted && type != GPGME_DATA_TYPE_PGP_ENCRYPTED) {
      return Error::InvalidArgument("the OpenPGP data is not encrypted (signed only: verify it with VerifyInline)");
    }
    if (result != nullptr && result->unsupported_algorithm != nullptr) {
      return Error::InvalidArgument(std::string("the message uses an unsupported algorithm: ") +
                                    result->unsupported_algorithm);
    }
    return Error::DataLoss(detail::Describe("the encrypted message is corrupt", err));
  }

  static Result<std::vector<core::SignatureCheck>> FinishVerify(gpgme_ctx_t ctx, gpgme_error_t err,
                                                                std::string_view what) {
    if (err != 0) {
      if (IsEngineFailure(err)) return Fail(detail::InternalError("verification failed", err));
      return Fail(Error::InvalidArgument(detail::Describe("not a valid OpenPGP " + std::string(what), err)));
    }
    std::vector<RawSignature> raws = CopySignatures(ctx);
    if (raws.empty()) return Fail(Error::InvalidArgument("the " + std::string(what) + " holds no OpenPGP signature"));
    return Resolve(ctx, raws);
  }

  static Result<void> CheckSigning(gpgme_ctx_t ctx, gpgme_error_t err) {
    if (gpgme_sign_result_t result = gpgme_op_sign_result(ctx);
        result != nullptr && result->invalid_signers != nullptr) {
      return Fail(
          Error::FailedPrecondition(detail::Describe("the team key cannot sign", result->invalid_signers->reason)));
    }
    if (gpgme_err_code(err) == GPG_ERR_CANCELED || gpgme_err_code(err) == GPG_ERR_BAD_PASSPHRASE) {
      return Fail(Error::FailedPrecondition("the team key is protected by a passphrase; Hikeshi needs it without one"));
    }
    if (err != 0) return Fail(detail::InternalError("signing failed", err));
    return {};
  }

  // The team key is the newest secret key that can sign. Several exist during a key rollover: the
  // new key signs, and the old one stays to decrypt mail sent to it.
  static Result<Key> FindTeamKey(gpgme_ctx_t ctx) {
    HIKESHI_TRY(std::vector<Key> keys, detail::ListSecretKeys(ctx));
    Key best;
    for (Key& key : keys) {
      if (!UsableForSigning(key.get()) || key->fpr == nullptr) continue;
      if (!best || key->subkeys->timestamp > best->subkeys->timestamp) best = std::move(key);
    }
    if (!best) return Fail(Error::NotFound("a usable team key (secret key that can sign)"));
    return best;
  }

  // Makes the team key the context's signer; returns its fingerprint.
  static Result<std::string> AddTeamSigner(gpgme_ctx_t ctx) {
    auto team = FindTeamKey(ctx);
    if (!team) {
      if (team.error().code() == ErrorCode::kNotFound) {
        return Fail(Error::FailedPrecondition("the keyring has no usable team key (run hikeshi init)"));
      }
      return Fail(team.error());
    }
    gpgme_signers_clear(ctx);
    if (gpgme_error_t err = gpgme_signers_add(ctx, team->get()); err != 0) {
      return Fail(detail::InternalError("cannot select the team key", err));
    }
    return std::string((*team)->fpr);
  }

  // Lists the keys in `in` without importing them. Errors: kInvalidArgument when it holds secret
  // key material.
  static Result<std::size_t> CountOfferedPublicKeys(gpgme_ctx_t ctx, gpgme_data_t in) {
    if (gpgme_error_t err = gpgme_op_keylist_from_data_start(ctx, in, 0); err != 0) {
      return Fail(detail::InternalError("cannot read the key block", err));
    }
    std::size_t count = 0;
    bool secret = false;
    while (true) {
      gpgme_key_t raw = nullptr;
      gpgme_error_t err = gpgme_op_keylist_next(ctx, &raw);
      if (gpgme_err_code(err) == GPG_ERR_EOF) break;
      if (err != 0) {
        gpgme_op_keylist_end(ctx);
        if (!IsEngineFailure(err)) {
          return Fail(Error::InvalidArgument(detail::Describe("the key block is damaged", err)));
        }
        return Fail(detail::InternalError("cannot read the key block", err));
      }
      Key key(raw);
      secret = secret || key->secret;
      ++count;
    }
    if (secret) return Fail(Error::InvalidArgument("refusing to import a secret key: give the public key only"));
    return count;
  }

  std::filesystem::path home_;
  GpgKeyRingOptions options_;
};

}  // namespace

Result<std::unique_ptr<core::KeyRing>> OpenGpgKeyRing(std::filesystem::path gnupg_home, GpgKeyRingOptions options) {
  HIKESHI_CHECK(detail::InitializeGpgme());
  HIKESHI_TRY(std::filesystem::path home, detail::PrepareHome(gnupg_home));
  return std::make_unique<GpgKeyRing>(std::move(home), options);
}

Result<std::string> CreateTeamKey(const std::filesystem::path& gnupg_home, std::string_view user_id) {
  HIKESHI_CHECK(CheckUserId(user_id));
  HIKESHI_TRY(std::filesystem::path home, detail::PrepareHome(gnupg_home));
  HIKESHI_TRY(Context ctx, detail::NewContext(home));
  HIKESHI_TRY(std::vector<Key> existing, detail::ListSecretKeys(ctx.get()));
  if (!existing.empty()) {
    return Fail(Error::Conflict("the gpg home " + home.string() + " already holds a secret key: " +
                                std::string(existing.front()->fpr != nullptr ? existing.front()->fpr : "?")));
  }
  const std::string uid(user_id);
  constexpr unsigned int kNoPassphraseNoExpiry = GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE;
  if (gpgme_error_t err = gpgme_op_createkey(ctx.get(), uid.c_str(), "ed25519", 0, 0, nullptr,
                                             GPGME_CREATE_SIGN | GPGME_CREATE_CERT | kNoPassphraseNoExpiry);
      err != 0) {
    if (gpgme_err_code(err) == GPG_ERR_INV_USER_ID || gpgme_err_code(err) == GPG_ERR_INV_NAME) {
      return Fail(Error::InvalidArgument(detail::Describe("gpg refused the user id", err), "/user_id"));
    }
    return Fail(detail::InternalError("creating the team key failed", err));
  }
  gpgme_genkey_result_t created = gpgme_op_genkey_result(ctx.get());
  if (created == nullptr || created->fpr == nullptr) return Fail(Error::Internal("gpg: created no key"));
  const std::string fingerprint = created->fpr;

  gpgme_key_t raw = nullptr;
  if (gpgme_error_t err = gpgme_get_key(ctx.get(), fingerprint.c_str(), &raw, 1); err != 0) {
    return Fail(detail::InternalError("cannot read back the new team key", err));
  }
  Key primary(raw);
  if (gpgme_error_t err =
          gpgme_op_createsubkey(ctx.get(), primary.get(), "cv25519", 0, 0, GPGME_CREATE_ENCR | kNoPassphraseNoExpiry);
      err != 0) {
    // A team key that cannot receive mail is worse than none: remove it so that init can be rerun.
    (void)gpgme_op_delete_ext(ctx.get(), primary.get(), GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
    return Fail(detail::InternalError("creating the team key's encryption subkey failed", err));
  }
  return fingerprint;
}

Result<void> StopAgent(const std::filesystem::path& gnupg_home) {
  std::error_code ec;
  if (!std::filesystem::is_directory(gnupg_home, ec)) return {};
  HIKESHI_CHECK(detail::InitializeGpgme());
  const std::string home = std::filesystem::absolute(gnupg_home, ec).string();
  const char* gpgconf = gpgme_get_dirinfo("gpgconf-name");
  if (gpgconf == nullptr) return Fail(Error::Unavailable("gpgconf not found"));

  gpgme_ctx_t raw = nullptr;
  if (gpgme_error_t err = gpgme_new(&raw); err != 0) return Fail(detail::InternalError("cannot create a context", err));
  Context ctx(raw);
  if (gpgme_error_t err = gpgme_set_protocol(raw, GPGME_PROTOCOL_SPAWN); err != 0) {
    return Fail(Error::Unavailable(detail::Describe("cannot run gpgconf", err)));
  }
  const char* argv[] = {"gpgconf", "--homedir", home.c_str(), "--kill", "all", nullptr};
  OutputSink out(std::size_t{1} << 20);
  OutputSink err_out(std::size_t{1} << 20);
  HIKESHI_CHECK(out.Open());
  HIKESHI_CHECK(err_out.Open());
  if (gpgme_error_t err = gpgme_op_spawn(raw, gpgconf, argv, nullptr, out.data(), err_out.data(), 0); err != 0) {
    return Fail(detail::InternalError("gpgconf --kill all failed (" + err_out.Take() + ")", err));
  }
  return {};
}

}  // namespace hikeshi::pgp
