#pragma once
// Use cases for people and machines: users, password login, sessions, API tokens.
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
};

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

  // Password login from `address`. Errors: kUnauthenticated (one message for a wrong password, an
  // unknown user and a disabled one), kResourceExhausted when throttled.
  [[nodiscard]] Result<LoginGrant> Login(std::string_view username, std::string_view password,
                                         std::string_view address);
  // Errors: kUnauthenticated for an unknown or expired session.
  [[nodiscard]] Result<Authenticated> AuthenticateSession(std::string_view session_secret);
  [[nodiscard]] Result<void> Logout(std::string_view session_secret);
  // Errors: kUnauthenticated for an unknown or revoked token, or a disabled user.
  [[nodiscard]] Result<Authenticated> AuthenticateToken(std::string_view secret);

  // Issues a bearer token for `username`. Admins may issue for anyone; others only for themselves.
  [[nodiscard]] Result<IssuedToken> CreateToken(const Principal& actor, std::string_view username,
                                                std::string_view name);

  [[nodiscard]] Result<std::vector<User>> ListUsers(const Principal& actor);

 private:
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
