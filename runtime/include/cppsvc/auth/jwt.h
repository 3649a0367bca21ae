// JWT authentication with cpp-jwt. The verifier's algorithm and key are fixed
// by configuration: a token's own `alg` header never chooses how it is
// checked (no "none", no HS256-signed-with-the-public-key confusion).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/context.h"

namespace cppsvc::auth {

enum class Algorithm { kHS256, kRS256, kES256 };

// "HS256" -> kHS256; false for anything else.
bool ParseAlgorithm(std::string_view name, Algorithm& out);
std::string_view AlgorithmName(Algorithm alg);

struct JwtConfig {
  Algorithm algorithm = Algorithm::kHS256;
  // HS256: the shared secret. RS256/ES256: the PEM public key (verifier) or
  // PEM private key (signer).
  std::string key;
  std::string issuer;    // required `iss`
  std::string audience;  // required `aud` (string or one of an array)
  // Clock skew allowed on exp and nbf; capped at 60 s.
  std::chrono::seconds leeway{30};
  // Refuse tokens without `jti`: a token without one cannot be revoked.
  bool require_jti = false;
};

// Revoked token ids (`jti`), as published by the auth service. Thread-safe;
// Replace() swaps in a fresh list (from a periodic refresh).
class RevocationList {
 public:
  bool IsRevoked(const std::string& jti) const;
  void Revoke(const std::string& jti);
  void Replace(std::set<std::string> jtis);
  size_t size() const;

  // While the feed behind the list has failed for longer than it may (see
  // RevocationFeedOptions::max_staleness), a token may have been revoked
  // without this list knowing: tokens issued before `fresh_as_of` (the last
  // good fetch) are refused, or every token with `refuse_all`. Fresh() ends
  // that. A list no feed marks stale never is.
  void Stale(std::chrono::system_clock::time_point fresh_as_of, bool refuse_all);
  void Fresh();
  bool stale() const { return stale_.load(std::memory_order_relaxed); }

  // Why a token with this `jti` and issue time (seconds since the epoch;
  // none when it has no `iat`) is refused now, or null when it is not.
  const char* Refusal(const std::string& jti, std::optional<double> iat_s) const;

 private:
  mutable std::mutex mu_;
  std::set<std::string> revoked_;
  std::atomic<bool> stale_{false};
  bool refuse_all_ = false;   // under mu_
  double fresh_as_of_s_ = 0;  // under mu_
};

struct VerifyResult {
  bool ok = false;
  Caller caller;       // when ok
  std::string reason;  // when not ok: why, without key material or the token
};

// What Authenticate returns: the caller with its token, or why not.
struct Authenticated {
  std::shared_ptr<const Credentials> credentials;  // when ok
  std::string reason;                              // as VerifyResult::reason
  bool ok() const { return credentials != nullptr; }
};

class JwtVerifier {
 public:
  // Throws std::invalid_argument when the config is unusable (empty key,
  // unparsable PEM, leeway above 60 s).
  explicit JwtVerifier(JwtConfig config, std::shared_ptr<const RevocationList> revoked = nullptr);

  // Checks signature (with the configured algorithm only), exp, nbf, iss,
  // aud and revocation. `sub` becomes Caller::subject, the `roles` claim
  // (array of strings) Caller::roles, `jti` Caller::token_id.
  //
  // Tokens that passed are remembered (bounded, keyed by the exact token
  // bytes), so a client's repeated token skips parsing and the signature
  // check; time claims and revocation are still checked on every call.
  VerifyResult Verify(std::string_view token, Clock::time_point now = Clock::now()) const;

  // The same checks as Verify, for the generated server's every call: the
  // caller and the token come back shared with the verifier's memory of
  // the token instead of copied (Credentials::bearer_token is `token`).
  Authenticated Authenticate(std::string_view token, Clock::time_point now = Clock::now()) const;

 private:
  struct Cache;
  Authenticated Check(std::string_view token, Clock::time_point now) const;

  JwtConfig config_;
  std::shared_ptr<const RevocationList> revoked_;
  std::shared_ptr<Cache> cache_;
};

struct TokenClaims {
  std::string subject;
  std::vector<std::string> roles;
  std::string token_id;  // jti; generated (random) when empty
  Clock::time_point issued_at = Clock::now();
  std::chrono::seconds ttl{900};
  std::optional<Clock::time_point> not_before;
};

// Issues tokens (the auth service, tests, tools).
class JwtSigner {
 public:
  explicit JwtSigner(JwtConfig config);
  std::string Sign(const TokenClaims& claims) const;

 private:
  JwtConfig config_;
};

}  // namespace cppsvc::auth
