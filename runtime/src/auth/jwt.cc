// JWT verification and signing on top of cpp-jwt.
//
// Verification is done in a fixed order, and the token never chooses how it
// is checked:
//   1. structure: three non-empty, canonical base64url segments, bounded size;
//   2. header: `alg` must equal the configured algorithm exactly (so "none",
//      "None", "hs256", or HS256 against an RS256 verifier are refused before
//      any cryptography), `typ` if present is "JWT", no `crit`;
//   3. signature: checked with cpp-jwt's implementation of the *configured*
//      algorithm (pinned at compile time, never looked up from the header);
//   4. claims, parsed with jwt::decode (one pinned algorithm): exp (required),
//      nbf, iss, aud, sub, roles, jti, then revocation.
//
// cpp-jwt 1.4's own claim verification (jwt::decode with verify(true)) reads
// std::chrono::system_clock directly, so it cannot honour the `now` passed to
// Verify(); it also only accepts a string `aud` and has an unsigned underflow
// on `nbf - leeway`. The time and claim checks are therefore done here, on the
// payload cpp-jwt decoded, after the signature has been verified.
//
// Failure reasons are fixed phrases: never the key, the token or a library
// message.

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <jwt/jwt.hpp>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/limits.h"

namespace cppsvc::auth {
namespace {

using json = nlohmann::json;

// Larger tokens are refused before any parsing.
constexpr size_t kMaxTokenSize = limits::kMaxTokenBytes;
constexpr std::chrono::seconds kMaxLeeway{60};

// --- base64url (RFC 4648 §5, unpadded, canonical) --------------------------

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict decoding: only the base64url alphabet, no padding, no impossible
// length, and unused trailing bits must be zero, so that every byte string has
// exactly one accepted encoding (a changed character always changes the
// decoded bytes).
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = B64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1u)) != 0) return std::nullopt;
  return out;
}

// --- keys --------------------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Refuses passphrase-protected keys instead of prompting on the terminal.
int NoPassphrase(char*, int, int, void*) {
  return 0;
}

bool LooksLikePem(std::string_view key) {
  return key.find("-----BEGIN") != std::string_view::npos;
}

// Parses a PEM key (public or private) and checks that it fits `alg`:
// RSA of at least 2048 bits for RS256, EC on P-256 for ES256. The error
// message names the problem, never the key.
void CheckPemKey(Algorithm alg, const std::string& pem, bool private_key, const char* who) {
  const std::string prefix = std::string(who) + ": ";
  if (pem.size() > static_cast<size_t>(INT32_MAX)) {
    throw std::invalid_argument(prefix + "key too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::bad_alloc();
  PkeyPtr key(private_key ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr)
                          : PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    throw std::invalid_argument(prefix + (private_key ? "unparsable PEM private key (or encrypted)"
                                                      : "unparsable PEM public key"));
  }
  if (alg == Algorithm::kRS256) {
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
      throw std::invalid_argument(prefix + "RS256 needs an RSA key");
    }
    if (EVP_PKEY_get_bits(key.get()) < 2048) {
      throw std::invalid_argument(prefix + "RS256 needs an RSA key of at least 2048 bits");
    }
  } else {
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
      throw std::invalid_argument(prefix + "ES256 needs an EC key");
    }
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      ERR_clear_error();
      throw std::invalid_argument(prefix + "ES256 needs an EC key on P-256");
    }
  }
}

void CheckKey(Algorithm alg, const std::string& key, bool private_key, const char* who) {
  const std::string prefix = std::string(who) + ": ";
  if (key.empty()) throw std::invalid_argument(prefix + "empty key");
  if (alg == Algorithm::kHS256) {
    // A PEM as an HMAC secret is the algorithm-confusion setup (the public
    // key is public): refuse it as a misconfiguration.
    if (LooksLikePem(key))
      throw std::invalid_argument(prefix + "HS256 secret must not be a PEM key");
    return;
  }
  CheckPemKey(alg, key, private_key, who);
}

// --- verification helpers ------------------------------------------------------

Authenticated Fail(const char* reason) {
  Authenticated r;
  r.reason = reason;
  return r;
}

