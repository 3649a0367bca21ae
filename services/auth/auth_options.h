// Configuration of the auth service: how access tokens are signed, how long
// tokens live, the Argon2id cost and the limit on failed logins.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/config/env.h"

namespace auth {

// OWASP's minimum for Argon2id: 19 MiB of memory and 2 passes.
inline constexpr size_t kMinPwhashMemlimit = size_t{19} * 1024 * 1024;
inline constexpr unsigned long long kMinPwhashOpslimit = 2;

struct AuthOptions {
  // How access tokens are signed: the algorithm, issuer and audience every
  // verifier is configured with, and the signing key (HS256: the shared
  // secret; RS256/ES256: the PEM private key).
  cppsvc::auth::JwtConfig signing;
  std::chrono::seconds access_token_ttl{900};
  std::chrono::seconds refresh_token_ttl{30 * 24 * 3600};
  // Argon2id cost (libsodium crypto_pwhash); at least the minimum above.
  unsigned long long pwhash_opslimit = 2;  // crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t pwhash_memlimit = 67108864;       // crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB)
  // Failed logins allowed per account (and per address, when known) within
  // the window; further attempts are refused until the oldest leaves it.
  int max_failed_logins = 5;
  std::chrono::seconds failed_login_window{15 * 60};

  // Reads the settings the services and cppsvc-token read:
  //   CPPSVC_JWT_ALGORITHM, CPPSVC_JWT_ISSUER, CPPSVC_JWT_AUDIENCE;
  //   CPPSVC_JWT_PRIVATE_KEY[_FILE] (RS256/ES256: the PEM private key), and
  //   CPPSVC_JWT_KEY[_FILE] (the verifiers' key: HS256 secret or PEM public
  //   key; tokens signed here must pass it);
  //   AUTH_ACCESS_TOKEN_TTL_SECONDS (900), AUTH_REFRESH_TOKEN_TTL_SECONDS
  //   (30 days), AUTH_PWHASH_MEMLIMIT_KIB (65536, at least 19456),
  //   AUTH_PWHASH_OPSLIMIT (2, at least 2).
  // Problems are recorded in `env`.
  static AuthOptions FromEnvironment(cppsvc::config::Env& env);
};

}  // namespace auth
