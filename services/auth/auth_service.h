// Registration, login, tokens and user administration, on the auth
// database (users, refresh_tokens, revoked_tokens, login_failures).
#pragma once

#include <memory>
#include <set>
#include <string>

#include "auth/auth_options.h"
#include "auth/login_limiter.h"
#include "auth/passwords.h"
#include "auth/sessions.h"
#include "commerce/auth/v1/auth.cppsvc.h"
#include "cppsvc/db/pool.h"

namespace auth {

namespace v1 = commerce::auth::v1;

class AuthService final : public v1::AuthServiceBase {
 public:
  // Options from the environment and a pool of its own on AUTH_DATABASE_URL
  // (exits with code 2 naming every problem when they are unusable).
  AuthService();
  // `side_db`: the auth database, for what must commit although the call
  // fails (failed logins, a family revoked on reuse). Throws
  // std::invalid_argument when the options are unusable.
  AuthService(AuthOptions options, std::shared_ptr<cppsvc::db::Pool> side_db);

  cppsvc::Status Register(cppsvc::CallContext& ctx,
                          const v1::RegisterRequest& request,
                          v1::RegisterResponse& response) override;
  cppsvc::Status Login(cppsvc::CallContext& ctx,
                       const v1::LoginRequest& request,
                       v1::LoginResponse& response) override;
  cppsvc::Status Refresh(cppsvc::CallContext& ctx,
                         const v1::RefreshRequest& request,
                         v1::RefreshResponse& response) override;
  cppsvc::Status Logout(cppsvc::CallContext& ctx,
                        const v1::LogoutRequest& request,
                        v1::LogoutResponse& response) override;
  cppsvc::Status Me(cppsvc::CallContext& ctx,
                    const v1::MeRequest& request,
                    v1::MeResponse& response) override;
  cppsvc::Status AssignRole(cppsvc::CallContext& ctx,
                            const v1::AssignRoleRequest& request,
                            v1::AssignRoleResponse& response) override;
  cppsvc::Status ListUsers(cppsvc::CallContext& ctx,
                           const v1::ListUsersRequest& request,
                           v1::ListUsersResponse& response) override;
  cppsvc::Status ListRevokedTokens(cppsvc::CallContext& ctx,
                                   const v1::ListRevokedTokensRequest& request,
                                   v1::ListRevokedTokensResponse& response) override;

 private:
  // The account with this (lower-case) email, if any.
  static std::optional<User> FindByEmail(cppsvc::db::Tx& tx, const std::string& email);
  // The password check of Login: the user when `password` is its password
  // (rehashed when its hash has older parameters), else nullopt after as
  // much work as for a wrong password.
  std::optional<User> CheckPassword(cppsvc::db::Tx& tx,
                                    const std::string& email,
                                    const std::string& password) const;
  // A spent refresh token came back: someone replays a stolen token, or its
  // owner does after the thief. Ends the whole session, on the side pool
  // (the call's own transaction rolls back with its error).
  void RevokeReusedFamily(const cppsvc::CallContext& ctx, const std::string& family_id) const;
  // UNAUTHENTICATED when the caller's access token was revoked here (other
  // services learn it through ListRevokedTokens; this one knows at once).
  static cppsvc::Status CheckNotRevoked(const cppsvc::CallContext& ctx);

  AuthOptions options_;
  std::shared_ptr<cppsvc::db::Pool> side_db_;
  PasswordHasher hasher_;
  TokenIssuer issuer_;
  LoginLimiter limiter_;
  std::set<std::string> assignable_roles_;
};

}  // namespace auth