bool SignatureValid(Algorithm alg,
                    const std::string& key,
                    std::string_view signing_input,
                    std::string_view signature_b64) {
  const jwt::string_view input(signing_input.data(), signing_input.size());
  switch (alg) {
    case Algorithm::kHS256: {
      const std::optional<std::string> given = Base64UrlDecode(signature_b64);
      if (!given) return false;
      // cpp-jwt's HMAC verify compares strings with ==; compute the MAC with
      // it and compare in constant time instead.
      const jwt::sign_result_t mac = jwt::HMACSign<jwt::algo::HS256>::sign(key, input);
      if (mac.second || mac.first.size() != given->size() || mac.first.empty()) return false;
      return CRYPTO_memcmp(mac.first.data(), given->data(), given->size()) == 0;
    }
    case Algorithm::kRS256: {
      const jwt::verify_result_t res = jwt::PEMSign<jwt::algo::RS256>::verify(
          key,
          input,
          jwt::string_view(signature_b64.data(), signature_b64.size()));
      ERR_clear_error();
      return !res.second && res.first;
    }
    case Algorithm::kES256: {
      const jwt::verify_result_t res = jwt::PEMSign<jwt::algo::ES256>::verify(
          key,
          input,
          jwt::string_view(signature_b64.data(), signature_b64.size()));
      ERR_clear_error();
      return !res.second && res.first;
    }
  }
  return false;
}

jwt::algorithm ToCppJwt(Algorithm alg) {
  switch (alg) {
    case Algorithm::kHS256:
      return jwt::algorithm::HS256;
    case Algorithm::kRS256:
      return jwt::algorithm::RS256;
    case Algorithm::kES256:
      return jwt::algorithm::ES256;
  }
  return jwt::algorithm::UNKN;
}

// A NumericDate claim as seconds since the epoch (integer or fractional).
std::optional<double> NumericDate(const json& v) {
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  // Beyond int64 seconds no clock can reach it: such a date is malformed.
  constexpr double kInt64Seconds = 9223372036854775807.0;
  if (!std::isfinite(d) || std::fabs(d) >= kInt64Seconds) return std::nullopt;
  return d;
}

double Seconds(Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

int64_t WholeSeconds(Clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string RandomTokenId() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    ERR_clear_error();
    throw std::runtime_error("jwt signer: no randomness for jti");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0F]);
  }
  return out;
}

// --- the steps of a full check ---------------------------------------------------
// Each returns the reason a token is refused, or null when it passes.

// The segments of header.payload.signature, as they appear in the token.
struct TokenParts {
  std::string_view header_b64;
  std::string_view payload_b64;
  std::string_view signature_b64;
  std::string_view signing_input;  // header.payload
};

// 1. Structure: three segments, only the base64url alphabet anywhere (no
//    padding, spaces, "Bearer ").
const char* SplitToken(std::string_view token, TokenParts& parts) {
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return "malformed token";
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return "malformed token";
  if (token.find('.', dot2 + 1) != std::string_view::npos) return "malformed token";
  parts.header_b64 = token.substr(0, dot1);
  parts.payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  parts.signature_b64 = token.substr(dot2 + 1);
  parts.signing_input = token.substr(0, dot2);
  for (char c : token) {
    if (c != '.' && B64Value(c) < 0) return "malformed token";
  }
  return nullptr;
}

// 2. Header, checked before anything else so that "none" and algorithm
//    confusion are refused as such.
const char* CheckHeader(std::string_view header_b64, Algorithm algorithm) {
  const std::optional<std::string> header_raw = Base64UrlDecode(header_b64);
  if (!header_raw || header_raw->empty()) return "malformed token";
  const json header = json::parse(*header_raw, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return "malformed token";
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return "malformed token";
  if (alg->get_ref<const std::string&>() != AlgorithmName(algorithm)) {
    return "unexpected algorithm";
  }
  if (const auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string()) return "malformed token";
    const std::string& t = typ->get_ref<const std::string&>();
    if (t.size() != 3 || (t[0] | 0x20) != 'j' || (t[1] | 0x20) != 'w' || (t[2] | 0x20) != 't') {
      return "malformed token";
    }
  }
  // No extension is understood, so a critical one can't be honoured.
  if (header.contains("crit")) return "unsupported critical header";
  return nullptr;
}

// 3. Signature, with the configured algorithm only (the payload must decode
//    first).
const char* CheckSignature(const TokenParts& parts, Algorithm algorithm, const std::string& key) {
  if (parts.payload_b64.empty() || !Base64UrlDecode(parts.payload_b64)) return "malformed token";
  if (parts.signature_b64.empty()) return "signature invalid";
  if (!Base64UrlDecode(parts.signature_b64)) return "signature invalid";
  if (!SignatureValid(algorithm, key, parts.signing_input, parts.signature_b64)) {
    return "signature invalid";
  }
  return nullptr;
}

