// The auth service's handlers against a real PostgreSQL: every call runs in
// a transaction that commits only when the handler returns OK, as in the
// generated server.
#include "auth/auth_service.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <pqxx/pqxx>

#include "commerce/auth/v1/auth.cppsvc.migrations.h"
#include "commerce/auth/v1/auth.cppsvc.server.h"
#include "common/util.h"
#include "cppsvc/auth/revocation_feed.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/testing/in_process_server.h"
#include "cppsvc/testing/test_database.h"

namespace auth {
namespace {

using cppsvc::Caller;
using cppsvc::Status;
using cppsvc::StatusCode;
using std::chrono::seconds;

constexpr char kSecret[] = "test-secret-0123456789-abcdefghij";
constexpr char kPassword[] = "correct horse";

AuthOptions TestOptions() {
  AuthOptions o;
  o.signing.algorithm = cppsvc::auth::Algorithm::kHS256;
  o.signing.key = kSecret;
  o.signing.issuer = "commerce";
  o.signing.audience = "commerce";
  o.pwhash_opslimit = kMinPwhashOpslimit;
  o.pwhash_memlimit = kMinPwhashMemlimit;
  return o;
}

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    db_ = cppsvc::testing::TestDatabase::Create(commerce::auth::v1::AuthMigrations(), &why);
    ASSERT_NE(db_, nullptr) << "no test database: " << why;
    side_db_ = std::make_shared<cppsvc::db::Pool>(cppsvc::db::PoolOptions{SameDatabaseUrl(), 4});
    service_ = std::make_unique<AuthService>(TestOptions(), side_db_);
  }

  // The test database's URL, for a pool of its own as the service has.
  std::string SameDatabaseUrl() {
    const char* file = std::getenv("CPPSVC_TEST_DATABASE_URL_FILE");
    const char* url = std::getenv("CPPSVC_TEST_DATABASE_URL");
    std::string server = url != nullptr ? url : "";
    if (server.empty() && file != nullptr) std::getline(std::ifstream(file), server);
    const std::string name = Query("SELECT current_database()")[0][0].as<std::string>();
    return server.substr(0, server.rfind('/') + 1) + name;
  }

  // Runs a handler as the generated server does: in a transaction that
  // commits only when it returns OK.
  template <typename Request, typename Response>
  Status Call(Status (AuthService::*handler)(cppsvc::CallContext&, const Request&, Response&),
              const Request& request,
              Response& response,
              const Caller& caller = {}) {
    const auto deadline = cppsvc::Clock::now() + seconds(10);
    cppsvc::CallContext ctx(caller, deadline, "test", "");
    ctx.set_client_address(client_address_);
    return cppsvc::db::RunInTransaction(*db_->pool(), deadline, [&](cppsvc::db::Tx& tx) {
      ctx.set_tx(&tx);
      return (service_.get()->*handler)(ctx, request, response);
    });
  }

  // The address the runtime would give the calls (the peer, or the
  // client behind a trusted gateway); "" (unknown, as over NATS) leaves
  // only the per-account limit, which most tests here are about.
  std::string client_address_;

  // Rows of a query on the test database, outside any call.
  pqxx::result Query(const std::string& sql) {
    auto lease = db_->pool()->Acquire(cppsvc::Clock::now() + seconds(5));
    pqxx::nontransaction q(lease.connection());
    return q.exec(sql);
  }

  v1::UserProfile Register(const std::string& email, const std::string& password = kPassword) {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(password);
    v1::RegisterResponse response;
    Status s = Call(&AuthService::Register, request, response);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return response.user();
  }

  Status Login(const std::string& email, const std::string& password, v1::LoginResponse& out) {
    v1::LoginRequest request;
    request.set_email(email);
    request.set_password(password);
    return Call(&AuthService::Login, request, out);
  }

  v1::TokenPair LoginOk(const std::string& email) {
    v1::LoginResponse response;
    Status s = Login(email, kPassword, response);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return response.tokens();
  }

  Status Refresh(const std::string& token, v1::RefreshResponse& out) {
    v1::RefreshRequest request;
    request.set_refresh_token(token);
    return Call(&AuthService::Refresh, request, out);
  }

  // The caller the runtime derives from this access token.
  Caller As(const std::string& access_token) {
    auto verified = cppsvc::auth::JwtVerifier(TestOptions().signing).Verify(access_token);
    EXPECT_TRUE(verified.ok) << verified.reason;
    return verified.caller;
  }

