// JwtVerifier / JwtSigner / RevocationList: valid tokens in the three
// algorithms, every bad-token class refused with its reason, leeway, config
// validation, and no key material in any message.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cppsvc/auth/jwt.h"

namespace cppsvc::auth {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

// --- helpers -------------------------------------------------------------------

const Clock::time_point kNow = Clock::time_point(seconds(1893456000));  // 2030-01-01T00:00:00Z
constexpr char kSecret[] = "dev-secret-0123456789-abcdefghijklmnop";
constexpr char kIssuer[] = "https://auth.commerce.test";
constexpr char kAudience[] = "commerce";

std::string B64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

std::string B64UrlDecode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) ADD_FAILURE() << "bad base64url in test";
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

json PayloadOf(const std::string& token) {
  return json::parse(B64UrlDecode(Split(token).at(1)));
}
json HeaderOf(const std::string& token) {
  return json::parse(B64UrlDecode(Split(token).at(0)));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  unsigned char* res = EVP_Q_mac(nullptr,
                                 "HMAC",
                                 nullptr,
                                 "SHA256",
                                 nullptr,
                                 key.data(),
                                 key.size(),
                                 reinterpret_cast<const unsigned char*>(data.data()),
                                 data.size(),
                                 out,
                                 sizeof(out),
                                 &len);
  EXPECT_NE(res, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

// A hand-made token: any header, any payload, HMAC-SHA256 with any key.
std::string CraftHs256(const json& header, const json& payload, std::string_view key) {
  const std::string input = B64Url(header.dump()) + "." + B64Url(payload.dump());
  return input + "." + B64Url(HmacSha256(key, input));
}

std::string CraftUnsigned(const json& header,
                          const json& payload,
                          std::string_view signature = "") {
  return B64Url(header.dump()) + "." + B64Url(payload.dump()) + "." + std::string(signature);
}

// Claims that pass every check at kNow.
json GoodPayload() {
  const int64_t now = std::chrono::duration_cast<seconds>(kNow.time_since_epoch()).count();
  return json{{"iss", kIssuer},
              {"aud", kAudience},
              {"sub", "user-1"},
              {"roles", {"customer"}},
              {"jti", "jti-crafted"},
              {"iat", now - 60},
              {"exp", now + 600}};
}

struct Pkey {
  std::string public_pem;
  std::string private_pem;
};

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Pkey ToPem(EVP_PKEY* key) {
  Pkey out;
  BIO* pub = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(pub, key), 1);
  out.public_pem = BioToString(pub);
  BIO_free(pub);
  BIO* priv = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  out.private_pem = BioToString(priv);
  BIO_free(priv);
  return out;
}

Pkey NewRsa(unsigned bits) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  EXPECT_NE(key, nullptr);
  Pkey out = ToPem(key);
  EVP_PKEY_free(key);
  return out;
}

Pkey NewEc(const char* curve) {
  EVP_PKEY* key = EVP_EC_gen(curve);
  EXPECT_NE(key, nullptr);
  Pkey out = ToPem(key);
  EVP_PKEY_free(key);
  return out;
}

// Generated once per test binary: RSA key generation takes a while.
const Pkey& Rsa() {
  static const Pkey k = NewRsa(2048);
  return k;
}
const Pkey& Rsa2() {
  static const Pkey k = NewRsa(2048);
  return k;
}
const Pkey& Ec() {
  static const Pkey k = NewEc("P-256");
  return k;
}
const Pkey& Ec2() {
  static const Pkey k = NewEc("P-256");
  return k;
}

JwtConfig Config(Algorithm alg, std::string key, seconds leeway = seconds(30)) {
  JwtConfig c;
  c.algorithm = alg;
  c.key = std::move(key);
  c.issuer = kIssuer;
  c.audience = kAudience;
  c.leeway = leeway;
  return c;
}

// Verifier and signer configs for one algorithm.
struct AlgSetup {
  Algorithm alg;
  std::string verify_key;
  std::string sign_key;
  std::string other_sign_key;  // a different key of the same kind
};

std::vector<AlgSetup> AllSetups() {
  return {
      {Algorithm::kHS256, kSecret, kSecret, "another-secret-of-some-length-0123456789"},
      {Algorithm::kRS256, Rsa().public_pem, Rsa().private_pem, Rsa2().private_pem},
      {Algorithm::kES256, Ec().public_pem, Ec().private_pem, Ec2().private_pem},
  };
}

TokenClaims GoodClaims() {
  TokenClaims c;
  c.subject = "user-42";
  c.roles = {"customer", "support"};
  c.token_id = "tok-1";
  c.issued_at = kNow - seconds(60);
  c.ttl = seconds(900);
  return c;
}

// Every key-ish string that must never show up in a message.
std::vector<std::string> Secrets() {
  std::vector<std::string> out = {kSecret,
                                  "another-secret-of-some-length-0123456789",
                                  "BEGIN",
                                  "PRIVATE",
                                  "PUBLIC KEY"};
  for (const Pkey* k : {&Rsa(), &Rsa2(), &Ec(), &Ec2()}) {
    for (const std::string* pem : {&k->public_pem, &k->private_pem}) {
      // Each base64 line of the PEM body.
      size_t pos = 0;
      while (pos < pem->size()) {
        size_t nl = pem->find('\n', pos);
        if (nl == std::string::npos) nl = pem->size();
        std::string line = pem->substr(pos, nl - pos);
        if (line.size() >= 16 && line.find("-----") == std::string::npos)
          out.push_back(line.substr(0, 16));
        pos = nl + 1;
      }
    }
  }
  return out;
}

