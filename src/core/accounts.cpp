#include "hikeshi/core/accounts.hpp"

#include <algorithm>

#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {
constexpr std::string_view kTokenPrefix = "hks_";

Result<void> RequireAdmin(const Principal& actor, std::string_view what) {
  if (actor.role != Role::kAdmin) return Fail(Error::PermissionDenied("only an admin may " + std::string(what)));
  return {};
}

Result<void> CheckPassword(std::string_view password) {
  if (password.size() < 12) {
    return Fail(Error::InvalidArgument("password must be at least 12 characters long", "/password"));
  }
  if (password.size() > 1024) return Fail(Error::InvalidArgument("password is too long", "/password"));
  return {};
}
}  // namespace

Accounts::Accounts(Store& store, const Clock& clock, AccountsOptions options)
    : store_(store), clock_(clock), options_(options), throttle_(options.throttle) {}

const std::string& Accounts::DummyHash() {
  // Login runs one argon2id verification whether or not the user exists, so response time does
  // not reveal which usernames are real.
  std::call_once(dummy_once_, [this] {
    auto hash = common::HashPassword(common::RandomToken(24), options_.password_cost);
    dummy_hash_ = hash ? *hash : std::string();
  });
  return dummy_hash_;
}

Result<User> Accounts::AddUser(const Principal& actor, const NewUser& request) {
  HIKESHI_CHECK(RequireAdmin(actor, "add users"));
  HIKESHI_CHECK(detail::CheckName(request.username, "username", "/username"));
  HIKESHI_CHECK(detail::CheckText(request.display_name, 200, false, "/display_name"));
  HIKESHI_CHECK(CheckPassword(request.password));
  if (request.role != Role::kAdmin && !request.scope_all && request.constituencies.empty()) {
    return Fail(Error::InvalidArgument(
        "a " + std::string(RoleName(request.role)) + " needs a constituency scope (names, or all)", "/constituencies"));
  }
  HIKESHI_TRY(auto password_hash, common::HashPassword(request.password, options_.password_cost));
  User user;
  user.username = request.username;
  user.display_name = request.display_name.empty() ? request.username : request.display_name;
  user.role = request.role;
  user.scope_all = request.role == Role::kAdmin || request.scope_all;
  user.password_hash = std::move(password_hash);
  user.created_at = clock_.Now();
  const AuditContext ctx{actor.username, user.created_at};
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    if (!user.scope_all) {
      for (std::size_t i = 0; i < request.constituencies.size(); ++i) {
        HIKESHI_TRY(const auto c, tx.FindConstituency(request.constituencies[i]));
        if (!c) {
          return Fail(Error{ErrorCode::kNotFound, "constituency '" + request.constituencies[i] + "' not found",
                            "/constituencies/" + std::to_string(i)});
        }
        if (std::find(user.constituency_ids.begin(), user.constituency_ids.end(), c->id) ==
            user.constituency_ids.end()) {
          user.constituency_ids.push_back(c->id);
        }
      }
    }
    HIKESHI_TRY(const auto existing, tx.FindUser(user.username));
    if (existing) return Fail(Error::Conflict("user '" + user.username + "' already exists"));
    HIKESHI_TRY(user, tx.CreateUser(ctx, user));
    return {};
  }));
  return user;
}

Result<std::optional<User>> Accounts::Bootstrap(std::string_view admin_password) {
  HIKESHI_TRY(const auto users, ListUsers(Principal::LocalOperator()));
  if (!users.empty()) return std::optional<User>();
  NewUser admin;
  admin.username = "admin";
  admin.display_name = "Administrator";
  admin.password = admin_password;
  admin.role = Role::kAdmin;
  HIKESHI_TRY(auto user, AddUser(Principal::LocalOperator(), admin));
  return std::optional<User>(std::move(user));
}

