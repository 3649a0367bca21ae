#include "auth/sessions.h"

#include <sodium.h>
#include <pqxx/pqxx>

#include "auth/sql_time.h"
#include "commerce/auth/v1/auth.cppsvc.repo.h"
#include "common/util.h"
#include "cppsvc/db/statements.h"

namespace auth {
namespace {

using commerce::auth::v1::RefreshTokenFilter;
using commerce::auth::v1::RefreshTokenRepository;
using commerce::auth::v1::RevokedTokenRepository;

const cppsvc::db::Statement kSpend("auth.RefreshTokens.Spend", R"sql(
UPDATE refresh_tokens SET revoked_at = $2::timestamptz
WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2::timestamptz
RETURNING id
)sql");

const cppsvc::db::Statement kRevokeFamilyAccess("auth.RefreshTokens.RevokeFamilyAccess", R"sql(
INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at)
SELECT access_jti, user_id, access_expires_at, $2::timestamptz
FROM refresh_tokens
WHERE family_id = $1 AND access_jti <> '' AND access_expires_at > $2::timestamptz
ON CONFLICT (jti) DO NOTHING
)sql");

const cppsvc::db::Statement kSpendFamily("auth.RefreshTokens.SpendFamily", R"sql(
UPDATE refresh_tokens SET revoked_at = $2::timestamptz
WHERE family_id = $1 AND revoked_at IS NULL
)sql");

const cppsvc::db::Statement kRevokeAccess("auth.RevokedTokens.Revoke", R"sql(
INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at)
VALUES ($1, $2, $3::timestamptz, $4::timestamptz)
ON CONFLICT (jti) DO NOTHING
)sql");

const cppsvc::db::Statement kRevokedSince("auth.RevokedTokens.Since", R"sql(
SELECT jti FROM revoked_tokens
WHERE revoked_at >= $1::timestamptz AND expires_at > $2::timestamptz
ORDER BY jti
)sql");

const cppsvc::db::Statement kDeleteExpiredRevoked("auth.RevokedTokens.DeleteExpired", R"sql(
DELETE FROM revoked_tokens WHERE expires_at <= $1::timestamptz
)sql");

const cppsvc::db::Statement kDeleteExpiredRefresh("auth.RefreshTokens.DeleteExpired", R"sql(
DELETE FROM refresh_tokens WHERE expires_at <= $1::timestamptz
)sql");

}  // namespace

TokenIssuer::TokenIssuer(const AuthOptions& options)
    : signer_(options.signing),
      access_ttl_(options.access_token_ttl),
      refresh_ttl_(options.refresh_token_ttl) {}

void TokenIssuer::Issue(cppsvc::db::Tx& tx,
                        const User& user,
                        const std::string& family_id,
                        cppsvc::Clock::time_point now,
                        TokenPair& tokens) const {
  cppsvc::auth::TokenClaims claims;
  claims.subject = user.id();
  claims.roles.assign(user.roles().begin(), user.roles().end());
  claims.token_id = services::NewUuid();
  claims.issued_at = now;
  claims.ttl = access_ttl_;
  tokens.set_access_token(signer_.Sign(claims));
  *tokens.mutable_access_token_expires_at() = services::ToTimestamp(now + access_ttl_);

  const std::string refresh = services::RandomHex(32);  // 256 bits; only its hash is stored
  RefreshToken row;
  row.set_id(services::NewUuid());
  row.set_user_id(user.id());
  row.set_token_hash(RefreshTokenHash(refresh));
  row.set_family_id(family_id.empty() ? row.id() : family_id);
  *row.mutable_expires_at() = services::ToTimestamp(now + refresh_ttl_);
  row.set_access_jti(claims.token_id);
  *row.mutable_access_expires_at() = tokens.access_token_expires_at();
  RefreshTokenRepository(tx).Insert(row);
  tokens.set_refresh_token(refresh);
  *tokens.mutable_refresh_token_expires_at() = row.expires_at();
}

std::string RefreshTokenHash(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return services::Hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::optional<RefreshToken> SpendRefreshToken(cppsvc::db::Tx& tx,
                                              const std::string& token,
                                              cppsvc::Clock::time_point now) {
  pqxx::result r = tx.exec_prepared(kSpend.name, RefreshTokenHash(token), SqlTime(now));
  if (r.empty()) return std::nullopt;
  RefreshToken row = RefreshTokenRepository(tx).Get(r[0][0].as<std::string>());
  row.clear_revoked_at();  // as it was
  return row;
}

std::optional<RefreshToken> FindRefreshToken(cppsvc::db::Tx& tx, const std::string& token) {
  RefreshTokenFilter filter;
  filter.token_hash = RefreshTokenHash(token);
  auto page = RefreshTokenRepository(tx).List(filter, 1);
  if (page.rows.empty()) return std::nullopt;
  return page.rows.front();
}

void RevokeFamily(cppsvc::db::Tx& tx, const std::string& family_id, cppsvc::Clock::time_point now) {
  tx.exec_prepared(kRevokeFamilyAccess.name, family_id, SqlTime(now));
  tx.exec_prepared(kSpendFamily.name, family_id, SqlTime(now));
}

void RevokeAccessToken(cppsvc::db::Tx& tx,
                       const std::string& jti,
                       const std::string& user_id,
                       cppsvc::Clock::time_point expires_at,
                       cppsvc::Clock::time_point now) {
  tx.exec_prepared(kRevokeAccess.name, jti, user_id, SqlTime(expires_at), SqlTime(now));
}

bool IsAccessTokenRevoked(cppsvc::db::Tx& tx, const std::string& jti) {
  return RevokedTokenRepository(tx).Find(jti).has_value();
}

std::vector<std::string> RevokedAccessTokens(cppsvc::db::Tx& tx,
                                             std::optional<cppsvc::Clock::time_point> since,
                                             cppsvc::Clock::time_point now) {
  const std::string from = since ? SqlTime(*since) : std::string("-infinity");
  std::vector<std::string> jtis;
  for (const auto& row : tx.exec_prepared(kRevokedSince.name, from, SqlTime(now))) {
    jtis.push_back(row[0].as<std::string>());
  }
  return jtis;
}

void DeleteExpiredTokens(cppsvc::db::Tx& tx, cppsvc::Clock::time_point now) {
  tx.exec_prepared(kDeleteExpiredRevoked.name, SqlTime(now));
  tx.exec_prepared(kDeleteExpiredRefresh.name, SqlTime(now));
}

}  // namespace auth
