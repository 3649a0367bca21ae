#include "auth/auth_service.h"

#include <sodium.h>

#include "commerce/auth/v1/auth.cppsvc.server.h"
#include "common/util.h"

namespace auth {

using cppsvc::Status;
using cppsvc::StatusCode;

namespace {

Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return services::Hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
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

}  // namespace

AuthOptions AuthOptions::FromEnvironment(cppsvc::config::Env& env) {
  AuthOptions o;
  std::string alg = env.Required("CPPSVC_JWT_ALGORITHM");
  if (!alg.empty() && !cppsvc::auth::ParseAlgorithm(alg, o.signing.algorithm)) {
    env.Problem("CPPSVC_JWT_ALGORITHM: '" + alg + "' is not one of HS256, RS256, ES256");
    return o;
  }
  o.signing.issuer = env.Required("CPPSVC_JWT_ISSUER");
  o.signing.audience = env.Required("CPPSVC_JWT_AUDIENCE");
  o.access_token_ttl =
      std::chrono::seconds(env.Integer("AUTH_ACCESS_TOKEN_TTL_SECONDS", 900, 60, 86400));
  o.refresh_token_ttl = std::chrono::seconds(
      env.Integer("AUTH_REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600, 3600, 365 * 24 * 3600));
  std::string verify_key = env.ValueOrFile("CPPSVC_JWT_KEY");
  o.signing.key = env.ValueOrFile("AUTH_JWT_SIGNING_KEY");
  if (o.signing.key.empty()) {
    if (o.signing.algorithm != cppsvc::auth::Algorithm::kHS256) {
      env.Problem(
          "AUTH_JWT_SIGNING_KEY or AUTH_JWT_SIGNING_KEY_FILE (PEM private key) is required for " +
          alg);
      return o;
    }
    o.signing.key = verify_key;  // HS256: the secret the verifiers share
  }
  if (o.signing.key.empty() || verify_key.empty() || !env.problems().empty()) {
    if (verify_key.empty()) env.Problem("CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE is required");
    return o;
  }
  // The tokens issued here must be the ones every service accepts.
  try {
    cppsvc::auth::JwtConfig verifying = o.signing;
    verifying.key = verify_key;
    cppsvc::auth::TokenClaims probe;
    probe.subject = "auth-startup-probe";
    if (!cppsvc::auth::JwtVerifier(verifying)
             .Verify(cppsvc::auth::JwtSigner(o.signing).Sign(probe))
             .ok) {
      env.Problem("AUTH_JWT_SIGNING_KEY: tokens signed with it are refused with CPPSVC_JWT_KEY");
    }
  } catch (const std::exception& e) {
    env.Problem(std::string("JWT signing configuration: ") + e.what());
  }
  return o;
}

AuthService::AuthService()
    : AuthService(std::make_shared<InMemoryAuthStore>(),
                  std::make_shared<services::InMemoryOutbox>(),
                  OptionsOrExit()) {}

AuthService::AuthService(std::shared_ptr<AuthStore> store,
                         std::shared_ptr<services::EventSink> events,
                         AuthOptions options)
    : store_(std::move(store)),
      events_(std::move(events)),
      options_(std::move(options)),
      signer_(options_.signing) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialized");
  for (const auto& role : v1::AuthServiceServer::Roles()) {
    if (role.name != "anonymous") assignable_roles_.insert(role.name);
  }
}

Status AuthService::HashPassword(const std::string& password, std::string& hash) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out,
                            password.data(),
                            password.size(),
                            options_.pwhash_opslimit,
                            options_.pwhash_memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("cannot hash the password now (out of memory)");
  }
  hash = out;
  return Status::Ok();
}