Result<LoginGrant> Accounts::Login(std::string_view username, std::string_view password, std::string_view address,
                                   std::string_view otp) {
  const auto now = clock_.Now();
  HIKESHI_CHECK(throttle_.Check(username, address, now));
  std::optional<User> user;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(user, r.FindUser(username));
    return {};
  }));
  const bool password_ok = common::VerifyPassword(user ? user->password_hash : DummyHash(), password);
  if (!user || !password_ok || user->disabled) {
    throttle_.RecordFailure(username, address, now);
    return Fail(Error::Unauthenticated("wrong username or password"));
  }
  // The second factor is asked for only once the password is right, and a missing, wrong or reused
  // code counts as a failed login like a wrong password does.
  auto otp_use = CheckOtp(*user, otp, now);
  if (!otp_use) {
    if (otp_use.error().code() == ErrorCode::kUnauthenticated) throttle_.RecordFailure(username, address, now);
    return Fail(otp_use.error());
  }
  LoginGrant grant;
  grant.session_secret = common::RandomToken(32);
  grant.csrf_token = common::RandomToken(24);
  grant.expires_at = now + options_.session_ttl;
  grant.user = *user;
  Session session{common::Sha256Hex(grant.session_secret), user->id, grant.csrf_token, now, grant.expires_at};
  const auto written = store_.Write([&](WriteTx& tx) -> Result<void> {
    if (*otp_use) {
      // Marks the code used in the same transaction as the session, after checking that no other
      // login used a code of this account since it was read.
      HIKESHI_TRY(const auto current, tx.FindRecord((*otp_use)->before.kind, (*otp_use)->before.key));
      if (!current || current->body != (*otp_use)->before.body || current->state != (*otp_use)->before.state) {
        return Fail(Error(ErrorCode::kUnauthenticated, "this code was already used; wait for the next one", "/otp"));
      }
      HIKESHI_CHECK(tx.UpdateRecord({user->username, now}, "totp.use", (*otp_use)->before, (*otp_use)->after, ""));
    }
    HIKESHI_CHECK(tx.PurgeExpiredSessions(now));
    return tx.CreateSession({user->username, now}, session, user->username);
  });
  if (!written) {
    if (written.error().code() == ErrorCode::kUnauthenticated) throttle_.RecordFailure(username, address, now);
    return Fail(written.error());
  }
  throttle_.RecordSuccess(username);
  return grant;
}

Result<Authenticated> Accounts::PrincipalOf(std::int64_t user_id, std::string csrf) {
  std::optional<User> user;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(user, r.FindUserById(user_id));
    return {};
  }));
  if (!user || user->disabled) return Fail(Error::Unauthenticated("the account is disabled or gone"));
  return Authenticated{Principal::ForUser(*user), std::move(csrf)};
}

Result<Authenticated> Accounts::AuthenticateSession(std::string_view session_secret) {
  std::optional<Session> session;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(session, r.FindSession(common::Sha256Hex(session_secret)));
    return {};
  }));
  if (!session || session->expires_at <= clock_.Now()) {
    return Fail(Error::Unauthenticated("the session has expired; log in again"));
  }
  return PrincipalOf(session->user_id, session->csrf_token);
}

Result<void> Accounts::Logout(std::string_view session_secret) {
  const auto now = clock_.Now();
  return store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto session, tx.FindSession(common::Sha256Hex(session_secret)));
    if (!session) return {};  // already gone: logging out twice is not an error
    HIKESHI_TRY(const auto user, tx.FindUserById(session->user_id));
    return tx.DeleteSession({user ? user->username : "unknown", now}, *session, user ? user->username : "unknown");
  });
}

Result<Authenticated> Accounts::AuthenticateToken(std::string_view secret) {
  if (!secret.starts_with(kTokenPrefix)) return Fail(Error::Unauthenticated("unknown API token"));
  std::optional<ApiToken> token;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(token, r.FindApiToken(common::Sha256Hex(secret)));
    return {};
  }));
  if (!token || token->revoked) return Fail(Error::Unauthenticated("unknown or revoked API token"));
  return PrincipalOf(token->user_id, "");
}

Result<IssuedToken> Accounts::CreateToken(const Principal& actor, std::string_view username, std::string_view name) {
  if (actor.role != Role::kAdmin && actor.username != username) {
    return Fail(Error::PermissionDenied("only an admin may create tokens for other users"));
  }
  HIKESHI_CHECK(detail::CheckText(name, 200, false, "/name"));
  IssuedToken issued;
  issued.secret = std::string(kTokenPrefix) + common::RandomToken(32);
  const auto now = clock_.Now();
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto user, tx.FindUser(username));
    if (!user) return Fail(Error::NotFound("user '" + std::string(username) + "'"));
    ApiToken token;
    token.user_id = user->id;
    token.name = name.empty() ? "token" : std::string(name);
    token.secret_sha256 = common::Sha256Hex(issued.secret);
    token.created_at = now;
    HIKESHI_TRY(issued.token, tx.CreateApiToken({actor.username, now}, token));
    return {};
  }));
  return issued;
}

Result<std::vector<User>> Accounts::ListUsers(const Principal& actor) {
  std::vector<User> users;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(users, r.ListUsers());
    return {};
  }));
  if (actor.role != Role::kAdmin) {
    // Others see the people they work with: users sharing a constituency, and no password hashes.
    std::erase_if(users, [&](const User& u) {
      if (u.id == actor.user_id || actor.scope.all) return false;
      if (u.scope_all) return true;
      return std::none_of(u.constituency_ids.begin(), u.constituency_ids.end(),
                          [&](std::int64_t id) { return actor.scope.Allows(id); });
    });
  }
  return users;
}

}  // namespace hikeshi::core
