#pragma once
// Use cases for people and machines: users, password login with an optional TOTP second factor,
// sessions, API tokens.
// Thread-safe: shares the Store and Clock it is given, which must outlive it.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/login_throttle.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

struct NewUser {
  std::string username;
  std::string display_name;
  std::string password;
  Role role = Role::kViewer;
  bool scope_all = false;
  std::vector<std::string> constituencies;  // names
};

struct LoginGrant {
  std::string session_secret;  // the cookie value; only its SHA-256 is stored
  std::string csrf_token;
  Timestamp expires_at{};
  User user;
};

struct IssuedToken {
  std::string secret;  // shown once: "hks_..."
  ApiToken token;
};

struct Authenticated {
  Principal principal;
  std::string csrf_token;  // empty for bearer tokens, which need none
};

struct AccountsOptions {
  std::chrono::seconds session_ttl{12 * 3600};
  common::PasswordCost password_cost = common::PasswordCost::Interactive();
  LoginThrottleOptions throttle;
  // The key (common::kSecretKeyBytes) that seals TOTP secrets in the store. Empty: nobody can
  // enrol, and a user who has a confirmed second factor cannot log in (503) until it is given.
  std::string totp_key;
  // The issuer shown by authenticator apps next to the account name.
  std::string totp_issuer = "Hikeshi";
};

// A TOTP enrolment just started: the secret is shown once, to be typed or scanned into an app.
struct TotpEnrolment {
  std::string secret_base32;
  std::string uri;  // otpauth://totp/...
};

enum class TotpState { kNone, kPending, kConfirmed };
std::string_view TotpStateName(TotpState state);  // "none", "pending", "confirmed"

class Accounts {
 public:
  Accounts(Store& store, const Clock& clock, AccountsOptions options = {});

  // Creates a user. Only admins may. Passwords must be 12..1024 bytes; usernames 1..64 of
  // [a-z0-9._-]. Admins always see every constituency; other roles need scope_all or named ones.
  // Errors: kPermissionDenied, kInvalidArgument (field named), kConflict (username taken),
  // kNotFound (a named constituency).
  [[nodiscard]] Result<User> AddUser(const Principal& actor, const NewUser& user);

  // Creates the first admin if there are no users yet; returns nullopt when users already exist.
  [[nodiscard]] Result<std::optional<User>> Bootstrap(std::string_view admin_password);

  // Password login from `address`. A user with a confirmed TOTP second factor must also give `otp`,
  // the current six-digit code (one step of clock skew either way is accepted), and each code is
  // accepted once. Errors: kUnauthenticated (one message for a wrong password, an unknown user and
  // a disabled one; field "/otp" when the password was right but the code is missing, wrong or
  // reused, and only then), kResourceExhausted when throttled (every kUnauthenticated counts),
  // kUnavailable when the user has TOTP but no totp_key is configured.
  [[nodiscard]] Result<LoginGrant> Login(std::string_view username, std::string_view password, std::string_view address,
                                         std::string_view otp = {});
  // Errors: kUnauthenticated for an unknown or expired session.
  [[nodiscard]] Result<Authenticated> AuthenticateSession(std::string_view session_secret);
  [[nodiscard]] Result<void> Logout(std::string_view session_secret);
  // Errors: kUnauthenticated for an unknown or revoked token, or a disabled user.
  [[nodiscard]] Result<Authenticated> AuthenticateToken(std::string_view secret);

  // Issues a bearer token for `username`. Admins may issue for anyone; others only for themselves.
  [[nodiscard]] Result<IssuedToken> CreateToken(const Principal& actor, std::string_view username,
                                                std::string_view name);

  [[nodiscard]] Result<std::vector<User>> ListUsers(const Principal& actor);

  // TOTP second factor of the actor's own account. The secret is kept sealed under totp_key in the
  // store's "totp" record (key: username), so neither the store nor the audit journal holds it.
  [[nodiscard]] Result<TotpState> TotpStateOf(const Principal& actor);
  // Starts (or restarts) enrolment with a new secret; it takes effect only once confirmed.
  // Errors: kConflict when a confirmed factor exists (disable it first), kUnavailable without
  // totp_key, kPermissionDenied for the local operator (no account).
  [[nodiscard]] Result<TotpEnrolment> StartTotp(const Principal& actor);
  // Confirms the pending enrolment with a current code; from then on Login asks for codes.
  // Errors: kFailedPrecondition when nothing is pending, kInvalidArgument ("/code") for a wrong code.
  [[nodiscard]] Result<void> ConfirmTotp(const Principal& actor, std::string_view code);
  // Removes the actor's confirmed factor; a current code proves the device is still at hand.
  // Errors: kFailedPrecondition when there is none, kInvalidArgument ("/code") for a wrong code.
  [[nodiscard]] Result<void> DisableTotp(const Principal& actor, std::string_view code);
  // An admin removes another user's factor (a lost phone). Errors: kPermissionDenied, kNotFound
  // (no such user), kFailedPrecondition when the user has none.
  [[nodiscard]] Result<void> ResetTotp(const Principal& actor, std::string_view username);

 private:
  // The "totp" record as read and as it is to be written once a code has been used.
  struct OtpUse {
    Record before;
    Record after;
  };
  // When `user` has a confirmed factor: checks `otp` and returns the record update that marks the
  // code used. nullopt when the user has no confirmed factor.
  Result<std::optional<OtpUse>> CheckOtp(const User& user, std::string_view otp, Timestamp now);
  Result<std::optional<Record>> FindTotp(std::string_view username);
  Result<Authenticated> PrincipalOf(std::int64_t user_id, std::string csrf);
  const std::string& DummyHash();

  Store& store_;
  const Clock& clock_;
  AccountsOptions options_;
  LoginThrottle throttle_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

}  // namespace hikeshi::core
