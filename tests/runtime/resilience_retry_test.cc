#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "cppsvc/resilience/retry.h"

namespace cppsvc::resilience {
namespace {

using std::chrono::milliseconds;

TEST(RetryBackoff, CapGrowsExponentiallyUpToMax) {
  RetryConfig c;  // 50ms initial, x2, 2000ms max
  EXPECT_EQ(BackoffCap(c, 1), milliseconds(50));
  EXPECT_EQ(BackoffCap(c, 2), milliseconds(100));
  EXPECT_EQ(BackoffCap(c, 3), milliseconds(200));
  EXPECT_EQ(BackoffCap(c, 4), milliseconds(400));
  EXPECT_EQ(BackoffCap(c, 5), milliseconds(800));
  EXPECT_EQ(BackoffCap(c, 6), milliseconds(1600));
  EXPECT_EQ(BackoffCap(c, 7), milliseconds(2000));
  EXPECT_EQ(BackoffCap(c, 8), milliseconds(2000));
  EXPECT_EQ(BackoffCap(c, 1000), milliseconds(2000));  // no overflow
}

TEST(RetryBackoff, CapWithOtherParameters) {
  RetryConfig c;
  c.initial_backoff = milliseconds(10);
  c.multiplier = 3.0;
  c.max_backoff = milliseconds(1000);
  EXPECT_EQ(BackoffCap(c, 1), milliseconds(10));
  EXPECT_EQ(BackoffCap(c, 2), milliseconds(30));
  EXPECT_EQ(BackoffCap(c, 3), milliseconds(90));
  EXPECT_EQ(BackoffCap(c, 4), milliseconds(270));
  EXPECT_EQ(BackoffCap(c, 5), milliseconds(810));
  EXPECT_EQ(BackoffCap(c, 6), milliseconds(1000));

  c.multiplier = 1.0;  // constant backoff
  EXPECT_EQ(BackoffCap(c, 1), milliseconds(10));
  EXPECT_EQ(BackoffCap(c, 50), milliseconds(10));

  c.initial_backoff = milliseconds(5000);  // initial above max: max wins
  EXPECT_EQ(BackoffCap(c, 1), milliseconds(1000));
}

TEST(RetryBackoff, FullJitterStaysWithinCapAndAveragesHalf) {
  RetryConfig c;
  std::mt19937_64 rng(12345);
  for (int retry = 1; retry <= 8; ++retry) {
    const int64_t cap = BackoffCap(c, retry).count();
    const int kDraws = 20000;
    double sum = 0;
    int64_t lo = cap, hi = 0;
    for (int i = 0; i < kDraws; ++i) {
      const int64_t d = Backoff(c, retry, rng).count();
      ASSERT_GE(d, 0) << "retry " << retry;
      ASSERT_LE(d, cap) << "retry " << retry;
      sum += static_cast<double>(d);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    const double mean = sum / kDraws;
    EXPECT_GT(mean, 0.4 * static_cast<double>(cap)) << "retry " << retry;
    EXPECT_LT(mean, 0.6 * static_cast<double>(cap)) << "retry " << retry;
    // Full jitter spans the whole range, not just its top part.
    EXPECT_LT(lo, cap / 10 + 1) << "retry " << retry;
    EXPECT_GT(hi, cap - cap / 10 - 1) << "retry " << retry;
  }
}

TEST(RetryBackoff, ZeroCapMeansNoWait) {
  RetryConfig c;
  c.initial_backoff = milliseconds(0);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(Backoff(c, 3, rng), milliseconds(0));
}

TEST(RetryPolicy, NonIdempotentNeverRetries) {
  RetryConfig c;
  c.max_attempts = 100;
  for (int code = 0; code <= 16; ++code) {
    for (int attempt = 1; attempt <= 5; ++attempt) {
      EXPECT_FALSE(ShouldRetry(c, /*idempotent=*/false, static_cast<StatusCode>(code), attempt))
          << "code " << code << " attempt " << attempt;
    }
  }
}

TEST(RetryPolicy, OnlyRetryableCodes) {
  RetryConfig c;  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
  for (int i = 0; i <= 16; ++i) {
    auto code = static_cast<StatusCode>(i);
    const bool expected = code == StatusCode::kUnavailable ||
                          code == StatusCode::kDeadlineExceeded ||
                          code == StatusCode::kResourceExhausted;
    EXPECT_EQ(ShouldRetry(c, true, code, 1), expected) << StatusCodeName(code);
  }
  c.retryable = {StatusCode::kAborted};
  EXPECT_TRUE(ShouldRetry(c, true, StatusCode::kAborted, 1));
  EXPECT_FALSE(ShouldRetry(c, true, StatusCode::kUnavailable, 1));
  c.retryable = {StatusCode::kOk};  // OK is never a failure to retry
  EXPECT_FALSE(ShouldRetry(c, true, StatusCode::kOk, 1));
}

TEST(RetryPolicy, StopsWhenAttemptsExhausted) {
  RetryConfig c;
  c.max_attempts = 3;
  EXPECT_TRUE(ShouldRetry(c, true, StatusCode::kUnavailable, 1));
  EXPECT_TRUE(ShouldRetry(c, true, StatusCode::kUnavailable, 2));
  EXPECT_FALSE(ShouldRetry(c, true, StatusCode::kUnavailable, 3));
  EXPECT_FALSE(ShouldRetry(c, true, StatusCode::kUnavailable, 4));
  c.max_attempts = 1;  // retries disabled
  EXPECT_FALSE(ShouldRetry(c, true, StatusCode::kUnavailable, 1));
}

// A retry loop as the typed client drives it, with sleeps recorded instead
// of slept: checks the pieces compose into the documented policy.
struct LoopResult {
  int calls = 0;
  std::vector<milliseconds> sleeps;
};
LoopResult RunLoop(const RetryConfig& c, bool idempotent, StatusCode always, RetryBudget& budget) {
  LoopResult r;
  std::mt19937_64 rng(7);
  budget.OnCall();
  for (int attempt = 1;; ++attempt) {
    ++r.calls;
    if (!ShouldRetry(c, idempotent, always, attempt) || !budget.TryRetry()) break;
    r.sleeps.push_back(Backoff(c, attempt, rng));
  }
  return r;
}

TEST(RetryPolicy, LoopHonoursIdempotencyAttemptsAndCaps) {
  RetryConfig c;
  c.max_attempts = 4;
  RetryBudget budget(0.2, 10);
  auto non_idempotent = RunLoop(c, false, StatusCode::kUnavailable, budget);
  EXPECT_EQ(non_idempotent.calls, 1);
  auto not_retryable = RunLoop(c, true, StatusCode::kInvalidArgument, budget);
  EXPECT_EQ(not_retryable.calls, 1);
  auto retried = RunLoop(c, true, StatusCode::kUnavailable, budget);
  ASSERT_EQ(retried.calls, 4);
  ASSERT_EQ(retried.sleeps.size(), 3u);
  for (size_t i = 0; i < retried.sleeps.size(); ++i) {
    EXPECT_LE(retried.sleeps[i], BackoffCap(c, static_cast<int>(i) + 1));
    EXPECT_GE(retried.sleeps[i], milliseconds(0));
  }
}

TEST(RetryBudget, RefusesWhenTokensRunOutAndRefillsWithCalls) {
  RetryBudget budget(0.2, 10);  // starts full
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.TryRetry()) << i;
  EXPECT_FALSE(budget.TryRetry());
  EXPECT_FALSE(budget.TryRetry());
  for (int i = 0; i < 4; ++i) budget.OnCall();  // 0.8 tokens
  EXPECT_FALSE(budget.TryRetry());
  budget.OnCall();  // 1.0
  EXPECT_TRUE(budget.TryRetry());
  EXPECT_FALSE(budget.TryRetry());
}

TEST(RetryBudget, RefillIsCappedAtMaxTokens) {
  RetryBudget budget(0.1, 3);
  for (int i = 0; i < 1000; ++i) budget.OnCall();
  int granted = 0;
  while (budget.TryRetry()) ++granted;
  EXPECT_EQ(granted, 3);
  for (int i = 0; i < 10; ++i) budget.OnCall();  // 10 x 0.1 = 1 token
  EXPECT_TRUE(budget.TryRetry());
  EXPECT_FALSE(budget.TryRetry());
}

TEST(RetryBudget, ZeroRatioNeverRefills) {
  RetryBudget budget(0.0, 1);
  EXPECT_TRUE(budget.TryRetry());
  for (int i = 0; i < 100; ++i) budget.OnCall();
  EXPECT_FALSE(budget.TryRetry());
}

}  // namespace
}  // namespace cppsvc::resilience
