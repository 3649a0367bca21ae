#include "auth/auth_service.h"

#include <algorithm>
#include <map>

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/util.h"

namespace auth {
namespace {

using cppsvc::StatusCode;

constexpr char kSecret[] = "test-secret-0123456789-abcdefghij";

AuthOptions TestOptions() {
  AuthOptions o;
  o.signing.algorithm = cppsvc::auth::Algorithm::kHS256;
  o.signing.key = kSecret;
  o.signing.issuer = "commerce";
  o.signing.audience = "commerce";
  o.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
  o.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
  return o;
}

cppsvc::CallContext Anonymous() {
  return cppsvc::CallContext(cppsvc::Caller{},
                             cppsvc::Clock::now() + std::chrono::seconds(5),
                             "m",
                             "t");
}

class AuthServiceTest : public ::testing::Test {
 protected:
  AuthServiceTest() : service(std::make_unique<AuthService>(store, outbox, TestOptions())) {}

  v1::UserProfile Register(const std::string& email,
                           const std::string& password = "correct horse") {
    auto ctx = Anonymous();
    v1::RegisterRequest req;
    req.set_email(email);
    req.set_password(password);
    v1::RegisterResponse resp;
    EXPECT_TRUE(service->Register(ctx, req, resp).ok());
    return resp.user();
  }

  cppsvc::Status Login(const std::string& email,
                       const std::string& password,
                       v1::LoginResponse& resp) {
    auto ctx = Anonymous();
    v1::LoginRequest req;
    req.set_email(email);
    req.set_password(password);
    return service->Login(ctx, req, resp);
  }

  cppsvc::Status Refresh(const std::string& token, v1::RefreshResponse& resp) {
    auto ctx = Anonymous();
    v1::RefreshRequest req;
    req.set_refresh_token(token);
    return service->Refresh(ctx, req, resp);
  }

  // The context the runtime builds for a call with this access token.
  cppsvc::CallContext As(const std::string& access_token) {
    cppsvc::auth::JwtConfig config = TestOptions().signing;
    auto verified = cppsvc::auth::JwtVerifier(config).Verify(access_token);
    EXPECT_TRUE(verified.ok) << verified.reason;
    return cppsvc::CallContext(verified.caller,
                               cppsvc::Clock::now() + std::chrono::seconds(5),
                               "m",
                               "t");
  }

  std::vector<std::string> RevokedJtis() {
    auto ctx = cppsvc::CallContext(cppsvc::Caller{"orders", {"service"}, "svc-jti"},
                                   cppsvc::Clock::now() + std::chrono::seconds(5),
                                   "m",
                                   "t");
    v1::ListRevokedTokensResponse resp;
    EXPECT_TRUE(service->ListRevokedTokens(ctx, {}, resp).ok());
    return {resp.jtis().begin(), resp.jtis().end()};
  }

  std::shared_ptr<InMemoryAuthStore> store = std::make_shared<InMemoryAuthStore>();
  std::shared_ptr<services::InMemoryOutbox> outbox = std::make_shared<services::InMemoryOutbox>();
  std::unique_ptr<v1::AuthServiceBase> service;
};

TEST_F(AuthServiceTest, RegisterCreatesCustomerWithArgon2idHash) {
  v1::UserProfile user = Register("Alice@Example.com");
  EXPECT_EQ(user.email(), "alice@example.com");
  EXPECT_EQ(user.display_name(), "alice");
  EXPECT_EQ(std::vector<std::string>(user.roles().begin(), user.roles().end()),
            std::vector<std::string>{"customer"});
  auto stored = store->GetUser(user.id());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->password_hash().rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(stored->password_hash().find("correct horse"), std::string::npos);

  auto events = outbox->EventsOf<v1::UserRegistered>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].user_id(), user.id());
  EXPECT_EQ(events[0].email(), "alice@example.com");

  auto ctx = Anonymous();
  v1::RegisterRequest again;
  again.set_email("ALICE@example.com");
  again.set_password("another password");
  v1::RegisterResponse resp;
  EXPECT_EQ(service->Register(ctx, again, resp).code(), StatusCode::kAlreadyExists);
}