  std::vector<std::string> RevokedJtis() {
    v1::ListRevokedTokensRequest request;
    v1::ListRevokedTokensResponse response;
    Status s =
        Call(&AuthService::ListRevokedTokens, request, response, {"orders", {"service"}, ""});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return {response.jtis().begin(), response.jtis().end()};
  }

  static bool Contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  }

  std::unique_ptr<cppsvc::testing::TestDatabase> db_;
  std::shared_ptr<cppsvc::db::Pool> side_db_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceTest, RegisterStoresAnArgon2idHashAndEmitsUserRegistered) {
  v1::UserProfile user = Register("Ada@Example.com");
  EXPECT_EQ(user.email(), "ada@example.com");
  EXPECT_EQ(user.display_name(), "ada");
  EXPECT_EQ(std::vector<std::string>(user.roles().begin(), user.roles().end()),
            std::vector<std::string>{"customer"});

  pqxx::result users = Query("SELECT password_hash FROM users WHERE id = '" + user.id() + "'");
  ASSERT_EQ(users.size(), 1u);
  const std::string hash = users[0][0].as<std::string>();
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << hash;
  EXPECT_EQ(hash.find(kPassword), std::string::npos);

  pqxx::result events = Query(
      "SELECT ordering_key FROM cppsvc_outbox WHERE event_type = "
      "'commerce.auth.v1.UserRegistered'");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0][0].as<std::string>(), user.id());
}

TEST_F(AuthServiceTest, RegisteringAnEmailTwiceIsAlreadyExistsAndEmitsNothing) {
  Register("ada@example.com");
  v1::RegisterRequest request;
  request.set_email("ADA@example.com");
  request.set_password("another password");
  v1::RegisterResponse response;
  EXPECT_EQ(Call(&AuthService::Register, request, response).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Query("SELECT 1 FROM users").size(), 1u);
  EXPECT_EQ(Query("SELECT 1 FROM cppsvc_outbox").size(), 1u);
}

TEST_F(AuthServiceTest, LoginIssuesAnAccessTokenAndStoresOnlyTheRefreshTokensHash) {
  v1::UserProfile user = Register("ada@example.com");
  v1::TokenPair tokens = LoginOk("ada@example.com");
  Caller caller = As(tokens.access_token());
  EXPECT_EQ(caller.subject, user.id());
  EXPECT_EQ(caller.roles, std::vector<std::string>{"customer"});
  EXPECT_FALSE(caller.token_id.empty());
  const auto ttl = tokens.access_token_expires_at().seconds() - std::time(nullptr);
  EXPECT_GT(ttl, 890);
  EXPECT_LE(ttl, 900);

  pqxx::result rows = Query("SELECT token_hash, access_jti FROM refresh_tokens");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), RefreshTokenHash(tokens.refresh_token()));
  EXPECT_NE(rows[0][0].as<std::string>(), tokens.refresh_token());
  EXPECT_EQ(rows[0][1].as<std::string>(), caller.token_id);
}

