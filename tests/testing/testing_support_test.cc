// CppSvc::testing: the valid token verifies, every bad token is refused for
// its own defect (and only that one), and the in-process gRPC server serves,
// carries PrepareContext's token and deadline, and stops on destruction.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/wrappers.pb.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/method_handler.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/rpc_service_method.h>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/rbac.h"
#include "cppsvc/testing/in_process_server.h"
#include "cppsvc/testing/tokens.h"

namespace cppsvc::testing {
namespace {

using google::protobuf::StringValue;
using std::chrono::minutes;

// Key generation takes a while: one set of tokens per test binary.
const TestTokens& Tokens() {
  static const TestTokens* const tokens = new TestTokens();
  return *tokens;
}

// --- tokens --------------------------------------------------------------------

TEST(TestTokensTest, VerifierConfigIsPinnedRs256) {
  const auth::JwtConfig& c = Tokens().verifier_config();
  EXPECT_EQ(c.algorithm, auth::Algorithm::kRS256);
  EXPECT_NE(c.key.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  EXPECT_EQ(c.key.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(c.issuer, "cppsvc-test");
  EXPECT_EQ(c.audience, "cppsvc-test");
  EXPECT_EQ(c.leeway, std::chrono::seconds(30));
}

TEST(TestTokensTest, VerifierIsCreatedOnceAndUsesTheRevocations) {
  EXPECT_NE(Tokens().verifier(), nullptr);
  EXPECT_EQ(Tokens().verifier(), Tokens().verifier());
  ASSERT_NE(Tokens().revocations(), nullptr);
  EXPECT_EQ(Tokens().revocations(), Tokens().revocations());
  EXPECT_EQ(Tokens().revocations()->size(), 1u);
}

TEST(TestTokensTest, ValidTokenVerifiesWithSubjectAndRoles) {
  const std::string token = Tokens().Valid("user-7", {"customer", "support"});
  const auth::VerifyResult r = Tokens().verifier()->Verify(token);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.caller.subject, "user-7");
  EXPECT_EQ(r.caller.roles, (std::vector<std::string>{"customer", "support"}));
  EXPECT_FALSE(r.caller.token_id.empty());
  EXPECT_FALSE(Tokens().revocations()->IsRevoked(r.caller.token_id));
}

TEST(TestTokensTest, ValidTokenWithoutRolesVerifies) {
  const auth::VerifyResult r = Tokens().verifier()->Verify(Tokens().Valid("svc", {}));
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_TRUE(r.caller.roles.empty());
}

TEST(TestTokensTest, ValidTokensHaveFreshIds) {
  const auth::VerifyResult a = Tokens().verifier()->Verify(Tokens().Valid("u", {"r"}));
  const auth::VerifyResult b = Tokens().verifier()->Verify(Tokens().Valid("u", {"r"}));
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_NE(a.caller.token_id, b.caller.token_id);
}

TEST(TestTokensTest, ValidTokenStaysValidForAnHour) {
  const std::string token = Tokens().Valid("u", {"r"});
  EXPECT_TRUE(Tokens().verifier()->Verify(token, Clock::now() + minutes(55)).ok);
  EXPECT_FALSE(Tokens().verifier()->Verify(token, Clock::now() + minutes(65)).ok);
}

TEST(TestTokensTest, AllBadTokensHasTenUniqueTestNames) {
  const std::vector<BadToken>& all = AllBadTokens();
  EXPECT_EQ(all.size(), 10u);
  std::set<BadToken> kinds(all.begin(), all.end());
  EXPECT_EQ(kinds.size(), all.size());
  std::set<std::string_view> names;
  for (BadToken kind : all) {
    const std::string_view name = BadTokenName(kind);
    EXPECT_FALSE(name.empty());
    for (char c : name) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
    }
    names.insert(name);
  }
  EXPECT_EQ(names.size(), all.size());
  EXPECT_EQ(BadTokenName(BadToken::kAlgNone), "alg_none");
  EXPECT_EQ(BadTokenName(BadToken::kHs256WithPublicKey), "hs256_with_public_key");
  EXPECT_EQ(BadTokenName(BadToken::kGarbage), "garbage");
}

// The verifier's reason for each defect: each is refused as what it is, not
// as a side effect of another defect.
const std::map<BadToken, std::string>& ExpectedReasons() {
  static const std::map<BadToken, std::string> kReasons = {
      {BadToken::kAlgNone, "unexpected algorithm"},
      {BadToken::kHs256WithPublicKey, "unexpected algorithm"},
      {BadToken::kWrongKey, "signature invalid"},
      {BadToken::kFlippedSignature, "signature invalid"},
      {BadToken::kExpired, "token expired"},
      {BadToken::kNotYetValid, "token not yet valid"},
      {BadToken::kWrongAudience, "audience mismatch"},
      {BadToken::kWrongIssuer, "issuer mismatch"},
      {BadToken::kRevoked, "token revoked"},
      {BadToken::kGarbage, "malformed token"},
  };
  return kReasons;
}

class BadTokenTest : public ::testing::TestWithParam<BadToken> {};

TEST_P(BadTokenTest, RefusedByTheVerifierForItsOwnReason) {
  const std::string token = Tokens().Bad(GetParam(), "user-7", {"customer"});
  const auth::VerifyResult r = Tokens().verifier()->Verify(token);
  std::cout << "[ reason   ] " << BadTokenName(GetParam()) << ": " << r.reason << "\n";
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, ExpectedReasons().at(GetParam()));
  // Fixed phrases only: never the token itself.
  EXPECT_EQ(r.reason.find(token), std::string::npos);
}

TEST_P(BadTokenTest, IsDifferentEveryTimeButAlwaysRefused) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(Tokens().verifier()->Verify(Tokens().Bad(GetParam(), "u", {})).ok);
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds,
                         BadTokenTest,
                         ::testing::ValuesIn(AllBadTokens()),
                         [](const ::testing::TestParamInfo<BadToken>& info) {
                           return std::string(BadTokenName(info.param));
                         });