// The time claims of a token that passed, kept to check them again on
// every later call with the same token.
struct TimeClaims {
  double exp_s = 0;
  std::optional<double> nbf_s;
  std::optional<double> iat_s;
};

// exp (required), nbf and iat, against `now` with `leeway`.
const char* CheckTimes(const json& claims, double now_s, double leeway_s, TimeClaims& times) {
  const auto exp = claims.find("exp");
  if (exp == claims.end()) return "missing expiry";
  const std::optional<double> exp_s = NumericDate(*exp);
  if (!exp_s) return "malformed token";
  if (now_s >= *exp_s + leeway_s) return "token expired";
  times.exp_s = *exp_s;
  if (const auto nbf = claims.find("nbf"); nbf != claims.end()) {
    times.nbf_s = NumericDate(*nbf);
    if (!times.nbf_s) return "malformed token";
    if (now_s + leeway_s < *times.nbf_s) return "token not yet valid";
  }
  if (const auto iat = claims.find("iat"); iat != claims.end()) {
    times.iat_s = NumericDate(*iat);
    if (!times.iat_s) return "malformed token";
  }
  return nullptr;
}

// iss, then aud (a string or an array holding the audience).
const char* CheckIssuerAndAudience(const json& claims, const JwtConfig& config) {
  const auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() ||
      iss->get_ref<const std::string&>() != config.issuer) {
    return "issuer mismatch";
  }
  const auto aud = claims.find("aud");
  bool aud_ok = false;
  if (aud != claims.end()) {
    if (aud->is_string()) {
      aud_ok = aud->get_ref<const std::string&>() == config.audience;
    } else if (aud->is_array()) {
      for (const json& a : *aud) {
        if (a.is_string() && a.get_ref<const std::string&>() == config.audience) aud_ok = true;
      }
    }
  }
  return aud_ok ? nullptr : "audience mismatch";
}

// sub (required), roles and jti.
const char* ReadCaller(const json& claims, bool require_jti, Caller& caller) {
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
    return "missing subject";
  }
  caller.subject = sub->get<std::string>();
  if (const auto roles = claims.find("roles"); roles != claims.end()) {
    if (!roles->is_array()) return "invalid roles claim";
    for (const json& r : *roles) {
      if (!r.is_string()) return "invalid roles claim";
      caller.roles.push_back(r.get<std::string>());
    }
  }
  if (const auto jti = claims.find("jti"); jti != claims.end()) {
    if (!jti->is_string()) return "malformed token";
    caller.token_id = jti->get<std::string>();
  }
  if (caller.token_id.empty() && require_jti) {
    return "token has no jti, so it could not be revoked";
  }
  return nullptr;
}

}  // namespace

bool ParseAlgorithm(std::string_view name, Algorithm& out) {
  if (name == "HS256") {
    out = Algorithm::kHS256;
  } else if (name == "RS256") {
    out = Algorithm::kRS256;
  } else if (name == "ES256") {
    out = Algorithm::kES256;
  } else {
    return false;
  }
  return true;
}

std::string_view AlgorithmName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "unknown";
}

// --- JwtVerifier -------------------------------------------------------------------