// An unknown email and a wrong password: the same status and message, and
// about the same time (the unknown one is checked against a dummy hash).
TEST_F(AuthServiceTest, UnknownUserAndWrongPasswordGetTheSameAnswerInAboutTheSameTime) {
  // Two accounts, 4 wrong passwords each: within the limit of failed
  // logins. The median of 8 pairs' own ratios: the two calls of a pair run
  // back to back, so load from tests beside this one moves both alike.
  Register("ada@example.com");
  Register("bob@example.com");
  auto timed = [&](const std::string& email, Status& status) {
    const auto start = std::chrono::steady_clock::now();
    v1::LoginResponse response;
    status = Login(email, "wrong password", response);
    return std::chrono::steady_clock::now() - start;
  };
  std::vector<std::chrono::nanoseconds> unknown, wrong;
  Status a, b;
  for (int i = 0; i < 8; ++i) {
    unknown.push_back(timed("nobody" + std::to_string(i) + "@example.com", a));
    wrong.push_back(timed(i % 2 ? "bob@example.com" : "ada@example.com", b));
    EXPECT_EQ(a.code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(b.code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(a.message(), b.message());
  }
  std::vector<double> ratios;
  std::string pairs;
  for (size_t i = 0; i < unknown.size(); ++i) {
    ratios.push_back(static_cast<double>(unknown[i].count()) / wrong[i].count());
    pairs += " " + std::to_string(unknown[i].count() / 1000) + "/" +
             std::to_string(wrong[i].count() / 1000) + " us";
  }
  std::sort(ratios.begin(), ratios.end());
  const double ratio = (ratios[3] + ratios[4]) / 2;
  EXPECT_GT(ratio, 0.5) << "unknown/wrong:" << pairs;
  EXPECT_LT(ratio, 2.0) << "unknown/wrong:" << pairs;
}

TEST_F(AuthServiceTest, AHashWithOlderParametersIsRehashedAtTheNextLogin) {
  v1::UserProfile user = Register("ada@example.com");
  char old_hash[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(old_hash,
                                  kPassword,
                                  sizeof kPassword - 1,
                                  1,
                                  8 * 1024 * 1024,
                                  crypto_pwhash_ALG_ARGON2ID13),
            0);
  Query("UPDATE users SET password_hash = '" + std::string(old_hash) + "'");
  LoginOk("ada@example.com");
  const std::string hash = Query("SELECT password_hash FROM users")[0][0].as<std::string>();
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << hash;
  LoginOk("ada@example.com");  // the new hash holds the same password
}

TEST_F(AuthServiceTest, FiveFailedLoginsRefuseFurtherAttemptsWithARetryTime) {
  Register("ada@example.com");
  v1::LoginResponse response;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("ada@example.com", "wrong password", response).code(),
              StatusCode::kUnauthenticated);
  }
  Status refused = Login("ada@example.com", kPassword, response);  // right, but too late
  ASSERT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  int retry = 0;
  ASSERT_EQ(std::sscanf(refused.message().c_str(), "too many failed logins; retry in %d s", &retry),
            1)
      << refused.message();
  EXPECT_GT(retry, 880);
  EXPECT_LE(retry, 900);

  // Once the failures are 15 minutes old, the account is open again.
  Query("UPDATE login_failures SET attempted_at = attempted_at - interval '15 minutes'");
  EXPECT_TRUE(Login("ada@example.com", kPassword, response).ok());
}

// One address guessing at many accounts is stopped after 5 failures too;
// another address is not.
TEST_F(AuthServiceTest, FiveFailedLoginsFromOneAddressRefuseItsFurtherAttempts) {
  Register("ada@example.com");
  v1::LoginResponse response;
  client_address_ = "198.51.100.7";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("guess" + std::to_string(i) + "@example.com", "wrong", response).code(),
              StatusCode::kUnauthenticated);
  }
  const Status refused = Login("ada@example.com", kPassword, response);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  client_address_ = "198.51.100.8";
  EXPECT_TRUE(Login("ada@example.com", kPassword, response).ok());
}

TEST_F(AuthServiceTest, AnUnknownAccountIsLockedLikeAKnownOne) {
  v1::LoginResponse response;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("nobody@example.com", "wrong password", response).code(),
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(Login("nobody@example.com", "wrong password", response).code(),
            StatusCode::kResourceExhausted);
}

TEST_F(AuthServiceTest, ASuccessfulLoginForgetsTheAccountsEarlierFailures) {
  Register("ada@example.com");
  Register("bob@example.com");
  v1::LoginResponse response;
  for (int i = 0; i < 4; ++i) (void)Login("ada@example.com", "wrong password", response);
  LoginOk("ada@example.com");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Login("ada@example.com", "wrong password", response).code(),
              StatusCode::kUnauthenticated);
  }
  // Another account's failures are its own.
  for (int i = 0; i < 5; ++i) (void)Login("bob@example.com", "wrong password", response);
  EXPECT_EQ(Login("bob@example.com", kPassword, response).code(), StatusCode::kResourceExhausted);
  LoginOk("ada@example.com");
}

// Concurrent guesses count one another: no more than 5 are checked.
TEST_F(AuthServiceTest, ConcurrentFailedLoginsStopAtTheLimit) {
  Register("ada@example.com");
  std::vector<std::future<StatusCode>> results;
  for (int i = 0; i < 10; ++i) {
    results.push_back(std::async(std::launch::async, [this] {
      v1::LoginResponse response;
      return Login("ada@example.com", "wrong password", response).code();
    }));
  }
  int checked = 0, refused = 0;
  for (auto& r : results) {
    const StatusCode code = r.get();
    checked += code == StatusCode::kUnauthenticated;
    refused += code == StatusCode::kResourceExhausted;
  }
  EXPECT_LE(checked, 5);
  EXPECT_EQ(checked + refused, 10);
}