void ExpectNoKeyMaterial(const std::string& message, const std::string& token = "") {
  for (const std::string& s : Secrets()) {
    EXPECT_EQ(message.find(s), std::string::npos) << "message leaks key material: " << message;
  }
  if (token.size() > 8) {
    EXPECT_EQ(message.find(token), std::string::npos) << "message contains the token";
    for (const std::string& part : Split(token)) {
      if (part.size() > 8) {
        EXPECT_EQ(message.find(part), std::string::npos) << "message contains the token";
      }
    }
  }
}

void ExpectRejected(const JwtVerifier& v,
                    const std::string& token,
                    const std::string& reason,
                    Clock::time_point now = kNow) {
  VerifyResult r = v.Verify(token, now);
  EXPECT_FALSE(r.ok) << "accepted a bad token, expected reason: " << reason;
  EXPECT_EQ(r.reason, reason);
  EXPECT_TRUE(r.caller.subject.empty());
  ExpectNoKeyMaterial(r.reason, token);
}

// --- algorithm names -------------------------------------------------------------

TEST(JwtAlgorithmTest, ParseAndName) {
  Algorithm a = Algorithm::kHS256;
  ASSERT_TRUE(ParseAlgorithm("RS256", a));
  EXPECT_EQ(a, Algorithm::kRS256);
  ASSERT_TRUE(ParseAlgorithm("ES256", a));
  EXPECT_EQ(a, Algorithm::kES256);
  ASSERT_TRUE(ParseAlgorithm("HS256", a));
  EXPECT_EQ(a, Algorithm::kHS256);
  for (const char* bad : {"none", "None", "hs256", "HS384", "RS512", "PS256", "", "HS256 "}) {
    a = Algorithm::kES256;
    EXPECT_FALSE(ParseAlgorithm(bad, a)) << bad;
    EXPECT_EQ(a, Algorithm::kES256) << "output changed on failure";
  }
  EXPECT_EQ(AlgorithmName(Algorithm::kHS256), "HS256");
  EXPECT_EQ(AlgorithmName(Algorithm::kRS256), "RS256");
  EXPECT_EQ(AlgorithmName(Algorithm::kES256), "ES256");
}

// --- valid tokens ------------------------------------------------------------------

TEST(JwtVerifierTest, AcceptsValidTokensInEveryAlgorithm) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtSigner signer(Config(s.alg, s.sign_key));
    JwtVerifier verifier(Config(s.alg, s.verify_key));
    const std::string token = signer.Sign(GoodClaims());
    EXPECT_EQ(HeaderOf(token).at("alg"), AlgorithmName(s.alg));
    VerifyResult r = verifier.Verify(token, kNow);
    ASSERT_TRUE(r.ok) << r.reason;
    EXPECT_TRUE(r.reason.empty());
    EXPECT_EQ(r.caller.subject, "user-42");
    EXPECT_EQ(r.caller.roles, (std::vector<std::string>{"customer", "support"}));
    EXPECT_EQ(r.caller.token_id, "tok-1");
    EXPECT_FALSE(r.caller.anonymous());
  }
}

TEST(JwtVerifierTest, Es256SignatureIsRawJoseFormat) {
  JwtSigner signer(Config(Algorithm::kES256, Ec().private_pem));
  const std::string token = signer.Sign(GoodClaims());
  EXPECT_EQ(B64UrlDecode(Split(token).at(2)).size(), 64u);  // R || S, not DER
}

TEST(JwtVerifierTest, AcceptsTokenWithoutRolesOrJti) {
  json payload = GoodPayload();
  payload.erase("roles");
  payload.erase("jti");
  JwtVerifier v(Config(Algorithm::kHS256, kSecret), std::make_shared<RevocationList>());
  VerifyResult r = v.Verify(CraftHs256({{"alg", "HS256"}, {"typ", "JWT"}}, payload, kSecret), kNow);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.caller.subject, "user-1");
  EXPECT_TRUE(r.caller.roles.empty());
  EXPECT_TRUE(r.caller.token_id.empty());
}

TEST(JwtVerifierTest, RequireJtiRefusesTokensThatCouldNotBeRevoked) {
  json payload = GoodPayload();
  payload.erase("jti");
  const std::string token = CraftHs256({{"alg", "HS256"}, {"typ", "JWT"}}, payload, kSecret);
  JwtConfig config = Config(Algorithm::kHS256, kSecret);
  config.require_jti = true;
  JwtVerifier v(config, std::make_shared<RevocationList>());
  ExpectRejected(v, token, "token has no jti, so it could not be revoked");
  EXPECT_TRUE(v.Verify(CraftHs256({{"alg", "HS256"}}, GoodPayload(), kSecret), kNow).ok);
}

TEST(JwtVerifierTest, AcceptsAudienceArrayContainingOurs) {
  json payload = GoodPayload();
  payload["aud"] = {"billing", kAudience};
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  VerifyResult r = v.Verify(CraftHs256({{"alg", "HS256"}}, payload, kSecret), kNow);
  EXPECT_TRUE(r.ok) << r.reason;
}

