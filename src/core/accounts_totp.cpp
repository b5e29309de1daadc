// The TOTP second factor of Accounts: enrolment, confirmation, removal, and the code check that
// Login runs. The shared secret is sealed (XChaCha20-Poly1305, common::Seal) under the configured
// key with the username as associated data, so a sealed secret copied onto another user's record
// does not open, and the store and its audit journal only ever hold the sealed bytes.
#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/totp.hpp"
#include "hikeshi/core/accounts.hpp"

namespace hikeshi::core {

namespace {
constexpr std::string_view kKind = "totp";
constexpr std::string_view kPending = "pending";
constexpr std::string_view kConfirmed = "confirmed";
constexpr std::string_view kRemoved = "removed";

struct TotpBody {
  std::string sealed_hex;  // empty once removed
  bool confirmed = false;
  std::int64_t last_step = 0;  // the time step of the last code accepted at login; 0: none yet
};

std::string Hex(std::string_view bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0f];
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string Encode(const TotpBody& body) {
  nlohmann::json j;
  j["secret"] = body.sealed_hex;
  j["confirmed"] = body.confirmed;
  j["last_step"] = body.last_step;
  return j.dump();
}

Result<TotpBody> Decode(const Record& record) {
  const auto j = nlohmann::json::parse(record.body, nullptr, false);
  if (!j.is_object()) return Fail(Error::DataLoss("the totp record of '" + record.key + "' is not JSON"));
  TotpBody body;
  try {
    body.sealed_hex = j.value("secret", std::string());
    body.confirmed = j.value("confirmed", false);
    body.last_step = j.value("last_step", std::int64_t{0});
  } catch (const nlohmann::json::exception&) {
    return Fail(Error::DataLoss("the totp record of '" + record.key + "' has fields of the wrong type"));
  }
  return body;
}

std::string AssociatedData(std::string_view username) { return "hikeshi-totp:" + std::string(username); }

Result<std::string> OpenSecret(std::string_view key, const TotpBody& body, std::string_view username) {
  const auto sealed = Unhex(body.sealed_hex);
  if (!sealed) return Fail(Error::DataLoss("the totp record of '" + std::string(username) + "' is damaged"));
  return common::Open(key, *sealed, AssociatedData(username));
}

// The time step at which `code` is valid now, allowing one step of clock skew either way; nullopt
// when it matches none. Every candidate is compared, in constant time, whatever matched before.
std::optional<std::int64_t> MatchingStep(std::string_view secret, std::string_view code, Timestamp now) {
  if (code.size() != static_cast<std::size_t>(common::kTotpDigits)) return std::nullopt;
  const std::int64_t step = common::TotpStep(now);
  std::optional<std::int64_t> matched;
  for (std::int64_t s = step - 1; s <= step + 1; ++s) {
    if (s < 0) continue;
    if (common::ConstantTimeEquals(common::HotpCode(secret, static_cast<std::uint64_t>(s)), code) && !matched) {
      matched = s;
    }
  }
  return matched;
}

Result<void> RequireAccount(const Principal& actor) {
  if (actor.user_id == 0) return Fail(Error::PermissionDenied("the local operator has no account to protect"));
  return {};
}
}  // namespace

std::string_view TotpStateName(TotpState state) {
  switch (state) {
    case TotpState::kNone:
      return "none";
    case TotpState::kPending:
      return kPending;
    case TotpState::kConfirmed:
      return kConfirmed;
  }
  return "none";
}

Result<std::optional<Record>> Accounts::FindTotp(std::string_view username) {
  std::optional<Record> record;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(record, r.FindRecord(kKind, username));
    return {};
  }));
  return record;
}

Result<TotpState> Accounts::TotpStateOf(const Principal& actor) {
  HIKESHI_TRY(const auto record, FindTotp(actor.username));
  if (!record || record->state == kRemoved) return TotpState::kNone;
  return record->state == kConfirmed ? TotpState::kConfirmed : TotpState::kPending;
}

Result<TotpEnrolment> Accounts::StartTotp(const Principal& actor) {
  HIKESHI_CHECK(RequireAccount(actor));
  if (options_.totp_key.empty()) {
    return Fail(Error::Unavailable("two-factor enrolment is not configured on this server (no TOTP key)"));
  }
  const std::string secret = common::NewSecretKey().substr(0, common::kTotpSecretBytes);
  HIKESHI_TRY(const auto sealed, common::Seal(options_.totp_key, secret, AssociatedData(actor.username)));
  TotpBody body;
  body.sealed_hex = Hex(sealed);
  const auto now = clock_.Now();
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto existing, tx.FindRecord(kKind, actor.username));
    const AuditContext ctx{actor.username, now};
    if (!existing) {
      Record record;
      record.kind = kKind;
      record.key = actor.username;
      record.state = kPending;
      record.body = Encode(body);
      record.created_at = now;
      record.updated_at = now;
      HIKESHI_CHECK(tx.CreateRecord(ctx, record, ""));
      return {};
    }
    if (existing->state == kConfirmed) {
      return Fail(Error::Conflict("two-factor authentication is already on; turn it off before enrolling again"));
    }
    Record after = *existing;
    after.state = kPending;
    after.body = Encode(body);
    after.updated_at = now;
    return tx.UpdateRecord(ctx, "totp.start", *existing, after, "");
  }));
  TotpEnrolment enrolment;
  enrolment.secret_base32 = common::Base32Encode(secret);
  enrolment.uri = common::TotpUri(options_.totp_issuer, actor.username, enrolment.secret_base32);
  return enrolment;
}