TEST_F(AuthServiceTest, RefreshRotatesTheRefreshToken) {
  v1::UserProfile user = Register("ada@example.com");
  v1::TokenPair first = LoginOk("ada@example.com");
  v1::RefreshResponse second;
  ASSERT_TRUE(Refresh(first.refresh_token(), second).ok());
  EXPECT_NE(second.tokens().refresh_token(), first.refresh_token());
  EXPECT_EQ(As(second.tokens().access_token()).subject, user.id());
  v1::RefreshResponse third;
  ASSERT_TRUE(Refresh(second.tokens().refresh_token(), third).ok());
  EXPECT_EQ(Query("SELECT DISTINCT family_id FROM refresh_tokens").size(), 1u);
  v1::RefreshResponse unknown;
  EXPECT_EQ(Refresh(std::string(64, 'a'), unknown).code(), StatusCode::kUnauthenticated);
}

// A spent token presented again: the whole family is revoked, including the
// token the thief or the owner got by rotating it, and its access token.
TEST_F(AuthServiceTest, ASpentRefreshTokenPresentedAgainRevokesItsFamily) {
  Register("ada@example.com");
  v1::TokenPair first = LoginOk("ada@example.com");
  v1::TokenPair other_session = LoginOk("ada@example.com");
  v1::RefreshResponse second;
  ASSERT_TRUE(Refresh(first.refresh_token(), second).ok());

  v1::RefreshResponse reused;
  EXPECT_EQ(Refresh(first.refresh_token(), reused).code(), StatusCode::kUnauthenticated);
  v1::RefreshResponse after;
  EXPECT_EQ(Refresh(second.tokens().refresh_token(), after).code(), StatusCode::kUnauthenticated);
  std::vector<std::string> revoked = RevokedJtis();
  EXPECT_TRUE(Contains(revoked, As(second.tokens().access_token()).token_id));
  EXPECT_TRUE(Contains(revoked, As(first.access_token()).token_id));
  EXPECT_FALSE(Contains(revoked, As(other_session.access_token()).token_id));

  v1::RefreshResponse other;
  EXPECT_TRUE(Refresh(other_session.refresh_token(), other).ok());  // another family
}

