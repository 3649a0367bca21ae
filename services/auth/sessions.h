// Tokens and their storage: access tokens signed for a user, refresh tokens
// stored as hashes in families (one per login; each Refresh adds the next
// token of the chain and spends the previous one), and revoked access
// tokens, all in the auth database through the call's transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/auth_options.h"
#include "commerce/auth/v1/auth.pb.h"
#include "cppsvc/auth/jwt.h"
#include "cppsvc/context.h"
#include "cppsvc/db/transaction.h"

namespace auth {

using commerce::auth::v1::RefreshToken;
using commerce::auth::v1::TokenPair;
using commerce::auth::v1::User;

class TokenIssuer {
 public:
  // Throws std::invalid_argument when the signing configuration is unusable.
  explicit TokenIssuer(const AuthOptions& options);

  // Signs an access token for `user` with its current roles and stores a new
  // refresh token of `family_id` (a new family when empty) in `tx`.
  void Issue(cppsvc::db::Tx& tx,
             const User& user,
             const std::string& family_id,
             cppsvc::Clock::time_point now,
             TokenPair& tokens) const;

 private:
  cppsvc::auth::JwtSigner signer_;
  std::chrono::seconds access_ttl_;
  std::chrono::seconds refresh_ttl_;
};

// SHA-256 of a refresh token, hex: what is stored instead of the token.
std::string RefreshTokenHash(const std::string& token);

// Spends the refresh token if it is live (not spent, not expired) and
// returns its row as it was; nullopt otherwise. Concurrent calls with one
// token: only one gets the row.
std::optional<RefreshToken> SpendRefreshToken(cppsvc::db::Tx& tx,
                                              const std::string& token,
                                              cppsvc::Clock::time_point now);
// The stored row of a refresh token, in whatever state; nullopt if unknown.
std::optional<RefreshToken> FindRefreshToken(cppsvc::db::Tx& tx, const std::string& token);

// Spends every live refresh token of the family and revokes the unexpired
// access tokens issued with them.
void RevokeFamily(cppsvc::db::Tx& tx, const std::string& family_id, cppsvc::Clock::time_point now);
// Revokes one access token until `expires_at` (a second revocation is a no-op).
void RevokeAccessToken(cppsvc::db::Tx& tx,
                       const std::string& jti,
                       const std::string& user_id,
                       cppsvc::Clock::time_point expires_at,
                       cppsvc::Clock::time_point now);
bool IsAccessTokenRevoked(cppsvc::db::Tx& tx, const std::string& jti);
// jti of the access tokens revoked at or after `since` (all when unset) and
// unexpired at `now`.
std::vector<std::string> RevokedAccessTokens(cppsvc::db::Tx& tx,
                                             std::optional<cppsvc::Clock::time_point> since,
                                             cppsvc::Clock::time_point now);
// Deletes revoked access tokens and refresh tokens expired before `now`.
void DeleteExpiredTokens(cppsvc::db::Tx& tx, cppsvc::Clock::time_point now);

}  // namespace auth
