#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include "cppsvc/impl/server.h"
#include "observability/log_sink.h"

namespace cppsvc::impl {
namespace {

using google::protobuf::StringValue;

class FakeCall final : public IncomingCall {
 public:
  std::map<std::string, std::string> metadata;
  std::optional<Clock::time_point> deadline;
  bool may_run_inline = false;
  bool MayRunInline() const override { return may_run_inline; }
  std::optional<std::string_view> Metadata(std::string_view key) const override {
    auto it = metadata.find(std::string(key));
    if (it == metadata.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::optional<Clock::time_point> Deadline() const override { return deadline; }
  std::string Peer() const override { return "ipv4:127.0.0.1:1"; }
  std::string_view Transport() const override { return "test"; }
};

auth::JwtConfig Config() {
  auth::JwtConfig c;
  c.algorithm = auth::Algorithm::kHS256;
  c.key = "unit-test-secret-unit-test-secret";
  c.issuer = "test";
  c.audience = "test";
  return c;
}

std::string Token(const std::string& subject, std::vector<std::string> roles) {
  auth::TokenClaims claims;
  claims.subject = subject;
  claims.roles = std::move(roles);
  return auth::JwtSigner(Config()).Sign(claims);
}

// A call that may run inline and presents `token` as its bearer token.
FakeCall InlineCallWithToken(const std::string& token) {
  FakeCall call;
  call.may_run_inline = true;
  call.metadata["authorization"] = "Bearer " + token;
  return call;
}

void RejectEmpty(const Message& m, Violations& v) {
  if (static_cast<const StringValue&>(m).value().empty()) v.Add({nullptr, "value"}, "is required");
}

std::string_view OwnerOfValue(const Message& m) {
  return static_cast<const StringValue&>(m).value();
}

class ServiceRuntimeTest : public ::testing::Test {
 protected:
  ServiceRuntimeTest() {
    method_.name = "Get";
    method_.full_name = "test.Service/Get";
    method_.roles = {"customer"};
    method_.validate = &RejectEmpty;
    observability::internal::SetLogSink(&log_);
  }
  ~ServiceRuntimeTest() override { observability::internal::SetLogSink(nullptr); }

  std::unique_ptr<ServiceRuntime> Runtime(size_t workers = 2,
                                          size_t queue = 8,
                                          bool inline_handlers = false) {
    ServiceOptions o;
    o.inline_handlers = inline_handlers;
    o.foreign_resources = foreign_resources_;
    o.service = "test";
    o.verifier = std::make_shared<auth::JwtVerifier>(Config());
    o.roles = std::make_shared<auth::RoleGraph>(
        std::vector<auth::RoleSpec>{{"admin", {"customer"}, true}, {"customer", {}, false}});
    o.metrics = std::make_shared<observability::Metrics>("test");
    o.workers = workers;
    o.max_queue = queue;
    return std::make_unique<ServiceRuntime>(o, std::vector<const MethodSpec*>{&method_});
  }

  // Dispatches and waits for the outcome.
  Status Call(ServiceRuntime& rt,
              const FakeCall& call,
              const StringValue& request,
              StringValue& response,
              Handler handler) {
    std::promise<Status> done;
    rt.Dispatch(call, method_, request, response, std::move(handler), [&](const Status& s) {
      done.set_value(s);
    });
    return done.get_future().get();
  }

  MethodSpec method_;
  ForeignResources foreign_resources_ = defaults::kForeignResources;
  std::ostringstream log_;
};

TEST_F(ServiceRuntimeTest, ChecksRunInOrderBeforeTheHandler) {
  auto rt = Runtime();
  StringValue empty, ok_request, response;
  ok_request.set_value("x");
  int handled = 0;
  Handler handler = [&](CallContext&) {
    ++handled;
    return Status::Ok();
  };

  FakeCall no_token;
  // Authentication comes before validation: an invalid request without a
  // token is UNAUTHENTICATED, not INVALID_ARGUMENT.
  EXPECT_EQ(Call(*rt, no_token, empty, response, handler).code(), StatusCode::kUnauthenticated);

  FakeCall stranger;
  stranger.metadata["authorization"] = "Bearer " + Token("u1", {"guest"});
  EXPECT_EQ(Call(*rt, stranger, empty, response, handler).code(), StatusCode::kPermissionDenied);

  FakeCall customer;
  customer.metadata["authorization"] = "Bearer " + Token("u1", {"customer"});
  Status invalid = Call(*rt, customer, empty, response, handler);
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.message(), "value: is required");
  EXPECT_EQ(handled, 0);

  EXPECT_TRUE(Call(*rt, customer, ok_request, response, handler).ok());
  EXPECT_EQ(handled, 1);
}

TEST_F(ServiceRuntimeTest, HandlerSeesCallerDeadlineAndTrace) {
  auto rt = Runtime();
  StringValue request, response;
  request.set_value("x");
  FakeCall call;
  const std::string token = Token("u7", {"admin"});
  call.metadata["authorization"] = "Bearer " + token;
  call.metadata["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  call.deadline = Clock::now() + std::chrono::seconds(2);
  CallContext seen;
  EXPECT_TRUE(Call(*rt, call, request, response, [&](CallContext& ctx) {
                seen = ctx;
                return Status::Ok();
              }).ok());
  EXPECT_EQ(seen.caller().subject, "u7");
  EXPECT_EQ(seen.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_LE(seen.deadline(), *call.deadline);
  EXPECT_NE(seen.traceparent().find("0af7651916cd43dd8448eb211c80319c"), std::string::npos);
  EXPECT_EQ(seen.bearer_token(), token);  // for calls made on the caller's behalf
}

// Calls presenting the same token share its caller and the token with the
// verifier instead of copying them, and name the method by the contract's
// constant; a worker's call as much as an inline one.
TEST_F(ServiceRuntimeTest, CallsShareTheCallerTheTokenAndTheMethodName) {
  for (bool inline_handlers : {true, false}) {
    SCOPED_TRACE(inline_handlers ? "inline" : "on a worker");
    auto rt = Runtime(/*workers=*/2, /*queue=*/8, inline_handlers);
    StringValue request, response;
    request.set_value("x");
    const std::string token = Token("u7", {"customer"});
    const FakeCall call = InlineCallWithToken(token);
    std::vector<const Caller*> callers;
    std::vector<const char*> tokens;
    std::vector<std::string> trace_ids;
    for (int i = 0; i < 3; ++i) {
      // One delivering thread, as a connection's calls may come.
      ASSERT_TRUE(Call(*rt, call, request, response, [&](CallContext& ctx) {
                    EXPECT_EQ(ctx.method().data(), method_.full_name.data());
                    EXPECT_EQ(ctx.bearer_token(), token);
                    EXPECT_EQ(ctx.caller().subject, "u7");
                    callers.push_back(&ctx.caller());
                    tokens.push_back(ctx.bearer_token().data());
                    trace_ids.emplace_back(ctx.trace_id());
                    EXPECT_EQ(ctx.traceparent().substr(3, 32), ctx.trace_id());
                    return Status::Ok();
                  }).ok());
    }
    ASSERT_EQ(callers.size(), 3u);
    if (inline_handlers) {
      // The delivering thread's remembered copy, from the second call on.
      EXPECT_EQ(callers[1], callers[2]);
      EXPECT_EQ(tokens[1], tokens[2]);
    }
    // Each call is a span of a trace of its own (no traceparent came).
    EXPECT_NE(trace_ids[0], trace_ids[1]);
    EXPECT_NE(trace_ids[1], trace_ids[2]);
  }
}

// A public RPC authenticates nobody, but a token it was sent is still
// passed on to the calls it makes on the caller's behalf.
TEST_F(ServiceRuntimeTest, PublicCallsAreAnonymousAndKeepTheTokenTheyWereSent) {
  method_.is_public = true;
  method_.roles.clear();
  for (bool inline_handlers : {true, false}) {
    SCOPED_TRACE(inline_handlers ? "inline" : "on a worker");
    auto rt = Runtime(/*workers=*/2, /*queue=*/8, inline_handlers);
    StringValue request, response;
    request.set_value("x");
    for (const std::string header : {"Bearer not-even-a-jwt", "Basic abc", ""}) {
      SCOPED_TRACE(header);
      FakeCall call;
      call.may_run_inline = true;
      if (!header.empty()) call.metadata["authorization"] = header;
      std::string token = "unset";
      bool anonymous = false;
      ASSERT_TRUE(Call(*rt, call, request, response, [&](CallContext& ctx) {
                    token = std::string(ctx.bearer_token());
                    anonymous = ctx.caller().anonymous();
                    return Status::Ok();
                  }).ok());
      EXPECT_TRUE(anonymous);
      EXPECT_EQ(token, header == "Bearer not-even-a-jwt" ? "not-even-a-jwt" : "");
    }
  }
}

TEST_F(ServiceRuntimeTest, InlineHandlersRunOnTheDeliveringThreadWithTheWholeContext) {
  auto rt = Runtime(/*workers=*/2, /*queue=*/8, /*inline_handlers=*/true);
  StringValue request, response;
  request.set_value("x");
  const std::string token = Token("u7", {"customer"});
  FakeCall call = InlineCallWithToken(token);
  call.metadata["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  std::thread::id ran_on;
  CallContext seen;
  std::optional<Status> outcome;
  rt->Dispatch(
      call,
      method_,
      request,
      response,
      [&](CallContext& ctx) {
        ran_on = std::this_thread::get_id();
        seen = ctx;
        return Status::NotFound("no such thing");
      },
      [&](const Status& s) { outcome = s; });
  // Answered before Dispatch returned, on this thread, and the slot is free.
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->code(), StatusCode::kNotFound);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(rt->bulkhead().running(), 0u);
  EXPECT_EQ(seen.caller().subject, "u7");
  EXPECT_EQ(seen.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(seen.bearer_token(), token);
  EXPECT_EQ(seen.method(), "test.Service/Get");
  EXPECT_NE(log_.str().find("\"code\":\"NOT_FOUND\""), std::string::npos);

  // A throwing inline handler is INTERNAL and gives its slot back.
  Status thrown = Call(*rt, call, request, response, [](CallContext&) -> Status {
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_EQ(rt->bulkhead().running(), 0u);

  // A transport that delivers calls one at a time never runs them inline.
  call.may_run_inline = false;
  std::promise<std::thread::id> pooled;
  EXPECT_TRUE(Call(*rt, call, request, response, [&](CallContext&) {
                pooled.set_value(std::this_thread::get_id());
                return Status::Ok();
              }).ok());
  EXPECT_NE(pooled.get_future().get(), std::this_thread::get_id());
}

TEST_F(ServiceRuntimeTest, TypedErrorsPassExceptionsBecomeInternalAndAreLogged) {
  auto rt = Runtime();
  StringValue request, response;
  request.set_value("x");
  FakeCall call;
  call.metadata["authorization"] = "Bearer " + Token("u1", {"customer"});

  Status not_found = Call(*rt, call, request, response, [](CallContext&) {
    return Status::NotFound("no such order");
  });
  EXPECT_EQ(not_found.code(), StatusCode::kNotFound);
  EXPECT_EQ(not_found.message(), "no such order");

  Status thrown = Call(*rt, call, request, response, [&](CallContext&) -> Status {
    response.set_value("half-written");
    throw std::runtime_error("db password is hunter2");
  });
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_EQ(thrown.message(), "internal error");  // the exception's text never reaches the caller
  EXPECT_EQ(response.value(), "");                // nor does a half-written response
  EXPECT_NE(log_.str().find("db password is hunter2"), std::string::npos);  // but it is logged
}

TEST_F(ServiceRuntimeTest, FullBulkheadRefusesAtOnce) {
  auto rt = Runtime(/*workers=*/1, /*queue=*/0);
  StringValue request, response1, response2;
  request.set_value("x");
  FakeCall call;
  call.metadata["authorization"] = "Bearer " + Token("u1", {"customer"});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> first;
  rt->Dispatch(
      call,
      method_,
      request,
      response1,
      [&](CallContext&) {
        released.wait();
        return Status::Ok();
      },
      [&](const Status& s) { first.set_value(s); });
  // The only worker is busy and nothing may queue.
  auto start = std::chrono::steady_clock::now();
  Status refused = Call(*rt, call, request, response2, [](CallContext&) { return Status::Ok(); });
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  release.set_value();
  EXPECT_TRUE(first.get_future().get().ok());
}

// Another user's resource gets the service's foreign_resources answer, on
// the request before the handler and on the response after it; by default
// the same as a resource that does not exist.
TEST_F(ServiceRuntimeTest, OwnershipOnRequestAndResponse) {
  struct Setting {
    std::optional<ForeignResources> foreign_resources;  // unset: the default
    StatusCode code;
    std::string message;
  };
  const Setting settings[] = {
      {std::nullopt, StatusCode::kNotFound, "not found"},
      {ForeignResources::kNotFound, StatusCode::kNotFound, "not found"},
      {ForeignResources::kPermissionDenied,
       StatusCode::kPermissionDenied,
       "the resource belongs to another user"},
  };
  method_.validate = nullptr;
  StringValue mine, theirs, response;
  mine.set_value("u1");
  theirs.set_value("u2");
  FakeCall customer;
  customer.metadata["authorization"] = "Bearer " + Token("u1", {"customer"});
  FakeCall admin;
  admin.metadata["authorization"] = "Bearer " + Token("boss", {"admin"});
  auto ok = [](CallContext&) { return Status::Ok(); };
  auto answer = [&](const char* owner) {
    return [owner, &response](CallContext&) {
      response.set_value(owner);
      return Status::Ok();
    };
  };
  for (const Setting& setting : settings) {
    SCOPED_TRACE(setting.message);
    foreign_resources_ = setting.foreign_resources.value_or(defaults::kForeignResources);
    method_.request_owner = &OwnerOfValue;
    method_.response_owner = nullptr;
    auto rt = Runtime();
    EXPECT_TRUE(Call(*rt, customer, mine, response, ok).ok());
    Status foreign = Call(*rt, customer, theirs, response, ok);
    EXPECT_EQ(foreign.code(), setting.code);
    EXPECT_EQ(foreign.message(), setting.message);
    EXPECT_TRUE(Call(*rt, admin, theirs, response, ok).ok());  // admins bypass ownership

    method_.request_owner = nullptr;
    method_.response_owner = &OwnerOfValue;
    auto rt2 = Runtime();
    EXPECT_TRUE(Call(*rt2, customer, mine, response, answer("u1")).ok());
    foreign = Call(*rt2, customer, mine, response, answer("u2"));
    EXPECT_EQ(foreign.code(), setting.code);
    EXPECT_EQ(foreign.message(), setting.message);
    EXPECT_EQ(response.value(), "");  // the other user's resource is not sent
  }
}

TEST_F(ServiceRuntimeTest, ExpiredDeadlineAndDrainingRefuse) {
  auto rt = Runtime();
  StringValue request, response;
  request.set_value("x");
  FakeCall late;
  late.metadata["authorization"] = "Bearer " + Token("u1", {"customer"});
  late.deadline = Clock::now() - std::chrono::milliseconds(1);
  EXPECT_EQ(Call(*rt, late, request, response, [](CallContext&) { return Status::Ok(); }).code(),
            StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(rt->Drain(std::chrono::steady_clock::now() + std::chrono::seconds(1)));
  FakeCall call;
  call.metadata["authorization"] = "Bearer " + Token("u1", {"customer"});
  EXPECT_EQ(Call(*rt, call, request, response, [](CallContext&) { return Status::Ok(); }).code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cppsvc::impl

namespace cppsvc::impl {
namespace {

TEST_F(ServiceRuntimeTest, RateLimitPerCaller) {
  method_.validate = nullptr;
  method_.rate_per_second = 0.001;  // no refill within the test
  method_.rate_burst = 2;
  auto rt = Runtime();
  StringValue request, response;
  FakeCall alice, bob;
  alice.metadata["authorization"] = "Bearer " + Token("alice", {"customer"});
  bob.metadata["authorization"] = "Bearer " + Token("bob", {"customer"});
  auto ok = [](CallContext&) { return Status::Ok(); };
  EXPECT_TRUE(Call(*rt, alice, request, response, ok).ok());
  EXPECT_TRUE(Call(*rt, alice, request, response, ok).ok());
  Status limited = Call(*rt, alice, request, response, ok);
  EXPECT_EQ(limited.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(limited.message(), "rate limit exceeded");
  EXPECT_TRUE(Call(*rt, bob, request, response, ok).ok());  // buckets are per caller
}

TEST(BearerToken, SchemeIsCaseInsensitiveAndNeedsOneSpace) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER abc"), "abc");
  EXPECT_EQ(BearerToken("bEaReR a.b.c"), "a.b.c");
  EXPECT_EQ(BearerToken("Bearer "), "");  // no token
  EXPECT_EQ(BearerToken("Bearer\tabc"), "");
  EXPECT_EQ(BearerToken("Bearerxabc"), "");
  EXPECT_EQ(BearerToken("Basic abcdef"), "");
  EXPECT_EQ(BearerToken("Bearar abc"), "");
  // "Bšarer abc": a letter outside ASCII where the scheme has an "e".
  const std::string non_ascii = std::string("B\xc5\xa1") + "arer abc";
  EXPECT_EQ(BearerToken(non_ascii), "");
  EXPECT_EQ(BearerToken(""), "");
}

}  // namespace
}  // namespace cppsvc::impl