TEST_F(AuthServiceTest, LoginIssuesVerifiableTokensAndHidesWhichPartWasWrong) {
  v1::UserProfile user = Register("bob@example.com");
  v1::LoginResponse ok;
  ASSERT_TRUE(Login("BOB@example.com", "correct horse", ok).ok());
  EXPECT_EQ(ok.user().id(), user.id());
  cppsvc::CallContext ctx = As(ok.tokens().access_token());
  EXPECT_EQ(ctx.caller().subject, user.id());
  EXPECT_EQ(ctx.caller().roles, std::vector<std::string>{"customer"});
  EXPECT_FALSE(ctx.caller().token_id.empty());
  EXPECT_GE(ok.tokens().refresh_token().size(), 32u);
  EXPECT_GT(ok.tokens().refresh_token_expires_at().seconds(),
            ok.tokens().access_token_expires_at().seconds());

  v1::LoginResponse bad_password, unknown;
  cppsvc::Status a = Login("bob@example.com", "wrong horse", bad_password);
  cppsvc::Status b = Login("nobody@example.com", "correct horse", unknown);
  EXPECT_EQ(a.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(b.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(a.message(), b.message());
  EXPECT_FALSE(bad_password.has_tokens());
}

TEST_F(AuthServiceTest, RefreshRotatesTheRefreshToken) {
  Register("carol@example.com");
  v1::LoginResponse login;
  ASSERT_TRUE(Login("carol@example.com", "correct horse", login).ok());
  v1::RefreshResponse first, reused, second;
  ASSERT_TRUE(Refresh(login.tokens().refresh_token(), first).ok());
  EXPECT_NE(first.tokens().refresh_token(), login.tokens().refresh_token());
  EXPECT_NE(As(first.tokens().access_token()).caller().token_id,
            As(login.tokens().access_token()).caller().token_id);
  EXPECT_EQ(Refresh(login.tokens().refresh_token(), reused).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Refresh(first.tokens().refresh_token(), second).ok());
  EXPECT_EQ(Refresh(std::string(64, 'a'), reused).code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, LogoutRevokesAccessAndRefreshTokens) {
  Register("dave@example.com");
  Register("erin@example.com");
  v1::LoginResponse dave, erin;
  ASSERT_TRUE(Login("dave@example.com", "correct horse", dave).ok());
  ASSERT_TRUE(Login("erin@example.com", "correct horse", erin).ok());
  cppsvc::CallContext ctx = As(dave.tokens().access_token());

  // Dave cannot end Erin's session by naming her refresh token.
  v1::LogoutRequest req;
  req.set_refresh_token(erin.tokens().refresh_token());
  v1::LogoutResponse resp;
  ASSERT_TRUE(service->Logout(ctx, req, resp).ok());
  v1::RefreshResponse refreshed;
  EXPECT_TRUE(Refresh(erin.tokens().refresh_token(), refreshed).ok());

  auto revoked = RevokedJtis();
  EXPECT_NE(std::find(revoked.begin(), revoked.end(), ctx.caller().token_id), revoked.end());
  v1::MeResponse me;
  EXPECT_EQ(service->Me(ctx, {}, me).code(), StatusCode::kUnauthenticated);

  cppsvc::CallContext erin_ctx = As(refreshed.tokens().access_token());
  req.set_refresh_token(refreshed.tokens().refresh_token());
  ASSERT_TRUE(service->Logout(erin_ctx, req, resp).ok());
  EXPECT_EQ(Refresh(refreshed.tokens().refresh_token(), refreshed).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(RevokedJtis().size(), 2u);
}

TEST_F(AuthServiceTest, MeReturnsTheCallersProfile) {
  v1::UserProfile user = Register("frank@example.com");
  v1::LoginResponse login;
  ASSERT_TRUE(Login("frank@example.com", "correct horse", login).ok());
  cppsvc::CallContext ctx = As(login.tokens().access_token());
  v1::MeResponse me;
  ASSERT_TRUE(service->Me(ctx, {}, me).ok());
  EXPECT_EQ(me.user().id(), user.id());
  cppsvc::CallContext stranger(cppsvc::Caller{services::NewUuid(), {"customer"}, "j"},
                               cppsvc::Clock::now(),
                               "m",
                               "t");
  EXPECT_EQ(service->Me(stranger, {}, me).code(), StatusCode::kNotFound);
}

TEST_F(AuthServiceTest, AssignRoleTakesEffectWithTheNextToken) {
  v1::UserProfile user = Register("grace@example.com");
  cppsvc::CallContext admin(cppsvc::Caller{"root", {"admin"}, "admin-jti"},
                            cppsvc::Clock::now(),
                            "m",
                            "t");
  v1::AssignRoleRequest req;
  req.set_user_id(user.id());
  req.set_role("admin");
  v1::AssignRoleResponse resp;
  ASSERT_TRUE(service->AssignRole(admin, req, resp).ok());
  ASSERT_TRUE(service->AssignRole(admin, req, resp).ok());  // idempotent
  EXPECT_EQ(std::vector<std::string>(resp.user().roles().begin(), resp.user().roles().end()),
            (std::vector<std::string>{"customer", "admin"}));
  v1::LoginResponse login;
  ASSERT_TRUE(Login("grace@example.com", "correct horse", login).ok());
  EXPECT_EQ(As(login.tokens().access_token()).caller().roles,
            (std::vector<std::string>{"customer", "admin"}));

  req.set_role("superuser");
  EXPECT_EQ(service->AssignRole(admin, req, resp).code(), StatusCode::kInvalidArgument);
  req.set_role("anonymous");
  EXPECT_EQ(service->AssignRole(admin, req, resp).code(), StatusCode::kInvalidArgument);
  req.set_role("service");
  req.set_user_id(services::NewUuid());
  EXPECT_EQ(service->AssignRole(admin, req, resp).code(), StatusCode::kNotFound);
}

TEST_F(AuthServiceTest, ListUsersPagesOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(Register("user" + std::to_string(i) + "@example.com").id());
  cppsvc::CallContext admin(cppsvc::Caller{"root", {"admin"}, "admin-jti"},
                            cppsvc::Clock::now(),
                            "m",
                            "t");
  v1::ListUsersRequest req;
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    v1::ListUsersResponse resp;
    ASSERT_TRUE(service->ListUsers(admin, req, resp).ok());
    EXPECT_LE(resp.users_size(), 2);
    for (const auto& u : resp.users()) seen.push_back(u.id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(seen, ids);
  req.set_page_token("not-a-token");
  v1::ListUsersResponse resp;
  EXPECT_EQ(service->ListUsers(admin, req, resp).code(), StatusCode::kInvalidArgument);
}

TEST_F(AuthServiceTest, ListRevokedTokensHonoursRevokedAfter) {
  Register("heidi@example.com");
  v1::LoginResponse login;
  ASSERT_TRUE(Login("heidi@example.com", "correct horse", login).ok());
  cppsvc::CallContext ctx = As(login.tokens().access_token());
  v1::LogoutRequest logout;
  logout.set_refresh_token(login.tokens().refresh_token());
  v1::LogoutResponse out;
  ASSERT_TRUE(service->Logout(ctx, logout, out).ok());

  cppsvc::CallContext svc(cppsvc::Caller{"orders", {"service"}, "svc-jti"},
                          cppsvc::Clock::now(),
                          "m",
                          "t");
  v1::ListRevokedTokensRequest req;
  v1::ListRevokedTokensResponse all;
  ASSERT_TRUE(service->ListRevokedTokens(svc, req, all).ok());
  ASSERT_EQ(all.jtis_size(), 1);
  EXPECT_EQ(all.jtis(0), ctx.caller().token_id);
  EXPECT_LE(all.as_of().seconds(), services::ToTimestamp(cppsvc::Clock::now()).seconds());

  *req.mutable_revoked_after() =
      services::ToTimestamp(cppsvc::Clock::now() + std::chrono::hours(1));
  v1::ListRevokedTokensResponse later;
  ASSERT_TRUE(service->ListRevokedTokens(svc, req, later).ok());
  EXPECT_EQ(later.jtis_size(), 0);
}

cppsvc::config::Env EnvOf(std::map<std::string, std::string> vars) {
  return cppsvc::config::Env([vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(AuthOptionsTest, SigningConfigurationFromEnvironment) {
  std::map<std::string, std::string> hs = {{"CPPSVC_JWT_ALGORITHM", "HS256"},
                                           {"CPPSVC_JWT_KEY", kSecret},
                                           {"CPPSVC_JWT_ISSUER", "commerce"},
                                           {"CPPSVC_JWT_AUDIENCE", "commerce"},
                                           {"AUTH_ACCESS_TOKEN_TTL_SECONDS", "600"}};
  auto env = EnvOf(hs);
  AuthOptions o = AuthOptions::FromEnvironment(env);
  EXPECT_TRUE(env.problems().empty());
  EXPECT_EQ(o.signing.key, kSecret);
  EXPECT_EQ(o.access_token_ttl, std::chrono::seconds(600));

  auto mismatch = hs;
  mismatch["AUTH_JWT_SIGNING_KEY"] = "another-secret-0123456789-abcdef";
  env = EnvOf(mismatch);
  AuthOptions::FromEnvironment(env);
  EXPECT_EQ(env.problems().size(), 1u);

  auto rs = hs;
  rs["CPPSVC_JWT_ALGORITHM"] = "RS256";
  env = EnvOf(rs);
  AuthOptions::FromEnvironment(env);
  ASSERT_EQ(env.problems().size(), 1u);
  EXPECT_NE(env.problems()[0].find("AUTH_JWT_SIGNING_KEY"), std::string::npos);

  auto missing = hs;
  missing.erase("CPPSVC_JWT_KEY");
  missing.erase("CPPSVC_JWT_ISSUER");
  env = EnvOf(missing);
  AuthOptions::FromEnvironment(env);
  EXPECT_EQ(env.problems().size(), 2u);
}

}  // namespace
}  // namespace auth