TEST(JwtVerifierTest, UsesTheGivenNowNotTheWallClock) {
  JwtSigner signer(Config(Algorithm::kHS256, kSecret));
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  TokenClaims c = GoodClaims();
  const Clock::time_point then = Clock::time_point(seconds(1000000000));  // 2001
  c.issued_at = then;
  const std::string token = signer.Sign(c);
  EXPECT_TRUE(v.Verify(token, then + seconds(10)).ok);
  ExpectRejected(v, token, "token expired", Clock::now());
}

TEST(JwtVerifierTest, AcceptsWithDefaultNow) {
  JwtSigner signer(Config(Algorithm::kHS256, kSecret));
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  TokenClaims c = GoodClaims();
  c.issued_at = Clock::now();
  EXPECT_TRUE(v.Verify(signer.Sign(c)).ok);
}

// --- bad tokens --------------------------------------------------------------------

TEST(JwtVerifierTest, RejectsAlgNone) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    for (const char* none : {"none", "None", "NONE", "nOnE"}) {
      ExpectRejected(v,
                     CraftUnsigned({{"alg", none}, {"typ", "JWT"}}, GoodPayload()),
                     "unexpected algorithm");
      ExpectRejected(v,
                     CraftUnsigned({{"alg", none}}, GoodPayload(), "c2ln"),
                     "unexpected algorithm");
    }
    // Not even two dots.
    ExpectRejected(v,
                   B64Url(R"({"alg":"none"})") + "." + B64Url(GoodPayload().dump()),
                   "malformed token");
  }
}

TEST(JwtVerifierTest, RejectsHs256SignedWithThePublicKey) {
  // The classic algorithm confusion: an attacker HMACs a token with the
  // (public) verification key and claims HS256.
  struct Case {
    Algorithm alg;
    std::string public_pem;
  };
  for (const Case& c :
       {Case{Algorithm::kRS256, Rsa().public_pem}, Case{Algorithm::kES256, Ec().public_pem}}) {
    SCOPED_TRACE(std::string(AlgorithmName(c.alg)));
    JwtVerifier v(Config(c.alg, c.public_pem));
    json payload = GoodPayload();
    payload["roles"] = {"admin"};
    ExpectRejected(v,
                   CraftHs256({{"alg", "HS256"}, {"typ", "JWT"}}, payload, c.public_pem),
                   "unexpected algorithm");
    // Even when the header lies about the algorithm, the configured one is used.
    ExpectRejected(
        v,
        CraftHs256({{"alg", AlgorithmName(c.alg)}, {"typ", "JWT"}}, payload, c.public_pem),
        "signature invalid");
  }
}

TEST(JwtVerifierTest, RejectsAnyAlgorithmOtherThanTheConfiguredOne) {
  const std::vector<AlgSetup> setups = AllSetups();
  for (const AlgSetup& verifier_setup : setups) {
    JwtVerifier v(Config(verifier_setup.alg, verifier_setup.verify_key));
    for (const AlgSetup& signer_setup : setups) {
      if (signer_setup.alg == verifier_setup.alg) continue;
      SCOPED_TRACE(std::string(AlgorithmName(signer_setup.alg)) + " token, " +
                   std::string(AlgorithmName(verifier_setup.alg)) + " verifier");
      JwtSigner signer(Config(signer_setup.alg, signer_setup.sign_key));
      ExpectRejected(v, signer.Sign(GoodClaims()), "unexpected algorithm");
    }
    // Case and family variants of the configured name.
    std::string lower(AlgorithmName(verifier_setup.alg));
    for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
    for (const std::string& alg : {lower,
                                   std::string("HS512"),
                                   std::string("RS384"),
                                   std::string("PS256"),
                                   std::string("ES256K"),
                                   std::string("")}) {
      if (alg == AlgorithmName(verifier_setup.alg)) continue;
      ExpectRejected(v, CraftHs256({{"alg", alg}}, GoodPayload(), kSecret), "unexpected algorithm");
    }
  }
}

TEST(JwtVerifierTest, RejectsWrongKey) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    JwtSigner other(Config(s.alg, s.other_sign_key));
    ExpectRejected(v, other.Sign(GoodClaims()), "signature invalid");
  }
}

TEST(JwtVerifierTest, RejectsFlippedSignatureBits) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    JwtSigner signer(Config(s.alg, s.sign_key));
    const std::string token = signer.Sign(GoodClaims());
    ASSERT_TRUE(v.Verify(token, kNow).ok);
    const std::vector<std::string> parts = Split(token);
    const std::string sig = B64UrlDecode(parts[2]);
    // Every bit of the first and last bytes, and one bit in every byte.
    std::set<size_t> bits;
    for (size_t b = 0; b < 8; ++b) bits.insert(b), bits.insert((sig.size() - 1) * 8 + b);
    for (size_t byte = 0; byte < sig.size(); ++byte) bits.insert(byte * 8 + byte % 8);
    for (size_t bit : bits) {
      std::string flipped = sig;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      ExpectRejected(v, parts[0] + "." + parts[1] + "." + B64Url(flipped), "signature invalid");
    }
    // Changing the unused low bits of the last base64 character (same bytes
    // for a lax decoder) is refused too.
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int low_bit = 0; low_bit < 2; ++low_bit) {
      std::string text = parts[2];
      const size_t value = std::string_view(kAlphabet).find(text.back());
      ASSERT_NE(value, std::string::npos);
      text.back() = kAlphabet[value ^ (1u << low_bit)];
      ExpectRejected(v, parts[0] + "." + parts[1] + "." + text, "signature invalid");
    }
    // Truncated and empty signatures.
    ExpectRejected(v,
                   parts[0] + "." + parts[1] + "." + parts[2].substr(0, parts[2].size() / 2),
                   "signature invalid");
    ExpectRejected(v, parts[0] + "." + parts[1] + ".", "signature invalid");
  }
}