// Verified tokens by their exact bytes. Sharded so concurrent calls rarely
// share a lock; a full shard forgets an arbitrary entry.
struct JwtVerifier::Cache {
  struct Entry {
    std::shared_ptr<const Credentials> credentials;
    TimeClaims times;
  };
  // A token's hash, computed once per lookup: it picks the shard and the
  // bucket. Lookups take a view of the token, so it is not copied.
  struct Key {
    std::string token;
    size_t hash;
  };
  struct Probe {
    std::string_view token;
    size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const Key& k) const { return k.hash; }
    size_t operator()(const Probe& p) const { return p.hash; }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const { return a.token == b.token; }
    bool operator()(const Probe& a, const Key& b) const { return a.token == b.token; }
    bool operator()(const Key& a, const Probe& b) const { return a.token == b.token; }
  };
  struct alignas(64) Shard {
    std::mutex mu;
    std::unordered_map<Key, Entry, Hash, Equal> entries;
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kPerShard = 1024;
  std::array<Shard, kShards> shards;

  // Tells this cache's entries apart from other verifiers' in the
  // per-thread front (ids are never reused, unlike addresses).
  const uint64_t id = NextId();
  static uint64_t NextId() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  // Each thread first looks in its own few most recent tokens: a hit there
  // writes nothing shared (no lock, no cache line passed between cores).
  // A front entry's credentials are its own copy: the reference counts
  // that calls presenting the token change stay on this thread's cache
  // lines too.
  struct FrontEntry {
    uint64_t cache_id = 0;  // 0: empty
    Entry entry;
  };
  static constexpr size_t kFront = 4;
  struct Front {
    std::array<FrontEntry, kFront> entries;
    size_t next = 0;  // the slot the next miss replaces
  };
  static Front& ThisThreadsFront() {
    thread_local Front front;
    return front;
  }
  const Entry* FindInFront(std::string_view token) const {
    for (const FrontEntry& e : ThisThreadsFront().entries) {
      if (e.cache_id == id && e.entry.credentials->bearer_token == token) return &e.entry;
    }
    return nullptr;
  }
  // Puts a copy of an entry found in the shared cache in this thread's
  // front (in place of the oldest) and returns it there.
  const Entry* KeepInFront(const Entry& shared) const {
    Front& front = ThisThreadsFront();
    FrontEntry& slot = front.entries[front.next];
    front.next = (front.next + 1) % kFront;
    slot.cache_id = id;
    slot.entry = shared;
    slot.entry.credentials = std::make_shared<const Credentials>(*shared.credentials);
    return &slot.entry;
  }

  static Probe ProbeFor(std::string_view token) {
    return {token, std::hash<std::string_view>{}(token)};
  }
  Shard& For(const Probe& probe) { return shards[probe.hash % kShards]; }

  // The entry of `token` in this thread's front, else in the shared cache
  // (then copied to the front); null when the token is not remembered.
  const Entry* Find(std::string_view token) {
    if (const Entry* hit = FindInFront(token)) return hit;
    const Probe probe = ProbeFor(token);
    std::optional<Entry> shared_hit;
    {
      Shard& shard = For(probe);
      std::lock_guard<std::mutex> lock(shard.mu);
      auto it = shard.entries.find(probe);
      if (it != shard.entries.end()) shared_hit = it->second;
    }
    return shared_hit ? KeepInFront(*shared_hit) : nullptr;
  }

  // Remembers a token that passed every check; a full shard forgets one.
  void Remember(std::string_view token, const Entry& entry) {
    const Probe probe = ProbeFor(token);
    Shard& shard = For(probe);
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.entries.size() >= kPerShard) shard.entries.erase(shard.entries.begin());
    shard.entries.insert_or_assign(Key{std::string(token), probe.hash}, entry);
  }
};

JwtVerifier::JwtVerifier(JwtConfig config, std::shared_ptr<const RevocationList> revoked)
    : config_(std::move(config)), revoked_(std::move(revoked)), cache_(std::make_shared<Cache>()) {
  const char* who = "jwt verifier";
  if (config_.algorithm != Algorithm::kHS256 && config_.algorithm != Algorithm::kRS256 &&
      config_.algorithm != Algorithm::kES256) {
    throw std::invalid_argument("jwt verifier: unsupported algorithm");
  }
  if (config_.leeway < std::chrono::seconds::zero()) {
    throw std::invalid_argument("jwt verifier: negative leeway");
  }
  if (config_.leeway > kMaxLeeway) {
    throw std::invalid_argument("jwt verifier: leeway above 60 s");
  }
  if (config_.issuer.empty()) throw std::invalid_argument("jwt verifier: empty issuer");
  if (config_.audience.empty()) throw std::invalid_argument("jwt verifier: empty audience");
  CheckKey(config_.algorithm, config_.key, /*private_key=*/false, who);
}

VerifyResult JwtVerifier::Verify(std::string_view token, Clock::time_point now) const {
  Authenticated authenticated = Authenticate(token, now);
  VerifyResult result;
  result.ok = authenticated.ok();
  if (result.ok) {
    result.caller = authenticated.credentials->caller;
  } else {
    result.reason = std::move(authenticated.reason);
  }
  return result;
}

Authenticated JwtVerifier::Authenticate(std::string_view token, Clock::time_point now) const {
  if (token.empty() || token.size() > kMaxTokenSize) return Check(token, now);
  const Cache::Entry* hit = cache_->Find(token);
  if (hit == nullptr) return Check(token, now);
  // The same time and revocation checks as the full path, same reasons.
  const double now_s = Seconds(now);
  const double leeway_s = static_cast<double>(config_.leeway.count());
  if (now_s >= hit->times.exp_s + leeway_s) return Fail("token expired");
  if (hit->times.nbf_s && now_s + leeway_s < *hit->times.nbf_s) return Fail("token not yet valid");
  if (revoked_) {
    const char* refusal = revoked_->Refusal(hit->credentials->caller.token_id, hit->times.iat_s);
    if (refusal != nullptr) return Fail(refusal);
  }
  Authenticated result;
  result.credentials = hit->credentials;
  return result;
}

