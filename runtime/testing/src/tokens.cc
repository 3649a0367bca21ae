// TestTokens: an RS256 key pair the server under test trusts, a second one it
// does not, and one token per kind of defect the server must refuse.

#include "cppsvc/testing/tokens.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppsvc::testing {
namespace {

constexpr char kIssuer[] = "cppsvc-test";
constexpr char kAudience[] = "cppsvc-test";
constexpr char kOther[] = "someone-else";
constexpr char kRevokedJti[] = "cppsvc-test-revoked-token";

// --- base64url (unpadded) ------------------------------------------------------

std::string Base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3Fu]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3Fu]);
  return out;
}

std::string Base64UrlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    uint32_t v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      v = static_cast<uint32_t>(c - 'a' + 26);
    } else if (c >= '0' && c <= '9') {
      v = static_cast<uint32_t>(c - '0' + 52);
    } else if (c == '-') {
      v = 62;
    } else if (c == '_') {
      v = 63;
    } else {
      throw std::runtime_error("cppsvc testing: bad base64url in a signed token");
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return out;
}

// --- keys ------------------------------------------------------------------------

struct KeyPair {
  std::string public_pem;
  std::string private_pem;
};

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

[[noreturn]] void Fail(const char* what) {
  ERR_clear_error();
  throw std::runtime_error(std::string("cppsvc testing: ") + what);
}

KeyPair NewRsaKeyPair() {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_RSA_gen(2048));
  if (!key) Fail("RSA key generation failed");
  KeyPair out;
  std::unique_ptr<BIO, BioFree> pub(BIO_new(BIO_s_mem()));
  if (!pub || PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1)
    Fail("PEM encoding of the public key failed");
  out.public_pem = BioContents(pub.get());
  std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem()));
  if (!priv ||
      PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    Fail("PEM encoding of the private key failed");
  }
  out.private_pem = BioContents(priv.get());
  if (out.public_pem.empty() || out.private_pem.empty()) Fail("empty PEM");
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr,
                "HMAC",
                nullptr,
                "SHA256",
                nullptr,
                key.data(),
                key.size(),
                reinterpret_cast<const unsigned char*>(data.data()),
                data.size(),
                mac,
                sizeof(mac),
                &len) == nullptr) {
    Fail("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(mac), len);
}

// "h.p.s" -> {"h", "p", "s"}.
struct Parts {
  std::string header;
  std::string payload;
  std::string signature;
};

Parts Split(const std::string& token) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string::npos ? std::string::npos : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos) Fail("signed token is not h.p.s");
  return Parts{token.substr(0, dot1),
               token.substr(dot1 + 1, dot2 - dot1 - 1),
               token.substr(dot2 + 1)};
}

auth::JwtConfig SignerConfig(const std::string& private_pem,
                             std::string issuer,
                             std::string audience) {
  auth::JwtConfig c;
  c.algorithm = auth::Algorithm::kRS256;
  c.key = private_pem;
  c.issuer = std::move(issuer);
  c.audience = std::move(audience);
  return c;
}

}  // namespace

const std::vector<BadToken>& AllBadTokens() {
  static const std::vector<BadToken> kAll = {
      BadToken::kAlgNone,
      BadToken::kHs256WithPublicKey,
      BadToken::kWrongKey,
      BadToken::kFlippedSignature,
      BadToken::kExpired,
      BadToken::kNotYetValid,
      BadToken::kWrongAudience,
      BadToken::kWrongIssuer,
      BadToken::kRevoked,
      BadToken::kGarbage,
  };
  return kAll;
}

std::string_view BadTokenName(BadToken kind) {
  switch (kind) {
    case BadToken::kAlgNone:
      return "alg_none";
    case BadToken::kHs256WithPublicKey:
      return "hs256_with_public_key";
    case BadToken::kWrongKey:
      return "wrong_key";
    case BadToken::kFlippedSignature:
      return "flipped_signature";
    case BadToken::kExpired:
      return "expired";
    case BadToken::kNotYetValid:
      return "not_yet_valid";
    case BadToken::kWrongAudience:
      return "wrong_audience";
    case BadToken::kWrongIssuer:
      return "wrong_issuer";
    case BadToken::kRevoked:
      return "revoked";
    case BadToken::kGarbage:
      return "garbage";
  }
  return "unknown";
}

struct TestTokens::Impl {
  KeyPair trusted;
  KeyPair untrusted;
  auth::JwtConfig config;
  std::shared_ptr<auth::RevocationList> revocations;
  std::shared_ptr<const auth::JwtVerifier> verifier;
  std::optional<auth::JwtSigner> signer;                 // trusted key, right iss/aud
  std::optional<auth::JwtSigner> wrong_key_signer;       // untrusted key
  std::optional<auth::JwtSigner> wrong_audience_signer;  // trusted key, aud "someone-else"
  std::optional<auth::JwtSigner> wrong_issuer_signer;    // trusted key, iss "someone-else"
};