TEST(JwtVerifierTest, RejectsTamperedPayloadAndHeader) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(GoodClaims());
    const std::vector<std::string> parts = Split(token);
    json payload = PayloadOf(token);
    payload["roles"] = {"admin"};
    ExpectRejected(v,
                   parts[0] + "." + B64Url(payload.dump()) + "." + parts[2],
                   "signature invalid");
    json header = HeaderOf(token);
    header["kid"] = "x";
    ExpectRejected(v, B64Url(header.dump()) + "." + parts[1] + "." + parts[2], "signature invalid");
  }
}

TEST(JwtVerifierTest, RejectsExpired) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    TokenClaims c = GoodClaims();
    c.issued_at = kNow - seconds(3600);
    c.ttl = seconds(900);
    ExpectRejected(v, JwtSigner(Config(s.alg, s.sign_key)).Sign(c), "token expired");
  }
}

TEST(JwtVerifierTest, RejectsNotYetValid) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    TokenClaims c = GoodClaims();
    c.not_before = kNow + seconds(300);
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(c);
    ExpectRejected(v, token, "token not yet valid");
    EXPECT_TRUE(v.Verify(token, kNow + seconds(300)).ok);
  }
}

TEST(JwtVerifierTest, RejectsWrongAudience) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    JwtConfig other = Config(s.alg, s.sign_key);
    other.audience = "billing";
    ExpectRejected(v, JwtSigner(other).Sign(GoodClaims()), "audience mismatch");
    other.audience = "";  // no aud at all
    ExpectRejected(v, JwtSigner(other).Sign(GoodClaims()), "audience mismatch");
  }
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  json payload = GoodPayload();
  for (const json& aud : {json::array({"billing", "orders"}),
                          json::array(),
                          json(42),
                          json(nullptr),
                          json("COMMERCE"),
                          json::array({json::array({kAudience})})}) {
    payload["aud"] = aud;
    ExpectRejected(v, CraftHs256({{"alg", "HS256"}}, payload, kSecret), "audience mismatch");
  }
}

TEST(JwtVerifierTest, RejectsWrongIssuer) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key));
    JwtConfig other = Config(s.alg, s.sign_key);
    other.issuer = "https://evil.test";
    ExpectRejected(v, JwtSigner(other).Sign(GoodClaims()), "issuer mismatch");
    other.issuer = "";  // no iss at all
    ExpectRejected(v, JwtSigner(other).Sign(GoodClaims()), "issuer mismatch");
  }
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  json payload = GoodPayload();
  payload["iss"] = json::array({kIssuer});
  ExpectRejected(v, CraftHs256({{"alg", "HS256"}}, payload, kSecret), "issuer mismatch");
}

TEST(JwtVerifierTest, RejectsRevokedJti) {
  auto revoked = std::make_shared<RevocationList>();
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier v(Config(s.alg, s.verify_key), revoked);
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(GoodClaims());
    revoked->Replace({});
    ASSERT_TRUE(v.Verify(token, kNow).ok);
    // The list is shared: a revocation after construction is seen.
    revoked->Revoke("tok-1");
    ExpectRejected(v, token, "token revoked");
    // A refresh that no longer lists it lets it through again.
    revoked->Replace({"something-else"});
    EXPECT_TRUE(v.Verify(token, kNow).ok);
    revoked->Replace({"a", "tok-1", "b"});
    ExpectRejected(v, token, "token revoked");
  }
}

// A verified token is remembered; the claims that depend on time and the
// revocation list must still be checked on every call, and a token that
// differs in one byte must not be served from the memory.
TEST(JwtVerifierTest, RememberedTokensAreStillCheckedEveryTime) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    auto revoked = std::make_shared<RevocationList>();
    JwtVerifier v(Config(s.alg, s.verify_key), revoked);
    TokenClaims c = GoodClaims();
    c.not_before = kNow - seconds(10);
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(c);
    ASSERT_TRUE(v.Verify(token, kNow).ok);
    VerifyResult again = v.Verify(token, kNow);
    ASSERT_TRUE(again.ok);
    EXPECT_EQ(again.caller.subject, c.subject);
    EXPECT_EQ(again.caller.roles, c.roles);
    EXPECT_EQ(again.caller.token_id, "tok-1");
    ExpectRejected(v, token, "token expired", kNow + c.ttl + seconds(120));
    ExpectRejected(v, token, "token not yet valid", kNow - seconds(120));
    revoked->Revoke("tok-1");
    ExpectRejected(v, token, "token revoked");
    revoked->Replace({});
    std::string flipped = token;
    char& first = flipped[flipped.rfind('.') + 1];  // all six bits count
    first = first == 'A' ? 'B' : 'A';
    ExpectRejected(v, flipped, "signature invalid");
    EXPECT_TRUE(v.Verify(token, kNow).ok);
  }
}

