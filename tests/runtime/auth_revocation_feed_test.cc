#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/revocation_feed.h"

namespace cppsvc::auth {
namespace {

using google::protobuf::internal::WireFormatLite;
using SysClock = std::chrono::system_clock;
constexpr char kMethod[] = "/test.auth.v1.AuthService/ListRevokedTokens";

std::string Response(const std::vector<std::string>& jtis, int64_t as_of_seconds) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    for (const std::string& j : jtis) WireFormatLite::WriteString(1, j, &coded);
    google::protobuf::Timestamp ts;
    ts.set_seconds(as_of_seconds);
    WireFormatLite::WriteBytes(2, ts.SerializeAsString(), &coded);
  }
  return out;
}

// A stand-in for the auth service's ListRevokedTokens: answers every call
// with the jtis revoked after the request's revoked_after, and records what
// it was asked.
class FakeRevoker final : public grpc::CallbackGenericService {
 public:
  struct Revoked {
    std::string jti;
    int64_t at;
  };
  std::mutex mu;
  std::vector<Revoked> revoked;
  std::vector<std::optional<int64_t>> asked;  // revoked_after seconds per call
  std::vector<std::string> tokens;
  int64_t now = 100;

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(FakeRevoker* owner, grpc::GenericCallbackServerContext* ctx)
          : owner_(owner), ctx_(ctx) {
        StartRead(&request_);
      }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::INTERNAL, "no request"));
          return;
        }
        std::vector<grpc::Slice> slices;
        std::string bytes;
        (void)request_.Dump(&slices);
        for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
        std::string answer;
        {
          std::lock_guard<std::mutex> lock(owner_->mu);
          auto auth = ctx_->client_metadata().find("authorization");
          owner_->tokens.push_back(auth == ctx_->client_metadata().end()
                                       ? ""
                                       : std::string(auth->second.data(), auth->second.size()));
          if (ctx_->method() != kMethod) {
            Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
            return;
          }
          std::optional<int64_t> after;
          google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                    static_cast<int>(bytes.size()));
          if (uint32_t tag = in.ReadTag(); tag != 0) {
            std::string raw;
            WireFormatLite::ReadBytes(&in, &raw);
            google::protobuf::Timestamp ts;
            ts.ParseFromString(raw);
            after = ts.seconds();
          }
          owner_->asked.push_back(after);
          std::vector<std::string> jtis;
          for (const Revoked& r : owner_->revoked) {
            if (!after || r.at > *after) jtis.push_back(r.jti);
          }
          answer = Response(jtis, owner_->now);
        }
        grpc::Slice slice(answer);
        response_ = grpc::ByteBuffer(&slice, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      FakeRevoker* owner_;
      grpc::GenericCallbackServerContext* ctx_;
      grpc::ByteBuffer request_, response_;
    };
    return new Reactor(this, ctx);
  }
};

class RevocationFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  RevocationFeedOptions Options() {
    RevocationFeedOptions o;
    o.target = "127.0.0.1:" + std::to_string(port_);
    o.method = kMethod;
    o.bearer_token = "service-token";
    o.interval = std::chrono::milliseconds(20);
    return o;
  }

  FakeRevoker fake_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(RevocationFeedTest, FirstPollIsFullThenIncrementalFromAsOf) {
  auto list = std::make_shared<RevocationList>();
  list->Revoke("stale");  // a full poll replaces what was there
  fake_.revoked = {{"a", 50}, {"b", 90}};
  RevocationFeed feed(Options(), list);
  ASSERT_TRUE(feed.PollOnce().ok());
  EXPECT_TRUE(list->IsRevoked("a"));
  EXPECT_TRUE(list->IsRevoked("b"));
  EXPECT_FALSE(list->IsRevoked("stale"));

  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.revoked.push_back({"c", 120});
    fake_.now = 130;
  }
  ASSERT_TRUE(feed.PollOnce().ok());
  EXPECT_TRUE(list->IsRevoked("c"));
  EXPECT_TRUE(list->IsRevoked("a"));  // incremental polls only add
  ASSERT_EQ(fake_.asked.size(), 2u);
  EXPECT_FALSE(fake_.asked[0].has_value());
  EXPECT_EQ(fake_.asked[1], std::optional<int64_t>(100));
  EXPECT_EQ(fake_.tokens[0], "Bearer service-token");

  // A full poll drops what the server no longer lists (expired tokens).
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.revoked = {{"c", 120}};
  }
  ASSERT_TRUE(feed.PollOnce(/*full=*/true).ok());
  EXPECT_FALSE(list->IsRevoked("a"));
  EXPECT_TRUE(list->IsRevoked("c"));
  EXPECT_EQ(feed.successes(), 3u);
}

