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

}  // namespace
}  // namespace cppsvc
