// Registration, login, tokens and user administration.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "auth/auth_store.h"
#include "commerce/auth/v1/auth.cppsvc.h"
#include "common/outbox.h"
#include "cppsvc/auth/jwt.h"
#include "cppsvc/config/env.h"

namespace auth {

namespace v1 = commerce::auth::v1;

struct AuthOptions {
  // How access tokens are signed: the algorithm, issuer and audience every
  // verifier is configured with, and the signing key (HS256: the shared
  // secret; RS256/ES256: the PEM private key).
  cppsvc::auth::JwtConfig signing;
  std::chrono::seconds access_token_ttl{900};
  std::chrono::seconds refresh_token_ttl{30 * 24 * 3600};
  // Argon2id cost (libsodium crypto_pwhash).
  unsigned long long pwhash_opslimit = 2;  // crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t pwhash_memlimit = 67108864;       // crypto_pwhash_MEMLIMIT_INTERACTIVE

  // From CPPSVC_JWT_ALGORITHM, CPPSVC_JWT_ISSUER, CPPSVC_JWT_AUDIENCE; the key
  // from AUTH_JWT_SIGNING_KEY or AUTH_JWT_SIGNING_KEY_FILE (required for
  // RS256/ES256), else for HS256 the verifiers' CPPSVC_JWT_KEY(_FILE); TTLs
  // from AUTH_ACCESS_TOKEN_TTL_SECONDS and AUTH_REFRESH_TOKEN_TTL_SECONDS.
  // Problems (including a signing key whose tokens the configured verifier
  // key would not accept) are recorded in `env`.
  static AuthOptions FromEnvironment(cppsvc::config::Env& env);
};

class AuthService final : public v1::AuthServiceBase {
 public:
  // In-memory store and outbox; options from the environment (exits with
  // code 2 naming every problem when they are unusable).
  AuthService();
  // Throws std::invalid_argument when the signing configuration is unusable.
  AuthService(std::shared_ptr<AuthStore> store,
              std::shared_ptr<services::EventSink> events,
              AuthOptions options);

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
  cppsvc::Status HashPassword(const std::string& password, std::string& hash) const;
  bool VerifyPassword(const std::string& hash, const std::string& password) const;
  cppsvc::Status IssueTokens(const User& user, v1::TokenPair& tokens);
  // UNAUTHENTICATED when the caller's access token was revoked here (other
  // services learn it through ListRevokedTokens; this one knows at once).
  cppsvc::Status CheckNotRevoked(const cppsvc::CallContext& ctx);

  std::shared_ptr<AuthStore> store_;
  std::shared_ptr<services::EventSink> events_;
  AuthOptions options_;
  cppsvc::auth::JwtSigner signer_;
  std::set<std::string> assignable_roles_;
  mutable std::once_flag dummy_once_;
  mutable std::string
      dummy_hash_;  // verified against for unknown emails, so both cases take as long
};

}  // namespace auth
