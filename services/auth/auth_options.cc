#include "auth/auth_options.h"

#include <exception>

namespace auth {
namespace {

using cppsvc::auth::Algorithm;

void ReadCosts(cppsvc::config::Env& env, AuthOptions& o) {
  o.access_token_ttl =
      std::chrono::seconds(env.Integer("AUTH_ACCESS_TOKEN_TTL_SECONDS", 900, 60, 86400));
  o.refresh_token_ttl = std::chrono::seconds(
      env.Integer("AUTH_REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600, 3600, 365 * 24 * 3600));
  o.pwhash_memlimit = static_cast<size_t>(
      env.Integer("AUTH_PWHASH_MEMLIMIT_KIB", 65536, kMinPwhashMemlimit / 1024, 4 * 1024 * 1024) *
      1024);
  o.pwhash_opslimit = static_cast<unsigned long long>(
      env.Integer("AUTH_PWHASH_OPSLIMIT", 2, static_cast<int64_t>(kMinPwhashOpslimit), 16));
}

// The tokens issued here must be the ones every service accepts.
void CheckKeysMatch(cppsvc::config::Env& env, const AuthOptions& o, const std::string& verify_key) {
  try {
    cppsvc::auth::JwtConfig verifying = o.signing;
    verifying.key = verify_key;
    cppsvc::auth::TokenClaims probe;
    probe.subject = "auth-startup-probe";
    if (!cppsvc::auth::JwtVerifier(verifying)
             .Verify(cppsvc::auth::JwtSigner(o.signing).Sign(probe))
             .ok) {
      env.Problem("CPPSVC_JWT_PRIVATE_KEY: tokens signed with it are refused with CPPSVC_JWT_KEY");
    }
  } catch (const std::exception& e) {
    env.Problem(std::string("JWT signing configuration: ") + e.what());
  }
}

}  // namespace

AuthOptions AuthOptions::FromEnvironment(cppsvc::config::Env& env) {
  AuthOptions o;
  ReadCosts(env, o);
  const std::string alg = env.Required("CPPSVC_JWT_ALGORITHM");
  if (!alg.empty() && !cppsvc::auth::ParseAlgorithm(alg, o.signing.algorithm)) {
    env.Problem("CPPSVC_JWT_ALGORITHM: '" + alg + "' is not one of HS256, RS256, ES256");
    return o;
  }
  o.signing.issuer = env.Required("CPPSVC_JWT_ISSUER");
  o.signing.audience = env.Required("CPPSVC_JWT_AUDIENCE");
  const std::string verify_key = env.ValueOrFile("CPPSVC_JWT_KEY");
  if (verify_key.empty()) env.Problem("CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE is required");
  if (o.signing.algorithm == Algorithm::kHS256) {
    o.signing.key = verify_key;  // the secret the verifiers share
  } else {
    o.signing.key = env.ValueOrFile("CPPSVC_JWT_PRIVATE_KEY");
    if (o.signing.key.empty()) {
      env.Problem("CPPSVC_JWT_PRIVATE_KEY or CPPSVC_JWT_PRIVATE_KEY_FILE (PEM private key) is " +
                  std::string("required for ") + alg);
    }
  }
  if (env.problems().empty()) CheckKeysMatch(env, o, verify_key);
  return o;
}

}  // namespace auth
