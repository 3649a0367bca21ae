#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/context.h"
#include "cppsvc/status.h"

namespace cppsvc {
namespace {

TEST(Status, CodesRoundTripByName) {
  for (int i = 0; i <= 16; ++i) {
    auto code = static_cast<StatusCode>(i);
    StatusCode parsed = StatusCode::kOk;
    ASSERT_TRUE(ParseStatusCode(StatusCodeName(code), parsed)) << i;
    EXPECT_EQ(parsed, code);
  }
  StatusCode ignored;
  EXPECT_FALSE(ParseStatusCode("NOT_A_CODE", ignored));
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "FAILED_PRECONDITION");
}

TEST(Status, FactoriesAndToString) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::NotFound("order 42");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: order 42");
  EXPECT_EQ(Status::Ok().ToString(), "OK");
}

TEST(Context, CallerAndDeadline) {
  Caller anonymous;
  EXPECT_TRUE(anonymous.anonymous());
  Caller c{"user-1", {"customer"}, "jti-1"};
  EXPECT_FALSE(c.anonymous());
  EXPECT_TRUE(c.HasRole("customer"));
  EXPECT_FALSE(c.HasRole("admin"));
  CallContext past(c, Clock::now() - std::chrono::seconds(1), "m", "t");
  EXPECT_TRUE(past.expired());
  CallContext future(c, Clock::now() + std::chrono::seconds(60), "m", "t");
  EXPECT_FALSE(future.expired());
  EXPECT_GT(future.remaining().count(), 50000);
  EXPECT_FALSE(CallContext().expired());  // no deadline
}

TEST(Context, GivenValuesAndTheirDefaults) {
  CallContext given(Caller{"user-1", {"customer"}, "jti-1"}, Clock::now(), "pkg.S/M", "trace-1");
  EXPECT_EQ(given.caller().subject, "user-1");
  EXPECT_EQ(given.method(), "pkg.S/M");
  EXPECT_EQ(given.trace_id(), "trace-1");
  EXPECT_EQ(given.traceparent(), "");
  EXPECT_EQ(given.bearer_token(), "");

  const CallContext none;
  EXPECT_TRUE(none.caller().anonymous());
  EXPECT_TRUE(none.caller().roles.empty());
  EXPECT_EQ(none.method(), "");
  EXPECT_EQ(none.trace_id(), "");
  EXPECT_EQ(none.bearer_token(), "");
}

// The generated server's context: shared credentials, the contract's
// method name, a traceparent kept in place and the trace id read from it.
TEST(Context, ServerContextReadsTheTraceIdFromItsTraceparent) {
  const std::string traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  auto credentials = std::make_shared<const Credentials>(
      Credentials{Caller{"u", {"customer"}, "j"}, "tok.en.sig"});
  std::optional<CallContext> ctx;
  ctx.emplace(credentials, Clock::now(), "pkg.S/M");
  ctx->set_traceparent(traceparent);
  EXPECT_EQ(&ctx->caller(), &credentials->caller);  // shared, not copied
  EXPECT_EQ(ctx->bearer_token(), "tok.en.sig");
  EXPECT_EQ(ctx->method(), "pkg.S/M");
  EXPECT_EQ(ctx->traceparent(), traceparent);
  EXPECT_EQ(ctx->trace_id(), "0af7651916cd43dd8448eb211c80319c");

  // Copies and moves carry every value, whoever outlives whom.
  CallContext copy = *ctx;
  ctx.reset();
  EXPECT_EQ(copy.traceparent(), traceparent);
  EXPECT_EQ(copy.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(copy.caller().subject, "u");
  EXPECT_EQ(copy.bearer_token(), "tok.en.sig");
  CallContext moved = std::move(copy);
  EXPECT_EQ(moved.traceparent(), traceparent);
  EXPECT_EQ(moved.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(moved.method(), "pkg.S/M");

  // A trace id given explicitly wins over the traceparent's.
  CallContext given(Caller{}, Clock::now(), "m", "explicit");
  given.set_traceparent(traceparent);
  EXPECT_EQ(given.trace_id(), "explicit");
  EXPECT_EQ(given.traceparent(), traceparent);
}

TEST(Context, TraceparentsOfOtherShapesAreKeptWhole) {
  CallContext ctx(std::shared_ptr<const Credentials>(), Clock::now(), "m");
  // A later version may append fields; a 55-character value of another
  // version is not read as version 00.
  const std::string longer = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra";
  ctx.set_traceparent(longer);
  EXPECT_EQ(ctx.traceparent(), longer);
  EXPECT_EQ(ctx.trace_id(), "");
  const std::string other = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  ctx.set_traceparent(other);
  EXPECT_EQ(ctx.traceparent(), other);
  EXPECT_EQ(ctx.trace_id(), "");
  ctx.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  EXPECT_EQ(ctx.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  ctx.set_traceparent(longer);  // back to a long one: nothing of the last is left
  EXPECT_EQ(ctx.traceparent(), longer);
  EXPECT_EQ(ctx.trace_id(), "");
}

TEST(Context, SettingABearerTokenKeepsTheCaller) {
  auto credentials =
      std::make_shared<const Credentials>(Credentials{Caller{"u", {"admin"}, "j"}, "first"});
  CallContext ctx(credentials, Clock::now(), "m");
  ctx.set_bearer_token("second");
  EXPECT_EQ(ctx.bearer_token(), "second");
  EXPECT_EQ(ctx.caller().subject, "u");
  EXPECT_EQ(ctx.caller().roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(credentials->bearer_token, "first");  // shared ones are never changed
  CallContext anonymous;
  anonymous.set_bearer_token("third");
  EXPECT_EQ(anonymous.bearer_token(), "third");
  EXPECT_TRUE(anonymous.caller().anonymous());
}

}  // namespace
}  // namespace cppsvc