TEST_F(RevocationFeedTest, BackgroundPollingMakesTheVerifierRefuseTheToken) {
  JwtConfig config;
  config.key = "revocation-feed-test-secret-0123456789";
  config.issuer = "iss";
  config.audience = "aud";
  auto list = std::make_shared<RevocationList>();
  JwtVerifier verifier(config, list);
  TokenClaims claims;
  claims.subject = "user-1";
  claims.token_id = "jti-logged-out";
  const std::string token = JwtSigner(config).Sign(claims);
  ASSERT_TRUE(verifier.Verify(token).ok);

  RevocationFeed feed(Options(), list);
  feed.Start();
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.revoked.push_back({"jti-logged-out", 200});
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (verifier.Verify(token).ok && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  VerifyResult r = verifier.Verify(token);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "token revoked");
}

TEST_F(RevocationFeedTest, FailuresAreReportedAndKeepTheList) {
  auto list = std::make_shared<RevocationList>();
  list->Revoke("kept");
  RevocationFeedOptions o = Options();
  o.method = "/test.auth.v1.AuthService/Nope";
  RevocationFeed feed(o, list);
  Status s = feed.PollOnce();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE(list->IsRevoked("kept"));
  EXPECT_EQ(feed.successes(), 0u);

  server_->Shutdown();
  RevocationFeed down(Options(), list);
  EXPECT_EQ(down.PollOnce().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(list->IsRevoked("kept"));
}

// Past max_staleness without a good fetch the list is stale: tokens issued
// before the last good fetch are refused (or all, by configuration) until
// a fetch succeeds again.
TEST_F(RevocationFeedTest, StaleListRefusesTokensIssuedBeforeTheLastGoodFetch) {
  for (bool refuse_all : {false, true}) {
    SCOPED_TRACE(refuse_all ? "refuse_all" : "refuse_older");
    JwtConfig config;
    config.key = "revocation-feed-test-secret-0123456789";
    config.issuer = "iss";
    config.audience = "aud";
    auto list = std::make_shared<RevocationList>();
    JwtVerifier verifier(config, list);
    TokenClaims claims;
    claims.subject = "user-1";
    claims.issued_at = std::chrono::system_clock::now() - std::chrono::hours(1);
    claims.ttl = std::chrono::hours(2);
    const std::string old_token = JwtSigner(config).Sign(claims);
    claims.issued_at = std::chrono::system_clock::now() + std::chrono::seconds(2);
    const std::string new_token = JwtSigner(config).Sign(claims);

    RevocationFeedOptions o = Options();
    o.max_staleness = std::chrono::milliseconds(50);
    o.refuse_all_when_stale = refuse_all;
    RevocationFeed feed(o, list);
    const auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(feed.PollOnce().ok());
    feed.CheckStaleness(started);
    EXPECT_FALSE(list->stale());
    EXPECT_TRUE(verifier.Verify(old_token).ok);

    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    feed.CheckStaleness(started);
    ASSERT_TRUE(list->stale());
    VerifyResult r = verifier.Verify(old_token);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reason,
              refuse_all ? "revocation list is stale"
                         : "token issued before the revocation list went stale");
    EXPECT_EQ(verifier.Verify(new_token).ok, !refuse_all);

    ASSERT_TRUE(feed.PollOnce().ok());
    feed.CheckStaleness(started);
    EXPECT_FALSE(list->stale());
    EXPECT_TRUE(verifier.Verify(old_token).ok);
  }
}

TEST_F(RevocationFeedTest, WithoutABoundTheListNeverGoesStale) {
  auto list = std::make_shared<RevocationList>();
  server_->Shutdown();
  RevocationFeed feed(Options(), list);
  const auto started = std::chrono::steady_clock::now() - std::chrono::hours(1);
  EXPECT_FALSE(feed.PollOnce().ok());
  feed.CheckStaleness(started);
  EXPECT_FALSE(list->stale());
}

TEST(RevocationWire, RoundTripsAndRejectsGarbage) {
  std::vector<std::string> jtis;
  std::optional<SysClock::time_point> as_of;
  ASSERT_TRUE(DecodeRevokedTokens(Response({"x", "y"}, 42), jtis, as_of));
  EXPECT_EQ(jtis, (std::vector<std::string>{"x", "y"}));
  ASSERT_TRUE(as_of.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(as_of->time_since_epoch()).count(),
            42);
  jtis.clear();
  EXPECT_FALSE(DecodeRevokedTokens(std::string("\x0a\x05"
                                               "ab",
                                               4),
                                   jtis,
                                   as_of));  // truncated
  EXPECT_TRUE(EncodeRevokedAfter(std::nullopt).empty());
  EXPECT_FALSE(EncodeRevokedAfter(SysClock::time_point(std::chrono::seconds(7))).empty());
}

}  // namespace
}  // namespace cppsvc::auth