// A thread remembers the tokens it verified last; what one verifier
// remembered must not pass another with different settings.
TEST(JwtVerifierTest, RememberedTokensCountOnlyForTheirOwnVerifier) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    JwtVerifier ours(Config(s.alg, s.verify_key));
    JwtConfig billing_config = Config(s.alg, s.verify_key);
    billing_config.audience = "billing";
    JwtVerifier billing(billing_config);
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(GoodClaims());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(ours.Verify(token, kNow).ok);
    ExpectRejected(billing, token, "audience mismatch");
    // A verifier made later, perhaps at the same address, starts afresh.
    auto later = std::make_unique<JwtVerifier>(billing_config);
    ExpectRejected(*later, token, "audience mismatch");
    EXPECT_TRUE(ours.Verify(token, kNow).ok);
  }
}

// More tokens than a thread remembers, in turn: each keeps its own caller.
TEST(JwtVerifierTest, ManyRememberedTokensKeepTheirOwnCallers) {
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  JwtSigner signer(Config(Algorithm::kHS256, kSecret));
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i) {
    TokenClaims c = GoodClaims();
    c.subject = "user-" + std::to_string(i);
    c.token_id = "tok-" + std::to_string(i);
    c.roles = {i % 2 == 0 ? "customer" : "admin"};
    tokens.push_back(signer.Sign(c));
  }
  for (int round = 0; round < 4; ++round) {
    for (int step = 0; step < 10; ++step) {
      // Rounds visit the tokens in different orders: 0..9, then by 3s.
      const int i = round % 2 == 0 ? step : (step * 3) % 10;
      VerifyResult r = v.Verify(tokens[static_cast<size_t>(i)], kNow);
      ASSERT_TRUE(r.ok) << r.reason;
      EXPECT_EQ(r.caller.subject, "user-" + std::to_string(i));
      EXPECT_EQ(r.caller.token_id, "tok-" + std::to_string(i));
      EXPECT_EQ(r.caller.roles, std::vector<std::string>{i % 2 == 0 ? "customer" : "admin"});
    }
  }
}

// What the server uses per call: the same verdicts as Verify, and the
// caller with its token shared rather than copied.
TEST(JwtVerifierTest, AuthenticateSharesTheCallerAndItsToken) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    auto revoked = std::make_shared<RevocationList>();
    JwtVerifier v(Config(s.alg, s.verify_key), revoked);
    const TokenClaims c = GoodClaims();
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(c);
    Authenticated first = v.Authenticate(token, kNow);
    ASSERT_TRUE(first.ok()) << first.reason;
    EXPECT_EQ(first.credentials->bearer_token, token);
    EXPECT_EQ(first.credentials->caller.subject, c.subject);
    EXPECT_EQ(first.credentials->caller.roles, c.roles);
    EXPECT_EQ(first.credentials->caller.token_id, "tok-1");
    // Remembered: later calls on this thread share one copy.
    Authenticated second = v.Authenticate(token, kNow);
    Authenticated third = v.Authenticate(token, kNow);
    ASSERT_TRUE(second.ok() && third.ok());
    EXPECT_EQ(second.credentials, third.credentials);
    EXPECT_EQ(second.credentials->bearer_token, token);
    EXPECT_EQ(second.credentials->caller.subject, c.subject);
    // Another thread gets its own copy, with the same contents.
    std::shared_ptr<const Credentials> elsewhere;
    std::thread([&] { elsewhere = v.Authenticate(token, kNow).credentials; }).join();
    ASSERT_NE(elsewhere, nullptr);
    EXPECT_EQ(elsewhere->bearer_token, token);
    EXPECT_EQ(elsewhere->caller.token_id, "tok-1");
    // Refusals carry a reason and no credentials, remembered or not.
    Authenticated expired = v.Authenticate(token, kNow + c.ttl + seconds(120));
    EXPECT_FALSE(expired.ok());
    EXPECT_EQ(expired.credentials, nullptr);
    EXPECT_EQ(expired.reason, "token expired");
    revoked->Revoke("tok-1");
    Authenticated revoked_result = v.Authenticate(token, kNow);
    EXPECT_FALSE(revoked_result.ok());
    EXPECT_EQ(revoked_result.reason, "token revoked");
    Authenticated garbage = v.Authenticate("a.b.c", kNow);
    EXPECT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.reason, v.Verify("a.b.c", kNow).reason);
  }
}

TEST(JwtVerifierTest, RejectsGarbage) {
  JwtVerifier v(Config(Algorithm::kRS256, Rsa().public_pem));
  const std::string good =
      JwtSigner(Config(Algorithm::kRS256, Rsa().private_pem)).Sign(GoodClaims());
  const std::vector<std::string> parts = Split(good);
  ExpectRejected(v, "", "missing token");
  ExpectRejected(v, std::string(100000, 'a'), "token too large");
  for (const std::string& garbage : std::vector<std::string>{
           "garbage",
           "Bearer " + good,
           " " + good,
           good + " ",
           good + ".",
           "." + good,
           "a.b",
           "a.b.c.d",
           "...",
           "..",
           "!!!.###.$$$",
           "eyJ.eyJ.sig",
           parts[0] + "=." + parts[1] + "." + parts[2],
           parts[0] + "." + parts[1] + "=." + parts[2],
           parts[0] + ".." + parts[2],
           "." + parts[1] + "." + parts[2],
           B64Url("not json") + "." + parts[1] + "." + parts[2],
           B64Url("[1,2,3]") + "." + parts[1] + "." + parts[2],
           B64Url("{}") + "." + parts[1] + "." + parts[2],
           B64Url(R"({"alg":42})") + "." + parts[1] + "." + parts[2],
           B64Url(R"({"alg":["RS256"]})") + "." + parts[1] + "." + parts[2],
           B64Url(R"({"alg":"RS256","typ":"JWE"})") + "." + parts[1] + "." + parts[2],
           B64Url(R"({"alg":"RS256","typ":7})") + "." + parts[1] + "." + parts[2],
           B64Url(R"({"alg":"RS256")") + "." + parts[1] + "." + parts[2],
           std::string("\xff\xfe\x00.\x01.\x02", 7),
       }) {
    SCOPED_TRACE(garbage.substr(0, 60));
    ExpectRejected(v, garbage, "malformed token");
  }
}