Authenticated JwtVerifier::Check(std::string_view token, Clock::time_point now) const {
  try {
    if (token.empty()) return Fail("missing token");
    if (token.size() > kMaxTokenSize) return Fail("token too large");
    TokenParts parts;
    if (const char* refusal = SplitToken(token, parts)) return Fail(refusal);
    if (const char* refusal = CheckHeader(parts.header_b64, config_.algorithm)) {
      return Fail(refusal);
    }
    if (const char* refusal = CheckSignature(parts, config_.algorithm, config_.key)) {
      return Fail(refusal);
    }

    // 4. Claims. cpp-jwt decodes header and payload; exactly one algorithm is
    //    allowed. The signature was verified above, and the claims are checked
    //    below against `now` (see the comment at the top of the file).
    std::error_code ec;
    const std::string alg_name(AlgorithmName(config_.algorithm));
    jwt::jwt_object decoded =
        jwt::decode(jwt::string_view(token.data(), token.size()),
                    jwt::params::algorithms(std::vector<std::string>{alg_name}),
                    ec,
                    jwt::params::verify(false));
    if (ec) return Fail("malformed token");
    if (decoded.header().algo() != ToCppJwt(config_.algorithm)) return Fail("unexpected algorithm");
    const json& claims = decoded.payload().create_json_obj();
    if (!claims.is_object()) return Fail("malformed token");

    TimeClaims times;
    const double leeway_s = static_cast<double>(config_.leeway.count());
    if (const char* refusal = CheckTimes(claims, Seconds(now), leeway_s, times)) {
      return Fail(refusal);
    }
    if (const char* refusal = CheckIssuerAndAudience(claims, config_)) return Fail(refusal);
    Caller caller;
    if (const char* refusal = ReadCaller(claims, config_.require_jti, caller)) {
      return Fail(refusal);
    }
    if (revoked_) {
      const char* refusal = revoked_->Refusal(caller.token_id, times.iat_s);
      if (refusal != nullptr) return Fail(refusal);
    }
    Cache::Entry entry;
    entry.credentials =
        std::make_shared<const Credentials>(Credentials{std::move(caller), std::string(token)});
    entry.times = times;
    cache_->Remember(token, entry);
    Authenticated result;
    result.credentials = std::move(entry.credentials);
    return result;
  } catch (const std::bad_alloc&) {
    ERR_clear_error();
    return Fail("malformed token");
  } catch (const std::exception&) {
    // Library messages are not passed on: fixed reason only.
    ERR_clear_error();
    return Fail("malformed token");
  }
}

// --- JwtSigner -----------------------------------------------------------------------

JwtSigner::JwtSigner(JwtConfig config) : config_(std::move(config)) {
  if (config_.algorithm != Algorithm::kHS256 && config_.algorithm != Algorithm::kRS256 &&
      config_.algorithm != Algorithm::kES256) {
    throw std::invalid_argument("jwt signer: unsupported algorithm");
  }
  CheckKey(config_.algorithm, config_.key, /*private_key=*/true, "jwt signer");
}

std::string JwtSigner::Sign(const TokenClaims& claims) const {
  const std::string alg_name(AlgorithmName(config_.algorithm));
  jwt::jwt_object obj{jwt::params::algorithm(alg_name), jwt::params::secret(config_.key)};
  jwt::jwt_payload& payload = obj.payload();
  // Empty issuer/audience are left out (useful to mint bad tokens in tests).
  if (!config_.issuer.empty()) payload.add_claim("iss", config_.issuer);
  if (!config_.audience.empty()) payload.add_claim("aud", config_.audience);
  if (!claims.subject.empty()) payload.add_claim("sub", claims.subject);
  payload.add_claim("roles", json(claims.roles));
  payload.add_claim("jti", claims.token_id.empty() ? RandomTokenId() : claims.token_id);
  payload.add_claim("iat", WholeSeconds(claims.issued_at));
  payload.add_claim("exp", WholeSeconds(claims.issued_at + claims.ttl));
  if (claims.not_before) payload.add_claim("nbf", WholeSeconds(*claims.not_before));

  std::error_code ec;
  std::string token = obj.signature(ec);
  if (ec || token.empty()) {
    ERR_clear_error();
    throw std::runtime_error("jwt signer: signing failed");
  }
  return token;
}

}  // namespace cppsvc::auth