TestTokens::TestTokens() : impl_(std::make_unique<Impl>()) {
  impl_->trusted = NewRsaKeyPair();
  impl_->untrusted = NewRsaKeyPair();

  impl_->config.algorithm = auth::Algorithm::kRS256;
  impl_->config.key = impl_->trusted.public_pem;
  impl_->config.issuer = kIssuer;
  impl_->config.audience = kAudience;
  impl_->config.leeway = std::chrono::seconds(30);

  impl_->revocations = std::make_shared<auth::RevocationList>();
  impl_->revocations->Revoke(kRevokedJti);
  impl_->verifier = std::make_shared<const auth::JwtVerifier>(impl_->config, impl_->revocations);

  impl_->signer.emplace(SignerConfig(impl_->trusted.private_pem, kIssuer, kAudience));
  impl_->wrong_key_signer.emplace(SignerConfig(impl_->untrusted.private_pem, kIssuer, kAudience));
  impl_->wrong_audience_signer.emplace(SignerConfig(impl_->trusted.private_pem, kIssuer, kOther));
  impl_->wrong_issuer_signer.emplace(SignerConfig(impl_->trusted.private_pem, kOther, kAudience));
}

TestTokens::~TestTokens() = default;

const auth::JwtConfig& TestTokens::verifier_config() const {
  return impl_->config;
}

std::shared_ptr<auth::RevocationList> TestTokens::revocations() const {
  return impl_->revocations;
}

std::shared_ptr<const auth::JwtVerifier> TestTokens::verifier() const {
  return impl_->verifier;
}

namespace {

auth::TokenClaims Claims(const std::string& subject, const std::vector<std::string>& roles) {
  auth::TokenClaims claims;
  claims.subject = subject;
  claims.roles = roles;
  claims.issued_at = Clock::now();
  claims.ttl = std::chrono::hours(1);
  return claims;
}

}  // namespace

std::string TestTokens::Valid(const std::string& subject,
                              const std::vector<std::string>& roles) const {
  return impl_->signer->Sign(Claims(subject, roles));
}

std::string TestTokens::Bad(BadToken kind,
                            const std::string& subject,
                            const std::vector<std::string>& roles) const {
  auth::TokenClaims claims = Claims(subject, roles);
  switch (kind) {
    case BadToken::kAlgNone: {
      // A valid payload under an unsigned header: "h.p." (empty signature).
      const Parts valid = Split(impl_->signer->Sign(claims));
      return Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + valid.payload + ".";
    }
    case BadToken::kHs256WithPublicKey: {
      // Algorithm confusion: HMAC-SHA256 keyed with the (public) RS256 key PEM.
      const Parts valid = Split(impl_->signer->Sign(claims));
      const std::string input =
          Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + valid.payload;
      return input + "." + Base64UrlEncode(HmacSha256(impl_->trusted.public_pem, input));
    }
    case BadToken::kWrongKey:
      return impl_->wrong_key_signer->Sign(claims);
    case BadToken::kFlippedSignature: {
      // One bit flipped in the middle of the signature; still well-formed.
      const Parts valid = Split(impl_->signer->Sign(claims));
      std::string signature = Base64UrlDecode(valid.signature);
      if (signature.empty()) Fail("empty signature");
      signature[signature.size() / 2] = static_cast<char>(signature[signature.size() / 2] ^ 0x01);
      return valid.header + "." + valid.payload + "." + Base64UrlEncode(signature);
    }
    case BadToken::kExpired:
      // Issued two hours ago for an hour.
      claims.issued_at = Clock::now() - std::chrono::hours(2);
      claims.ttl = std::chrono::hours(1);
      return impl_->signer->Sign(claims);
    case BadToken::kNotYetValid:
      // Valid from an hour ahead for an hour (so nbf is its only defect).
      claims.not_before = claims.issued_at + std::chrono::hours(1);
      claims.ttl = std::chrono::hours(2);
      return impl_->signer->Sign(claims);
    case BadToken::kWrongAudience:
      return impl_->wrong_audience_signer->Sign(claims);
    case BadToken::kWrongIssuer:
      return impl_->wrong_issuer_signer->Sign(claims);
    case BadToken::kRevoked:
      claims.token_id = kRevokedJti;
      return impl_->signer->Sign(claims);
    case BadToken::kGarbage:
      return "not-a-jwt";
  }
  throw std::invalid_argument("cppsvc testing: unknown BadToken");
}

}  // namespace cppsvc::testing
