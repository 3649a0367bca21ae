// Tokens for generated contract tests: a valid token per role, and one of
// each kind of bad token the server must refuse with UNAUTHENTICATED.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/auth/jwt.h"

namespace cppsvc::testing {

enum class BadToken {
  kAlgNone,             // header alg "none", no signature
  kHs256WithPublicKey,  // HS256 MAC keyed with the server's RS256 public key PEM
  kWrongKey,            // RS256 signed by another key pair
  kFlippedSignature,    // a valid token with one signature bit flipped
  kExpired,             // exp an hour ago (well past any leeway)
  kNotYetValid,         // nbf an hour ahead
  kWrongAudience,
  kWrongIssuer,
  kRevoked,  // jti on the server's revocation list
  kGarbage,  // not a JWT at all
};

const std::vector<BadToken>& AllBadTokens();
std::string_view BadTokenName(BadToken kind);  // "alg_none", "hs256_with_public_key", ...

class TestTokens {
 public:
  // Generates an RS256 key pair (and a second one for kWrongKey).
  TestTokens();
  ~TestTokens();

  // What the server under test verifies with: RS256, the public key,
  // issuer "cppsvc-test", audience "cppsvc-test".
  const auth::JwtConfig& verifier_config() const;
  // The revocation list the server must use (kRevoked's jti is on it).
  std::shared_ptr<auth::RevocationList> revocations() const;
  // A ready verifier over verifier_config() and revocations().
  std::shared_ptr<const auth::JwtVerifier> verifier() const;

  std::string Valid(const std::string& subject, const std::vector<std::string>& roles) const;
  // A bad token of `kind` for a subject holding `roles` (so only the defect
  // makes it fail).
  std::string Bad(BadToken kind,
                  const std::string& subject,
                  const std::vector<std::string>& roles) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cppsvc::testing
