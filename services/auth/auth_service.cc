#include "auth/auth_service.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "commerce/auth/v1/auth.cppsvc.repo.h"
#include "commerce/auth/v1/auth.cppsvc.server.h"
#include "common/util.h"
#include "cppsvc/db/errors.h"
#include "cppsvc/db/statements.h"
#include "cppsvc/observability/log.h"

namespace auth {

using cppsvc::Status;
using cppsvc::StatusCode;
using v1::UserFilter;
using v1::UserRepository;

namespace {

Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

v1::UserProfile Profile(const User& user) {
  v1::UserProfile p;
  p.set_id(user.id());
  p.set_email(user.email());
  p.set_display_name(user.display_name());
  *p.mutable_roles() = user.roles();
  *p.mutable_created_at() = user.created_at();
  return p;
}

AuthOptions OptionsOrExit() {
  cppsvc::config::Env env;
  AuthOptions options = AuthOptions::FromEnvironment(env);
  services::ExitOnConfigurationProblems("auth", env);
  return options;
}

std::shared_ptr<cppsvc::db::Pool> SidePoolOrExit() {
  cppsvc::config::Env env;
  cppsvc::db::PoolOptions options;
  options.conninfo = env.Required("AUTH_DATABASE_URL");
  options.size = 4;
  services::ExitOnConfigurationProblems("auth", env);
  return std::make_shared<cppsvc::db::Pool>(options);
}

const cppsvc::db::Statement kLockUser("auth.Users.Lock",
                                      "SELECT 1 FROM users WHERE id = $1 FOR UPDATE");

// Locks the user's row for a read-modify-write; NOT_FOUND when missing.
User GetForUpdate(cppsvc::db::Tx& tx, const std::string& user_id) {
  tx.exec_prepared(kLockUser.name, user_id);
  return UserRepository(tx).Get(user_id);
}

}  // namespace

AuthService::AuthService() : AuthService(OptionsOrExit(), SidePoolOrExit()) {}

AuthService::AuthService(AuthOptions options, std::shared_ptr<cppsvc::db::Pool> side_db)
    : options_(std::move(options)),
      side_db_(std::move(side_db)),
      hasher_(options_.pwhash_opslimit, options_.pwhash_memlimit),
      issuer_(options_),
      limiter_(side_db_, options_.max_failed_logins, options_.failed_login_window) {
  for (const auto& role : v1::AuthServiceServer::Roles()) {
    if (role.name != "anonymous") assignable_roles_.insert(role.name);
  }
}

std::optional<User> AuthService::FindByEmail(cppsvc::db::Tx& tx, const std::string& email) {
  UserFilter filter;
  filter.email = email;
  auto page = UserRepository(tx).List(filter, 1);
  if (page.rows.empty()) return std::nullopt;
  return page.rows.front();
}

Status AuthService::CheckNotRevoked(const cppsvc::CallContext& ctx) {
  const std::string& jti = ctx.caller().token_id;
  if (!jti.empty() && IsAccessTokenRevoked(ctx.tx(), jti)) return Unauthenticated("token revoked");
  return Status::Ok();
}

Status AuthService::Register(cppsvc::CallContext& ctx,
                             const v1::RegisterRequest& request,
                             v1::RegisterResponse& response) {
  const std::string email = services::Lower(request.email());
  if (FindByEmail(ctx.tx(), email))
    return Status::AlreadyExists("an account with this email exists");
  User user;
  user.set_email(email);
  user.set_display_name(request.has_display_name() ? request.display_name()
                                                   : email.substr(0, email.find('@')));
  user.add_roles("customer");
  user.set_password_hash(hasher_.Hash(request.password()));
  UserRepository(ctx.tx()).Insert(user);  // a concurrent registration's email: ALREADY_EXISTS

  v1::UserRegistered event;
  event.set_user_id(user.id());
  event.set_email(user.email());
  event.set_display_name(user.display_name());
  *event.mutable_registered_at() = user.created_at();
  Emit(ctx, event);
  *response.mutable_user() = Profile(user);
  return Status::Ok();
}

std::optional<User> AuthService::CheckPassword(cppsvc::db::Tx& tx,
                                               const std::string& email,
                                               const std::string& password) const {
  std::optional<User> user = FindByEmail(tx, email);
  if (!user) {
    hasher_.VerifyDummy(password);
    return std::nullopt;
  }
  if (!hasher_.Verify(user->password_hash(), password)) return std::nullopt;
  if (hasher_.NeedsRehash(user->password_hash())) {
    user->set_password_hash(hasher_.Hash(password));
    UserRepository(tx).Update(*user);
  }
  return user;
}

// Failed logins are limited per account and per client address (the
// caller's, or through the gateway the client's: CPPSVC_TRUSTED_PROXIES).
Status AuthService::Login(cppsvc::CallContext& ctx,
                          const v1::LoginRequest& request,
                          v1::LoginResponse& response) {
  const std::string email = services::Lower(request.email());
  LoginLimiter::Attempt attempt;
  if (Status s = limiter_.Admit(email, ctx.client_address(), ctx.deadline(), attempt); !s.ok())
    return s;
  std::optional<User> user = CheckPassword(ctx.tx(), email, request.password());
  if (!user) return Unauthenticated("invalid email or password");
  LoginLimiter::Succeeded(ctx.tx(), attempt);
  issuer_.Issue(ctx.tx(), *user, "", cppsvc::Clock::now(), *response.mutable_tokens());
  *response.mutable_user() = Profile(*user);
  return Status::Ok();
}

void AuthService::RevokeReusedFamily(const cppsvc::CallContext& ctx,
                                     const std::string& family_id) const {
  Status s = cppsvc::db::RunInTransaction(*side_db_, ctx.deadline(), [&](cppsvc::db::Tx& tx) {
    RevokeFamily(tx, family_id, cppsvc::Clock::now());
    return Status::Ok();
  });
  cppsvc::observability::LogJson({{"level", "warning"},
                                  {"service", "auth"},
                                  {"msg", "spent refresh token reused; session revoked"},
                                  {"family_id", family_id},
                                  {"revoked", s.ok()}});
}

Status AuthService::Refresh(cppsvc::CallContext& ctx,
                            const v1::RefreshRequest& request,
                            v1::RefreshResponse& response) {
  const auto now = cppsvc::Clock::now();
  std::optional<RefreshToken> spent = SpendRefreshToken(ctx.tx(), request.refresh_token(), now);
  if (!spent) {
    std::optional<RefreshToken> known = FindRefreshToken(ctx.tx(), request.refresh_token());
    if (known && known->has_revoked_at()) RevokeReusedFamily(ctx, known->family_id());
    return Unauthenticated("invalid refresh token");
  }
  std::optional<User> user = UserRepository(ctx.tx()).Find(spent->user_id());
  if (!user) return Unauthenticated("invalid refresh token");
  issuer_.Issue(ctx.tx(), *user, spent->family_id(), now, *response.mutable_tokens());
  return Status::Ok();
}

Status AuthService::Logout(cppsvc::CallContext& ctx,
                           const v1::LogoutRequest& request,
                           v1::LogoutResponse&) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  const auto now = cppsvc::Clock::now();
  if (!ctx.caller().token_id.empty()) {
    // The token's own exp is not in the context: keep the row as long as any
    // token issued now could live, plus the largest leeway.
    RevokeAccessToken(ctx.tx(),
                      ctx.caller().token_id,
                      ctx.caller().subject,
                      now + options_.access_token_ttl + std::chrono::seconds(60),
                      now);
  }
  // Someone else's (or an unknown) refresh token is left alone, silently.
  std::optional<RefreshToken> session = FindRefreshToken(ctx.tx(), request.refresh_token());
  if (session && session->user_id() == ctx.caller().subject) {
    RevokeFamily(ctx.tx(), session->family_id(), now);
  }
  return Status::Ok();
}