TEST_F(AuthServiceTest, LogoutRevokesTheAccessTokenAndTheSession) {
  Register("ada@example.com");
  v1::TokenPair tokens = LoginOk("ada@example.com");
  const Caller caller = As(tokens.access_token());
  v1::LogoutRequest request;
  request.set_refresh_token(tokens.refresh_token());
  v1::LogoutResponse response;
  ASSERT_TRUE(Call(&AuthService::Logout, request, response, caller).ok());

  EXPECT_TRUE(Contains(RevokedJtis(), caller.token_id));
  v1::RefreshResponse refreshed;
  EXPECT_EQ(Refresh(tokens.refresh_token(), refreshed).code(), StatusCode::kUnauthenticated);
  v1::MeRequest me;
  v1::MeResponse profile;
  EXPECT_EQ(Call(&AuthService::Me, me, profile, caller).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Call(&AuthService::Logout, request, response, caller).code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, LogoutLeavesAnotherUsersSessionAlone) {
  Register("ada@example.com");
  Register("bob@example.com");
  v1::TokenPair ada = LoginOk("ada@example.com");
  v1::TokenPair bob = LoginOk("bob@example.com");
  v1::LogoutRequest request;
  request.set_refresh_token(bob.refresh_token());
  v1::LogoutResponse response;
  ASSERT_TRUE(Call(&AuthService::Logout, request, response, As(ada.access_token())).ok());
  v1::RefreshResponse refreshed;
  EXPECT_TRUE(Refresh(bob.refresh_token(), refreshed).ok());
}

TEST_F(AuthServiceTest, ListRevokedTokensAfterAnInstantListsOnlyLaterRevocations) {
  Register("ada@example.com");
  v1::TokenPair before = LoginOk("ada@example.com");
  v1::TokenPair later = LoginOk("ada@example.com");
  v1::LogoutRequest request;
  v1::LogoutResponse response;
  request.set_refresh_token(before.refresh_token());
  ASSERT_TRUE(Call(&AuthService::Logout, request, response, As(before.access_token())).ok());
  const auto cut = cppsvc::Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  request.set_refresh_token(later.refresh_token());
  ASSERT_TRUE(Call(&AuthService::Logout, request, response, As(later.access_token())).ok());

  v1::ListRevokedTokensRequest list;
  *list.mutable_revoked_after() = services::ToTimestamp(cut);
  v1::ListRevokedTokensResponse revoked;
  ASSERT_TRUE(
      Call(&AuthService::ListRevokedTokens, list, revoked, {"orders", {"service"}, ""}).ok());
  EXPECT_EQ(std::vector<std::string>(revoked.jtis().begin(), revoked.jtis().end()),
            std::vector<std::string>{As(later.access_token()).token_id});
  EXPECT_LT(services::FromTimestamp(revoked.as_of()), cppsvc::Clock::now());
}

// What another service sees: its revocation feed polls ListRevokedTokens
// over gRPC, and its verifier then refuses the logged-out token.
TEST_F(AuthServiceTest, AnotherServiceRefusesALoggedOutTokenAfterItsNextPoll) {
  cppsvc::testing::TestTokens test_tokens;
  cppsvc::impl::ServiceOptions options =
      cppsvc::testing::TestServiceOptions("auth", test_tokens, v1::AuthServiceServer::Roles());
  options.db = db_->pool();
  v1::AuthServiceServer server(*service_, std::move(options));
  cppsvc::testing::GrpcTestServer grpc(server);

  Register("ada@example.com");
  v1::TokenPair tokens = LoginOk("ada@example.com");
  auto list = std::make_shared<cppsvc::auth::RevocationList>();
  cppsvc::auth::RevocationFeedOptions feed_options;
  feed_options.target = "127.0.0.1:" + std::to_string(grpc.port());
  feed_options.method = "/commerce.auth.v1.AuthService/ListRevokedTokens";
  feed_options.bearer_token = test_tokens.Valid("orders", {"service"});
  cppsvc::auth::RevocationFeed feed(feed_options, list);
  cppsvc::auth::JwtVerifier orders(TestOptions().signing, list);
  ASSERT_TRUE(feed.PollOnce().ok());
  ASSERT_TRUE(orders.Verify(tokens.access_token()).ok);

  v1::LogoutRequest request;
  request.set_refresh_token(tokens.refresh_token());
  v1::LogoutResponse response;
  ASSERT_TRUE(Call(&AuthService::Logout, request, response, As(tokens.access_token())).ok());
  ASSERT_TRUE(feed.PollOnce().ok());
  auto verified = orders.Verify(tokens.access_token());
  EXPECT_FALSE(verified.ok);
  EXPECT_NE(verified.reason.find("revoked"), std::string::npos) << verified.reason;
}

TEST_F(AuthServiceTest, AdminsAssignRolesThatTheNextTokenCarries) {
  v1::UserProfile user = Register("ada@example.com");
  const Caller admin{"admin-1", {"admin"}, ""};
  v1::AssignRoleRequest request;
  request.set_user_id(user.id());
  request.set_role("admin");
  v1::AssignRoleResponse response;
  ASSERT_TRUE(Call(&AuthService::AssignRole, request, response, admin).ok());
  ASSERT_TRUE(Call(&AuthService::AssignRole, request, response, admin).ok());  // held already
  EXPECT_EQ(
      std::vector<std::string>(response.user().roles().begin(), response.user().roles().end()),
      (std::vector<std::string>{"customer", "admin"}));
  EXPECT_EQ(As(LoginOk("ada@example.com").access_token()).roles,
            (std::vector<std::string>{"customer", "admin"}));

  request.set_role("wizard");
  EXPECT_EQ(Call(&AuthService::AssignRole, request, response, admin).code(),
            StatusCode::kInvalidArgument);
  request.set_role("admin");
  request.set_user_id("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(Call(&AuthService::AssignRole, request, response, admin).code(), StatusCode::kNotFound);
}

TEST_F(AuthServiceTest, ListUsersPagesThroughEveryAccount) {
  for (int i = 0; i < 5; ++i) Register("user" + std::to_string(i) + "@example.com");
  v1::ListUsersRequest request;
  request.set_page_size(2);
  std::set<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    v1::ListUsersResponse response;
    ASSERT_TRUE(Call(&AuthService::ListUsers, request, response, {"admin-1", {"admin"}, ""}).ok());
    for (const auto& u : response.users()) seen.insert(u.email());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen.size(), 5u);
  request.set_page_token("not a token");
  v1::ListUsersResponse response;
  EXPECT_EQ(Call(&AuthService::ListUsers, request, response, {"admin-1", {"admin"}, ""}).code(),
            StatusCode::kInvalidArgument);
}

// --- configuration ---------------------------------------------------------------

cppsvc::config::Env EnvOf(std::map<std::string, std::string> values) {
  return cppsvc::config::Env([values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  });
}

// An ES256 key pair as PEM: {private, public}.
std::pair<std::string, std::string> Es256KeyPair() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(size));
    BIO_free(bio);
    return out;
  };
  auto priv =
      pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  auto pub = pem([&](BIO* b) { PEM_write_bio_PUBKEY(b, key); });
  EVP_PKEY_free(key);
  return {priv, pub};
}