Result<void> Accounts::ConfirmTotp(const Principal& actor, std::string_view code) {
  HIKESHI_CHECK(RequireAccount(actor));
  if (options_.totp_key.empty()) return Fail(Error::Unavailable("two-factor enrolment is not configured"));
  HIKESHI_TRY(const auto record, FindTotp(actor.username));
  if (!record || record->state != kPending) {
    return Fail(Error::FailedPrecondition("no two-factor enrolment is pending; start one first"));
  }
  HIKESHI_TRY(const auto body, Decode(*record));
  HIKESHI_TRY(const auto secret, OpenSecret(options_.totp_key, body, actor.username));
  const auto now = clock_.Now();
  const auto step = MatchingStep(secret, code, now);
  if (!step)
    return Fail(Error::InvalidArgument("the code does not match; check the app's clock and try again", "/code"));
  TotpBody confirmed = body;
  confirmed.confirmed = true;
  confirmed.last_step = *step;  // the confirming code cannot then be used to log in
  return store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto current, tx.FindRecord(kKind, actor.username));
    if (!current || current->body != record->body || current->state != kPending) {
      return Fail(Error::Conflict("the enrolment changed meanwhile; start again"));
    }
    Record after = *current;
    after.state = kConfirmed;
    after.body = Encode(confirmed);
    after.updated_at = now;
    return tx.UpdateRecord({actor.username, now}, "totp.confirm", *current, after, "");
  });
}

Result<void> Accounts::DisableTotp(const Principal& actor, std::string_view code) {
  HIKESHI_CHECK(RequireAccount(actor));
  HIKESHI_TRY(const auto record, FindTotp(actor.username));
  if (!record || record->state != kConfirmed) {
    return Fail(Error::FailedPrecondition("two-factor authentication is not on"));
  }
  if (options_.totp_key.empty()) return Fail(Error::Unavailable("two-factor authentication is not configured"));
  HIKESHI_TRY(const auto body, Decode(*record));
  HIKESHI_TRY(const auto secret, OpenSecret(options_.totp_key, body, actor.username));
  const auto now = clock_.Now();
  const auto step = MatchingStep(secret, code, now);
  if (!step) return Fail(Error::InvalidArgument("the code does not match", "/code"));
  return store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto current, tx.FindRecord(kKind, actor.username));
    if (!current || current->body != record->body) return Fail(Error::Conflict("changed meanwhile; try again"));
    Record after = *current;
    after.state = kRemoved;
    after.body = Encode(TotpBody{});
    after.updated_at = now;
    return tx.UpdateRecord({actor.username, now}, "totp.disable", *current, after, "");
  });
}

Result<void> Accounts::ResetTotp(const Principal& actor, std::string_view username) {
  if (actor.role != Role::kAdmin) {
    return Fail(Error::PermissionDenied("only an admin may reset another user's two-factor authentication"));
  }
  const auto now = clock_.Now();
  return store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto user, tx.FindUser(username));
    if (!user) return Fail(Error::NotFound("user '" + std::string(username) + "'"));
    HIKESHI_TRY(const auto current, tx.FindRecord(kKind, username));
    if (!current || current->state == kRemoved) {
      return Fail(Error::FailedPrecondition("'" + std::string(username) + "' has no two-factor authentication"));
    }
    Record after = *current;
    after.state = kRemoved;
    after.body = Encode(TotpBody{});
    after.updated_at = now;
    return tx.UpdateRecord({actor.username, now}, "totp.reset", *current, after, "");
  });
}

Result<std::optional<Accounts::OtpUse>> Accounts::CheckOtp(const User& user, std::string_view otp, Timestamp now) {
  HIKESHI_TRY(const auto record, FindTotp(user.username));
  if (!record || record->state != kConfirmed) return std::optional<OtpUse>();
  if (options_.totp_key.empty()) {
    return Fail(Error::Unavailable("this account has two-factor authentication but the server has no TOTP key"));
  }
  if (otp.empty()) {
    return Fail(Error(ErrorCode::kUnauthenticated, "enter the six-digit code from your authenticator app", "/otp"));
  }
  HIKESHI_TRY(auto body, Decode(*record));
  HIKESHI_TRY(const auto secret, OpenSecret(options_.totp_key, body, user.username));
  const auto step = MatchingStep(secret, otp, now);
  if (!step) return Fail(Error(ErrorCode::kUnauthenticated, "wrong or expired one-time code", "/otp"));
  if (*step <= body.last_step) {
    return Fail(Error(ErrorCode::kUnauthenticated, "this code was already used; wait for the next one", "/otp"));
  }
  body.last_step = *step;
  OtpUse use{*record, *record};
  use.after.body = Encode(body);
  use.after.updated_at = now;
  return std::optional<OtpUse>(std::move(use));
}

}  // namespace hikeshi::core