bool AuthService::VerifyPassword(const std::string& hash, const std::string& password) const {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Status AuthService::IssueTokens(const User& user, v1::TokenPair& tokens) {
  const auto now = cppsvc::Clock::now();
  cppsvc::auth::TokenClaims claims;
  claims.subject = user.id();
  claims.roles.assign(user.roles().begin(), user.roles().end());
  claims.token_id = services::NewUuid();
  claims.issued_at = now;
  claims.ttl = options_.access_token_ttl;
  try {
    tokens.set_access_token(signer_.Sign(claims));
  } catch (const std::exception&) {
    return Status::Internal("cannot sign the access token");
  }
  *tokens.mutable_access_token_expires_at() =
      services::ToTimestamp(now + options_.access_token_ttl);

  const std::string refresh = services::RandomHex(32);  // 256 bits; only its hash is stored
  RefreshToken row;
  row.set_id(services::NewUuid());
  row.set_user_id(user.id());
  row.set_token_hash(Sha256Hex(refresh));
  *row.mutable_expires_at() = services::ToTimestamp(now + options_.refresh_token_ttl);
  *row.mutable_created_at() = services::ToTimestamp(now);
  store_->AddRefreshToken(row);
  tokens.set_refresh_token(refresh);
  *tokens.mutable_refresh_token_expires_at() = row.expires_at();
  return Status::Ok();
}

Status AuthService::CheckNotRevoked(const cppsvc::CallContext& ctx) {
  const std::string& jti = ctx.caller().token_id;
  if (!jti.empty() && store_->IsAccessTokenRevoked(jti)) return Unauthenticated("token revoked");
  return Status::Ok();
}

Status AuthService::Register(cppsvc::CallContext&,
                             const v1::RegisterRequest& request,
                             v1::RegisterResponse& response) {
  const std::string email = services::Lower(request.email());
  if (store_->FindUserByEmail(email))
    return Status::AlreadyExists("an account with this email exists");
  User user;
  user.set_id(services::NewUuid());
  user.set_email(email);
  user.set_display_name(request.has_display_name() ? request.display_name()
                                                   : email.substr(0, email.find('@')));
  user.add_roles("customer");
  if (Status s = HashPassword(request.password(), *user.mutable_password_hash()); !s.ok()) return s;
  *user.mutable_created_at() = services::ToTimestamp(cppsvc::Clock::now());
  *user.mutable_updated_at() = user.created_at();
  if (Status s = store_->CreateUser(user); !s.ok()) return s;  // a concurrent registration won

  v1::UserRegistered event;
  event.set_user_id(user.id());
  event.set_email(user.email());
  event.set_display_name(user.display_name());
  *event.mutable_registered_at() = user.created_at();
  events_->Publish(event);
  *response.mutable_user() = Profile(user);
  return Status::Ok();
}

Status AuthService::Login(cppsvc::CallContext&,
                          const v1::LoginRequest& request,
                          v1::LoginResponse& response) {
  auto user = store_->FindUserByEmail(services::Lower(request.email()));
  if (!user) {
    std::call_once(dummy_once_, [this] { (void)HashPassword("not-a-password", dummy_hash_); });
    (void)VerifyPassword(dummy_hash_, request.password());
    return Unauthenticated("invalid email or password");
  }
  if (!VerifyPassword(user->password_hash(), request.password()))
    return Unauthenticated("invalid email or password");
  if (crypto_pwhash_str_needs_rehash(user->password_hash().c_str(),
                                     options_.pwhash_opslimit,
                                     options_.pwhash_memlimit) != 0) {
    std::string hash;
    if (HashPassword(request.password(), hash).ok()) {
      (void)store_->UpdateUser(
          user->id(),
          [&](User& u) { u.set_password_hash(hash); },
          *user);
    }
  }
  if (Status s = IssueTokens(*user, *response.mutable_tokens()); !s.ok()) return s;
  *response.mutable_user() = Profile(*user);
  return Status::Ok();
}

Status AuthService::Refresh(cppsvc::CallContext&,
                            const v1::RefreshRequest& request,
                            v1::RefreshResponse& response) {
  auto spent =
      store_->RevokeRefreshToken(Sha256Hex(request.refresh_token()), "", cppsvc::Clock::now());
  if (!spent) return Unauthenticated("invalid refresh token");
  auto user = store_->GetUser(spent->user_id());
  if (!user) return Unauthenticated("invalid refresh token");
  return IssueTokens(*user, *response.mutable_tokens());  // with the user's current roles
}

Status AuthService::Logout(cppsvc::CallContext& ctx,
                           const v1::LogoutRequest& request,
                           v1::LogoutResponse&) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  const auto now = cppsvc::Clock::now();
  if (!ctx.caller().token_id.empty()) {
    RevokedToken row;
    row.set_jti(ctx.caller().token_id);
    row.set_user_id(ctx.caller().subject);
    // The token's own exp is not in the context: keep the row as long as any
    // token issued now could live, plus the largest leeway.
    *row.mutable_expires_at() =
        services::ToTimestamp(now + options_.access_token_ttl + std::chrono::seconds(60));
    *row.mutable_revoked_at() = services::ToTimestamp(now);
    store_->RevokeAccessToken(row);
  }
  // Someone else's (or an unknown) refresh token is left alone, silently.
  store_->RevokeRefreshToken(Sha256Hex(request.refresh_token()), ctx.caller().subject, now);
  return Status::Ok();
}

Status AuthService::Me(cppsvc::CallContext& ctx, const v1::MeRequest&, v1::MeResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  auto user = store_->GetUser(ctx.caller().subject);
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
  User saved;
  Status status = store_->UpdateUser(
      request.user_id(),
      [&](User& user) {
        for (const std::string& role : user.roles()) {
          if (role == request.role()) return;  // held already
        }
        user.add_roles(request.role());
        *user.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
      },
      saved);
  if (!status.ok()) return status;
  *response.mutable_user() = Profile(saved);
  return Status::Ok();
}

Status AuthService::ListUsers(cppsvc::CallContext& ctx,
                              const v1::ListUsersRequest& request,
                              v1::ListUsersResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  int64_t cursor = 0;
  if (Status s = services::ParsePageToken(request.page_token(), cursor); !s.ok()) return s;
  int64_t next = 0;
  for (const User& user :
       store_->ListUsers(cursor, services::PageSize(request.page_size(), 50), next)) {
    *response.add_users() = Profile(user);
  }
  response.set_next_page_token(services::PageToken(next));
  return Status::Ok();
}

// as_of lags the clock a little: a revocation stamped just before the list
// was read but stored just after is listed on the next poll instead of being
// missed (repeats are harmless to a revocation cache).
Status AuthService::ListRevokedTokens(cppsvc::CallContext& ctx,
                                      const v1::ListRevokedTokensRequest& request,
                                      v1::ListRevokedTokensResponse& response) {
  if (Status s = CheckNotRevoked(ctx); !s.ok()) return s;
  const auto now = cppsvc::Clock::now();
  const auto since = request.has_revoked_after() ? services::FromTimestamp(request.revoked_after())
                                                 : cppsvc::Clock::time_point::min();
  for (const RevokedToken& token : store_->ListRevokedTokens(since, now))
    response.add_jtis(token.jti());
  *response.mutable_as_of() = services::ToTimestamp(now - std::chrono::seconds(5));
  return Status::Ok();
}

}  // namespace auth