Status AuthService::Me(cppsvc::CallContext& ctx, const v1::MeRequest&, v1::MeResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  std::optional<User> user = UserRepository(ctx.tx()).Find(ctx.caller().subject);
  if (!user) return Status::NotFound("the caller has no account");
  *response.mutable_user() = Profile(*user);
  return Status::Ok();
}

Status AuthService::AssignRole(cppsvc::CallContext& ctx,
                               const v1::AssignRoleRequest& request,
                               v1::AssignRoleResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  if (assignable_roles_.count(request.role()) == 0) {
    return Status::InvalidArgument("role: '" + request.role() + "' is not a role of the system");
  }
  User user = GetForUpdate(ctx.tx(), request.user_id());
  const auto& roles = user.roles();
  if (std::find(roles.begin(), roles.end(), request.role()) == roles.end()) {
    user.add_roles(request.role());
    UserRepository(ctx.tx()).Update(user);
  }
  *response.mutable_user() = Profile(user);
  return Status::Ok();
}

Status AuthService::ListUsers(cppsvc::CallContext& ctx,
                              const v1::ListUsersRequest& request,
                              v1::ListUsersResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  auto page = UserRepository(ctx.tx()).List(
      {},
      static_cast<size_t>(services::PageSize(request.page_size(), 50)),
      request.page_token());
  for (const User& user : page.rows) *response.add_users() = Profile(user);
  response.set_next_page_token(page.next_page_token);
  return Status::Ok();
}

// as_of lags the clock a little: a revocation stamped just before the list
// was read but committed just after is listed on the next poll instead of
// being missed (repeats are harmless to a revocation cache). A full poll
// (no revoked_after) also deletes what has expired.
Status AuthService::ListRevokedTokens(cppsvc::CallContext& ctx,
                                      const v1::ListRevokedTokensRequest& request,
                                      v1::ListRevokedTokensResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  const auto now = cppsvc::Clock::now();
  std::optional<cppsvc::Clock::time_point> since;
  if (request.has_revoked_after()) since = services::FromTimestamp(request.revoked_after());
  if (!since) DeleteExpiredTokens(ctx.tx(), now);
  for (std::string& jti : RevokedAccessTokens(ctx.tx(), since, now)) response.add_jtis(jti);
  *response.mutable_as_of() = services::ToTimestamp(now - std::chrono::seconds(5));
  return Status::Ok();
}

}  // namespace auth