TEST(JwtVerifierTest, RejectsGarbagePayloadSignedWithTheRightKey) {
  // Signed correctly, but the payload is not a claims object.
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  const std::string header = B64Url(R"({"alg":"HS256","typ":"JWT"})");
  for (const std::string& payload : {std::string("not json"),
                                     std::string("[1]"),
                                     std::string("\"str\""),
                                     std::string("{\"exp\":"),
                                     std::string("")}) {
    SCOPED_TRACE(payload);
    const std::string input = header + "." + B64Url(payload);
    const std::string token = input + "." + B64Url(HmacSha256(kSecret, input));
    VerifyResult r = v.Verify(token, kNow);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reason, "malformed token");
  }
}

TEST(JwtVerifierTest, RejectsMissingOrMistypedClaims) {
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  const json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  auto with = [&](const char* claim, const json& value) {
    json p = GoodPayload();
    p[claim] = value;
    return CraftHs256(header, p, kSecret);
  };
  auto without = [&](const char* claim) {
    json p = GoodPayload();
    p.erase(claim);
    return CraftHs256(header, p, kSecret);
  };
  ExpectRejected(v, without("sub"), "missing subject");
  ExpectRejected(v, with("sub", ""), "missing subject");
  ExpectRejected(v, with("sub", 42), "missing subject");
  ExpectRejected(v, without("exp"), "missing expiry");
  ExpectRejected(v, with("exp", "1893456600"), "malformed token");
  ExpectRejected(v, with("nbf", "soon"), "malformed token");
  ExpectRejected(v, with("iat", "now"), "malformed token");
  ExpectRejected(v, with("roles", "admin"), "invalid roles claim");
  ExpectRejected(v, with("roles", json::array({"customer", 1})), "invalid roles claim");
  ExpectRejected(v, with("jti", 7), "malformed token");
  ExpectRejected(v, without("iss"), "issuer mismatch");
  ExpectRejected(v, without("aud"), "audience mismatch");
  // Beyond int64 seconds no clock reaches: malformed, not "valid forever".
  ExpectRejected(v, with("exp", 1e19), "malformed token");
  ExpectRejected(v, with("exp", 9223372036854775807.0), "malformed token");
  ExpectRejected(v, with("nbf", -1e300), "malformed token");
  // Fractional NumericDate is fine.
  EXPECT_TRUE(v.Verify(with("exp", 1893456000.5), kNow).ok);
  ExpectRejected(v, with("exp", 1893456000.0 - 30.5), "token expired");
}

TEST(JwtVerifierTest, RejectsCriticalHeader) {
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  ExpectRejected(
      v,
      CraftHs256({{"alg", "HS256"}, {"crit", {"b64"}}, {"b64", false}}, GoodPayload(), kSecret),
      "unsupported critical header");
}

// --- leeway ---------------------------------------------------------------------------

TEST(JwtVerifierTest, LeewayOnExpiry) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    TokenClaims c = GoodClaims();
    c.issued_at = kNow - seconds(920);
    c.ttl = seconds(900);  // expired 20 s before kNow
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(c);
    EXPECT_TRUE(JwtVerifier(Config(s.alg, s.verify_key, seconds(30))).Verify(token, kNow).ok);
    EXPECT_TRUE(JwtVerifier(Config(s.alg, s.verify_key, seconds(60))).Verify(token, kNow).ok);
    ExpectRejected(JwtVerifier(Config(s.alg, s.verify_key, seconds(10))), token, "token expired");
    ExpectRejected(JwtVerifier(Config(s.alg, s.verify_key, seconds(0))), token, "token expired");
    // Boundary: exp + leeway == now is expired.
    ExpectRejected(JwtVerifier(Config(s.alg, s.verify_key, seconds(20))), token, "token expired");
    EXPECT_TRUE(
        JwtVerifier(Config(s.alg, s.verify_key, seconds(20))).Verify(token, kNow - seconds(1)).ok);
  }
}

TEST(JwtVerifierTest, LeewayOnNotBefore) {
  TokenClaims c = GoodClaims();
  c.not_before = kNow + seconds(20);
  const std::string token = JwtSigner(Config(Algorithm::kHS256, kSecret)).Sign(c);
  EXPECT_TRUE(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(30))).Verify(token, kNow).ok);
  EXPECT_TRUE(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(20))).Verify(token, kNow).ok);
  ExpectRejected(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(10))),
                 token,
                 "token not yet valid");
  EXPECT_TRUE(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(0)))
                  .Verify(token, kNow + seconds(20))
                  .ok);
}

// --- configuration -------------------------------------------------------------------