TEST(AuthOptionsTest, Es256SignsWithThePrivateKeyTheVerifiersPublicKeyAccepts) {
  auto [priv, pub] = Es256KeyPair();
  auto env = EnvOf({{"CPPSVC_JWT_ALGORITHM", "ES256"},
                    {"CPPSVC_JWT_KEY", pub},
                    {"CPPSVC_JWT_PRIVATE_KEY", priv},
                    {"CPPSVC_JWT_ISSUER", "commerce"},
                    {"CPPSVC_JWT_AUDIENCE", "commerce"}});
  AuthOptions options = AuthOptions::FromEnvironment(env);
  ASSERT_TRUE(env.problems().empty()) << env.problems().front();
  cppsvc::auth::TokenClaims claims;
  claims.subject = "u1";
  const std::string token = cppsvc::auth::JwtSigner(options.signing).Sign(claims);
  cppsvc::auth::JwtConfig verifying = options.signing;
  verifying.key = pub;
  EXPECT_TRUE(cppsvc::auth::JwtVerifier(verifying).Verify(token).ok);
}

TEST(AuthOptionsTest, RefusesAMissingOrMismatchedPrivateKeyAndTooLowACost) {
  auto [priv, pub] = Es256KeyPair();
  auto [other_priv, other_pub] = Es256KeyPair();
  auto missing = EnvOf({{"CPPSVC_JWT_ALGORITHM", "ES256"},
                        {"CPPSVC_JWT_KEY", pub},
                        {"CPPSVC_JWT_ISSUER", "i"},
                        {"CPPSVC_JWT_AUDIENCE", "a"}});
  AuthOptions::FromEnvironment(missing);
  ASSERT_EQ(missing.problems().size(), 1u);
  EXPECT_NE(missing.problems()[0].find("CPPSVC_JWT_PRIVATE_KEY"), std::string::npos);

  auto mismatched = EnvOf({{"CPPSVC_JWT_ALGORITHM", "ES256"},
                           {"CPPSVC_JWT_KEY", pub},
                           {"CPPSVC_JWT_PRIVATE_KEY", other_priv},
                           {"CPPSVC_JWT_ISSUER", "i"},
                           {"CPPSVC_JWT_AUDIENCE", "a"}});
  AuthOptions::FromEnvironment(mismatched);
  ASSERT_EQ(mismatched.problems().size(), 1u);
  EXPECT_NE(mismatched.problems()[0].find("refused"), std::string::npos);

  auto cheap = EnvOf({{"CPPSVC_JWT_ALGORITHM", "HS256"},
                      {"CPPSVC_JWT_KEY", kSecret},
                      {"CPPSVC_JWT_ISSUER", "i"},
                      {"CPPSVC_JWT_AUDIENCE", "a"},
                      {"AUTH_PWHASH_MEMLIMIT_KIB", "8192"}});
  AuthOptions::FromEnvironment(cheap);
  ASSERT_EQ(cheap.problems().size(), 1u);
  EXPECT_NE(cheap.problems()[0].find("AUTH_PWHASH_MEMLIMIT_KIB"), std::string::npos);
  EXPECT_THROW(PasswordHasher(1, kMinPwhashMemlimit), std::invalid_argument);
}

}  // namespace
}  // namespace auth