std::string HeaderOf(const std::string& token) {
  return token.substr(0, token.find('.'));
}
std::string SignatureOf(const std::string& token) {
  return token.substr(token.rfind('.') + 1);
}

TEST(BadTokenShapeTest, AlgNoneIsUnsigned) {
  const std::string token = Tokens().Bad(BadToken::kAlgNone, "u", {"r"});
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(token.back(), '.');
  EXPECT_EQ(HeaderOf(token), "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0");  // {"alg":"none","typ":"JWT"}
}

TEST(BadTokenShapeTest, Hs256HasAnHmacSizedSignature) {
  const std::string token = Tokens().Bad(BadToken::kHs256WithPublicKey, "u", {"r"});
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(HeaderOf(token),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");  // {"alg":"HS256","typ":"JWT"}
  EXPECT_EQ(SignatureOf(token).size(), 43u);          // 32 bytes, unpadded base64url
}

TEST(BadTokenShapeTest, FlippedSignatureStaysWellFormed) {
  const std::string token = Tokens().Bad(BadToken::kFlippedSignature, "u", {"r"});
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(HeaderOf(token), HeaderOf(Tokens().Valid("u", {"r"})));
  EXPECT_EQ(SignatureOf(token).size(), 342u);  // 256 bytes (RSA-2048), unpadded base64url
}

TEST(BadTokenShapeTest, GarbageIsNotAJwt) {
  EXPECT_EQ(Tokens().Bad(BadToken::kGarbage, "u", {}), "not-a-jwt");
}

// "Only the defect makes it fail": with the defect taken away, the same
// token verifies.
TEST(BadTokenShapeTest, OnlyTheDefectMakesItFail) {
  const TestTokens& t = Tokens();
  EXPECT_TRUE(
      t.verifier()->Verify(t.Bad(BadToken::kExpired, "u", {"r"}), Clock::now() - minutes(90)).ok);
  EXPECT_TRUE(t.verifier()
                  ->Verify(t.Bad(BadToken::kNotYetValid, "u", {"r"}), Clock::now() + minutes(90))
                  .ok);

  const auth::JwtVerifier no_revocations(t.verifier_config());
  const auth::VerifyResult revoked = no_revocations.Verify(t.Bad(BadToken::kRevoked, "u", {"r"}));
  ASSERT_TRUE(revoked.ok) << revoked.reason;
  EXPECT_TRUE(t.revocations()->IsRevoked(revoked.caller.token_id));

  auth::JwtConfig other_audience = t.verifier_config();
  other_audience.audience = "someone-else";
  EXPECT_TRUE(
      auth::JwtVerifier(other_audience).Verify(t.Bad(BadToken::kWrongAudience, "u", {"r"})).ok);

  auth::JwtConfig other_issuer = t.verifier_config();
  other_issuer.issuer = "someone-else";
  EXPECT_TRUE(auth::JwtVerifier(other_issuer).Verify(t.Bad(BadToken::kWrongIssuer, "u", {"r"})).ok);
}

// --- in-process gRPC server -------------------------------------------------------

constexpr char kEchoMethod[] = "/cppsvc.testing.v1.Echo/Echo";

// A one-method service written the way generated code registers methods.
// Echo answers "<value>|<authorization metadata>|<deadline ok>".
class EchoService : public grpc::Service {
 public:
  EchoService() {
    AddMethod(new grpc::internal::RpcServiceMethod(
        kEchoMethod,
        grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<EchoService, StringValue, StringValue>(
            [](EchoService* self,
               grpc::ServerContext* ctx,
               const StringValue* req,
               StringValue* resp) { return self->Echo(ctx, req, resp); },
            this)));
  }

 private:
  grpc::Status Echo(grpc::ServerContext* ctx, const StringValue* req, StringValue* resp) {
    std::string authorization = "-";
    const auto& md = ctx->client_metadata();
    if (auto it = md.find("authorization"); it != md.end()) {
      authorization.assign(it->second.data(), it->second.size());
    }
    const auto left = ctx->deadline() - std::chrono::system_clock::now();
    const bool deadline_ok = left > std::chrono::seconds(5) && left <= std::chrono::seconds(11);
    resp->set_value(req->value() + "|" + authorization + "|" +
                    (deadline_ok ? "deadline" : "no-deadline"));
    return grpc::Status::OK;
  }
};

grpc::Status CallEcho(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& token,
                      const std::string& value,
                      std::string& out) {
  grpc::ClientContext ctx;
  PrepareContext(ctx, token);
  StringValue req;
  req.set_value(value);
  StringValue resp;
  const grpc::Status status = grpc::internal::BlockingUnaryCall<StringValue, StringValue>(
      channel.get(),
      grpc::internal::RpcMethod(kEchoMethod, grpc::internal::RpcMethod::NORMAL_RPC),
      &ctx,
      req,
      &resp);
  out = resp.value();
  return status;
}

TEST(GrpcTestServerTest, ListensOnAnEphemeralPortAndConnects) {
  EchoService service;
  GrpcTestServer server(service);
  EXPECT_GT(server.port(), 0);
  ASSERT_NE(server.channel(), nullptr);
  EXPECT_TRUE(server.channel()->WaitForConnected(std::chrono::system_clock::now() +
                                                 std::chrono::seconds(10)));
}

TEST(GrpcTestServerTest, ServesCallsWithPrepareContextsTokenAndDeadline) {
  EchoService service;
  GrpcTestServer server(service);
  std::string out;
  const grpc::Status status = CallEcho(server.channel(), "tok.en.x", "hello", out);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(out, "hello|Bearer tok.en.x|deadline");
}

TEST(GrpcTestServerTest, NoAuthorizationWhenTokenIsEmpty) {
  EchoService service;
  GrpcTestServer server(service);
  std::string out;
  const grpc::Status status = CallEcho(server.channel(), "", "hi", out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(out, "hi|-|deadline");
}

TEST(GrpcTestServerTest, TwoServersGetDifferentPorts) {
  EchoService a;
  EchoService b;
  GrpcTestServer server_a(a);
  GrpcTestServer server_b(b);
  EXPECT_NE(server_a.port(), server_b.port());
}

TEST(GrpcTestServerTest, StopsOnDestruction) {
  EchoService service;
  std::shared_ptr<grpc::Channel> channel;
  {
    GrpcTestServer server(service);
    channel = server.channel();
    std::string out;
    ASSERT_TRUE(CallEcho(channel, "", "x", out).ok());
  }
  std::string out;
  const grpc::Status status = CallEcho(channel, "", "x", out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

// --- TestServiceOptions / InProcessServer -----------------------------------------

std::vector<auth::RoleSpec> SomeRoles() {
  return {auth::RoleSpec{"customer", {}, false}, auth::RoleSpec{"admin", {"customer"}, true}};
}

TEST(TestServiceOptionsTest, SmallBulkheadTokensVerifierAndRoles) {
  const impl::ServiceOptions o = TestServiceOptions("orders", Tokens(), SomeRoles());
  EXPECT_EQ(o.service, "orders");
  EXPECT_EQ(o.verifier, Tokens().verifier());
  ASSERT_NE(o.roles, nullptr);
  EXPECT_EQ(o.roles->Expand("admin"), (std::set<std::string>{"admin", "customer"}));
  ASSERT_NE(o.metrics, nullptr);
  EXPECT_EQ(o.workers, 4u);
  EXPECT_EQ(o.max_queue, 64u);
  EXPECT_FALSE(o.log_requests);
}

// Handlers of a contract with foreign_resources: FOREIGN_PERMISSION_DENIED.
struct DenyingHandlers {
  static constexpr auto kForeignResources = ForeignResources::kPermissionDenied;
  int id = 0;
};

// Stands in for a generated <Service>Server: what InProcessServer needs.
template <typename HandlersT>
class FakeServerOf : public EchoService {
 public:
  using Handlers = HandlersT;
  static constexpr impl::ServiceSpec kSpec = [] {
    impl::ServiceSpec spec;
    spec.name = "fake";
    return spec;
  }();
  static std::vector<auth::RoleSpec> Roles() { return SomeRoles(); }

  FakeServerOf(Handlers& handlers, impl::ServiceOptions options)
      : handlers_(handlers), options_(std::move(options)) {}
  const impl::ServiceOptions& options() const { return options_; }
  Handlers& handlers() { return handlers_; }

 private:
  Handlers& handlers_;
  impl::ServiceOptions options_;
};

// Handlers generated before foreign_resources existed.
struct PlainHandlers {
  int id = 0;
};
using FakeServer = FakeServerOf<PlainHandlers>;

TEST(InProcessServerTest, BuildsTheServerWithTestOptionsAndServesIt) {
  FakeServer::Handlers handlers{42};
  InProcessServer<FakeServer> server(handlers, Tokens());
  EXPECT_EQ(server.server().handlers().id, 42);
  EXPECT_EQ(server.server().options().service, "fake");
  EXPECT_EQ(server.server().options().verifier, Tokens().verifier());
  EXPECT_EQ(server.server().options().roles->Expand("admin"),
            (std::set<std::string>{"admin", "customer"}));
  std::string out;
  const grpc::Status status =
      CallEcho(server.channel(), Tokens().Valid("u", {"customer"}), "in-process", out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(out.substr(0, out.find('|')), "in-process");
  EXPECT_NE(out.find("|Bearer ey"), std::string::npos);
}

TEST(InProcessServerTest, AnswersForeignResourcesAsTheContractSays) {
  FakeServer::Handlers plain{1};
  InProcessServer<FakeServer> by_default(plain, Tokens());
  EXPECT_EQ(by_default.server().options().foreign_resources, ForeignResources::kNotFound);
  DenyingHandlers denying{2};
  InProcessServer<FakeServerOf<DenyingHandlers>> denies(denying, Tokens());
  EXPECT_EQ(denies.server().options().foreign_resources, ForeignResources::kPermissionDenied);
}

}  // namespace
}  // namespace cppsvc::testing