std::string InvalidArgumentMessage(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (...) {
    ADD_FAILURE() << "threw something other than std::invalid_argument";
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

TEST(JwtVerifierTest, ConstructorRejectsUnusableConfig) {
  // Leeway is capped at 60 s.
  EXPECT_NO_THROW(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(60))));
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(61))), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kRS256, Rsa().public_pem, seconds(61))),
               std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(3600))),
               std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(-1))), std::invalid_argument);

  // Empty keys.
  for (Algorithm alg : {Algorithm::kHS256, Algorithm::kRS256, Algorithm::kES256}) {
    EXPECT_THROW(JwtVerifier(Config(alg, "")), std::invalid_argument) << AlgorithmName(alg);
    EXPECT_THROW(JwtSigner(Config(alg, "")), std::invalid_argument) << AlgorithmName(alg);
  }
  // Unparsable / wrong kind of PEM.
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kRS256, "not a pem")), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kES256,
                                  "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")),
               std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kRS256, Rsa().private_pem)), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kRS256, Ec().public_pem)), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kES256, Rsa().public_pem)), std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kES256, NewEc("P-384").public_pem)),
               std::invalid_argument);
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kRS256, NewRsa(1024).public_pem)),
               std::invalid_argument);
  // A PEM as the HMAC secret is the algorithm-confusion setup.
  EXPECT_THROW(JwtVerifier(Config(Algorithm::kHS256, Rsa().public_pem)), std::invalid_argument);
  // iss and aud are required, so they must be configured.
  JwtConfig no_issuer = Config(Algorithm::kHS256, kSecret);
  no_issuer.issuer.clear();
  EXPECT_THROW(JwtVerifier{no_issuer}, std::invalid_argument);
  JwtConfig no_audience = Config(Algorithm::kHS256, kSecret);
  no_audience.audience.clear();
  EXPECT_THROW(JwtVerifier{no_audience}, std::invalid_argument);
}

TEST(JwtVerifierTest, ConfigErrorsDoNotLeakKeys) {
  const std::vector<std::function<void()>> cases = {
      [] { JwtVerifier(Config(Algorithm::kHS256, kSecret, seconds(61))); },
      [] { JwtVerifier(Config(Algorithm::kRS256, Rsa().private_pem)); },
      [] { JwtVerifier(Config(Algorithm::kES256, Rsa().public_pem)); },
      [] { JwtVerifier(Config(Algorithm::kHS256, Ec().public_pem)); },
      [] { JwtSigner(Config(Algorithm::kRS256, Rsa().public_pem)); },
      [] { JwtSigner(Config(Algorithm::kES256, Rsa().private_pem)); },
      [] { JwtVerifier(Config(Algorithm::kRS256, Rsa().public_pem.substr(0, 200))); },
  };
  for (const auto& f : cases) {
    const std::string message = InvalidArgumentMessage(f);
    EXPECT_FALSE(message.empty());
    ExpectNoKeyMaterial(message);
  }
}

TEST(JwtSignerTest, RejectsUnusableKeys) {
  EXPECT_THROW(JwtSigner(Config(Algorithm::kRS256, Rsa().public_pem)), std::invalid_argument);
  EXPECT_THROW(JwtSigner(Config(Algorithm::kES256, Ec().public_pem)), std::invalid_argument);
  EXPECT_THROW(JwtSigner(Config(Algorithm::kRS256, Ec().private_pem)), std::invalid_argument);
  EXPECT_THROW(JwtSigner(Config(Algorithm::kES256, Rsa().private_pem)), std::invalid_argument);
  EXPECT_THROW(JwtSigner(Config(Algorithm::kHS256, Rsa().private_pem)), std::invalid_argument);
  EXPECT_THROW(JwtSigner(Config(Algorithm::kRS256, "garbage")), std::invalid_argument);
  // A passphrase-protected key is refused (no prompt on the terminal).
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  static const char kPass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio,
                                     key,
                                     EVP_aes_256_cbc(),
                                     nullptr,
                                     0,
                                     nullptr,
                                     const_cast<char*>(kPass)),
            1);
  const std::string encrypted = BioToString(bio);
  BIO_free(bio);
  EVP_PKEY_free(key);
  EXPECT_THROW(JwtSigner(Config(Algorithm::kES256, encrypted)), std::invalid_argument);
}

// --- signer --------------------------------------------------------------------------

TEST(JwtSignerTest, SetsAllClaims) {
  for (const AlgSetup& s : AllSetups()) {
    SCOPED_TRACE(std::string(AlgorithmName(s.alg)));
    TokenClaims c = GoodClaims();
    c.not_before = kNow - seconds(5);
    const std::string token = JwtSigner(Config(s.alg, s.sign_key)).Sign(c);
    const json header = HeaderOf(token);
    EXPECT_EQ(header.at("alg"), AlgorithmName(s.alg));
    EXPECT_EQ(header.at("typ"), "JWT");
    const json p = PayloadOf(token);
    const int64_t iat = std::chrono::duration_cast<seconds>(c.issued_at.time_since_epoch()).count();
    EXPECT_EQ(p.at("iss"), kIssuer);
    EXPECT_EQ(p.at("aud"), kAudience);
    EXPECT_EQ(p.at("sub"), "user-42");
    EXPECT_EQ(p.at("roles"), json::array({"customer", "support"}));
    EXPECT_EQ(p.at("jti"), "tok-1");
    EXPECT_EQ(p.at("iat").get<int64_t>(), iat);
    EXPECT_EQ(p.at("exp").get<int64_t>(), iat + 900);
    EXPECT_EQ(p.at("nbf").get<int64_t>(), iat + 55);
  }
}

TEST(JwtSignerTest, OmitsNbfAndGeneratesJti) {
  JwtSigner signer(Config(Algorithm::kHS256, kSecret));
  TokenClaims c = GoodClaims();
  c.token_id.clear();
  c.roles.clear();
  std::set<std::string> jtis;
  for (int i = 0; i < 50; ++i) {
    const json p = PayloadOf(signer.Sign(c));
    EXPECT_FALSE(p.contains("nbf"));
    EXPECT_EQ(p.at("roles"), json::array());
    const std::string jti = p.at("jti");
    EXPECT_EQ(jti.size(), 32u);  // 128 bits in hex
    EXPECT_EQ(jti.find_first_not_of("0123456789abcdef"), std::string::npos) << jti;
    jtis.insert(jti);
  }
  EXPECT_EQ(jtis.size(), 50u);
  // The generated jti is what the verifier reports.
  JwtVerifier v(Config(Algorithm::kHS256, kSecret));
  const std::string token = signer.Sign(c);
  VerifyResult r = v.Verify(token, kNow);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.caller.token_id, PayloadOf(token).at("jti"));
}

// --- messages ------------------------------------------------------------------------

TEST(JwtVerifierTest, ReasonsNeverContainKeyMaterial) {
  // Every reason produced for a broad set of bad tokens, against every
  // verifier, is a short fixed phrase.
  const std::set<std::string> known = {"missing token",
                                       "token too large",
                                       "malformed token",
                                       "unexpected algorithm",
                                       "signature invalid",
                                       "token expired",
                                       "missing expiry",
                                       "token not yet valid",
                                       "issuer mismatch",
                                       "audience mismatch",
                                       "missing subject",
                                       "invalid roles claim",
                                       "token revoked",
                                       "unsupported critical header"};
  auto revoked = std::make_shared<RevocationList>();
  revoked->Revoke("tok-1");
  revoked->Revoke("jti-crafted");
  std::set<std::string> seen;
  for (const AlgSetup& vs : AllSetups()) {
    JwtVerifier v(Config(vs.alg, vs.verify_key), revoked);
    std::vector<std::string> tokens = {"",
                                       "garbage",
                                       "a.b.c",
                                       CraftUnsigned({{"alg", "none"}}, GoodPayload())};
    for (const AlgSetup& ss : AllSetups()) {
      tokens.push_back(JwtSigner(Config(ss.alg, ss.sign_key)).Sign(GoodClaims()));  // revoked
      tokens.push_back(
          JwtSigner(Config(ss.alg, ss.other_sign_key)).Sign(GoodClaims()));  // wrong key
      tokens.push_back(CraftHs256({{"alg", AlgorithmName(ss.alg)}}, GoodPayload(), vs.verify_key));
    }
    for (const std::string& t : tokens) {
      for (Clock::time_point now : {kNow, kNow - seconds(100000), kNow + seconds(100000)}) {
        VerifyResult r = v.Verify(t, now);
        ASSERT_FALSE(r.ok);
        EXPECT_TRUE(known.count(r.reason)) << r.reason;
        EXPECT_LE(r.reason.size(), 40u);
        ExpectNoKeyMaterial(r.reason, t);
        seen.insert(r.reason);
      }
    }
  }
  EXPECT_GE(seen.size(), 5u);
}

// --- concurrency ---------------------------------------------------------------------

TEST(RevocationListTest, Basics) {
  RevocationList list;
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(list.IsRevoked("a"));
  list.Revoke("a");
  list.Revoke("a");
  EXPECT_TRUE(list.IsRevoked("a"));
  EXPECT_EQ(list.size(), 1u);
  list.Replace({"b", "c"});
  EXPECT_FALSE(list.IsRevoked("a"));
  EXPECT_TRUE(list.IsRevoked("b"));
  EXPECT_TRUE(list.IsRevoked("c"));
  EXPECT_EQ(list.size(), 2u);
  list.Replace({});
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(list.IsRevoked(""));
}

TEST(RevocationListTest, ConcurrentRefreshAndVerify) {
  auto revoked = std::make_shared<RevocationList>();
  JwtVerifier v(Config(Algorithm::kHS256, kSecret), revoked);
  JwtSigner signer(Config(Algorithm::kHS256, kSecret));
  TokenClaims good = GoodClaims();
  good.token_id = "good";
  TokenClaims bad = GoodClaims();
  bad.token_id = "bad";
  const std::string good_token = signer.Sign(good);
  const std::string bad_token = signer.Sign(bad);
  revoked->Revoke("bad");

  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread refresher([&] {
    for (int i = 0; !stop; ++i) {
      std::set<std::string> fresh = {"bad"};
      for (int j = 0; j < 20; ++j) fresh.insert("x" + std::to_string(i * 20 + j));
      revoked->Replace(std::move(fresh));
      revoked->Revoke("y" + std::to_string(i));
    }
  });
  std::vector<std::thread> verifiers;
  verifiers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    verifiers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        if (!v.Verify(good_token, kNow).ok) ++errors;
        VerifyResult r = v.Verify(bad_token, kNow);
        if (r.ok || r.reason != "token revoked") ++errors;
      }
    });
  }
  for (auto& t : verifiers) t.join();
  stop = true;
  refresher.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(revoked->IsRevoked("bad"));
}

}  // namespace
}  // namespace cppsvc::auth
