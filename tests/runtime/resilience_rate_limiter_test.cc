#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cppsvc/resilience/rate_limiter.h"

namespace cppsvc::resilience {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(RateLimiter, BurstThenRefusal) {
  RateLimiter rl(/*per_second=*/1, /*burst=*/3);
  EXPECT_TRUE(rl.Allow("k", kT0));
  EXPECT_TRUE(rl.Allow("k", kT0));
  EXPECT_TRUE(rl.Allow("k", kT0));
  EXPECT_FALSE(rl.Allow("k", kT0));
  EXPECT_FALSE(rl.Allow("k", kT0));
}

TEST(RateLimiter, RefillsOverTime) {
  RateLimiter rl(/*per_second=*/10, /*burst=*/2);  // one token per 100ms
  EXPECT_TRUE(rl.Allow("k", kT0));
  EXPECT_TRUE(rl.Allow("k", kT0));
  EXPECT_FALSE(rl.Allow("k", kT0));
  EXPECT_FALSE(rl.Allow("k", kT0 + milliseconds(99)));
  EXPECT_TRUE(rl.Allow("k", kT0 + milliseconds(100)));
  EXPECT_FALSE(rl.Allow("k", kT0 + milliseconds(100)));
  // Partial refills accumulate across calls: 50ms + 50ms = one token.
  EXPECT_FALSE(rl.Allow("k", kT0 + milliseconds(150)));
  EXPECT_TRUE(rl.Allow("k", kT0 + milliseconds(200)));
}

TEST(RateLimiter, RefillIsCappedAtBurst) {
  RateLimiter rl(/*per_second=*/100, /*burst=*/3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rl.Allow("k", kT0));
  const auto later = kT0 + std::chrono::hours(1);
  int granted = 0;
  while (rl.Allow("k", later)) ++granted;
  EXPECT_EQ(granted, 3);
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter rl(/*per_second=*/1, /*burst=*/2);
  EXPECT_TRUE(rl.Allow("alice", kT0));
  EXPECT_TRUE(rl.Allow("alice", kT0));
  EXPECT_FALSE(rl.Allow("alice", kT0));
  EXPECT_TRUE(rl.Allow("bob", kT0));
  EXPECT_TRUE(rl.Allow("bob", kT0));
  EXPECT_FALSE(rl.Allow("bob", kT0));
  EXPECT_TRUE(rl.Allow("", kT0));  // the global bucket is just another key
  EXPECT_TRUE(rl.Allow("alice", kT0 + milliseconds(1000)));
  EXPECT_FALSE(rl.Allow("bob", kT0 + milliseconds(999)));
}

TEST(RateLimiter, StaleTimestampsNeitherMintNorDestroyTokens) {
  // Callers sample now() before taking the lock, so timestamps can arrive
  // slightly out of order.
  RateLimiter rl(/*per_second=*/1, /*burst=*/2);
  EXPECT_TRUE(rl.Allow("k", kT0 + milliseconds(5000)));  // 1 left
  EXPECT_TRUE(rl.Allow("k", kT0));                       // stale: 0 left
  EXPECT_FALSE(rl.Allow("k", kT0));
  EXPECT_FALSE(rl.Allow("k", kT0 + milliseconds(5000)));  // back then forth: no refill
  EXPECT_FALSE(rl.Allow("k", kT0 + milliseconds(5999)));
  EXPECT_TRUE(rl.Allow("k", kT0 + milliseconds(6000)));
}

TEST(RateLimiter, ZeroRateOnlyBurst) {
  RateLimiter rl(/*per_second=*/0, /*burst=*/1);
  EXPECT_TRUE(rl.Allow("k", kT0));
  EXPECT_FALSE(rl.Allow("k", kT0 + std::chrono::hours(100)));
}

TEST(RateLimiter, ManyKeysStayCorrect) {
  // Enough distinct keys to exercise the sweep of idle (full) buckets: a
  // swept key behaves exactly like a fresh one, a drained one stays drained.
  RateLimiter rl(/*per_second=*/1, /*burst=*/1);
  ASSERT_TRUE(rl.Allow("drained", kT0));
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(rl.Allow("k" + std::to_string(i), kT0)) << i;
  EXPECT_FALSE(rl.Allow("drained", kT0));
  EXPECT_FALSE(rl.Allow("k0", kT0));
  EXPECT_TRUE(rl.Allow("k0", kT0 + milliseconds(1000)));
}

TEST(RateLimiter, ConcurrentCallersNeverExceedBurst) {
  RateLimiter rl(/*per_second=*/0, /*burst=*/1000);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (rl.Allow("shared", kT0)) granted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 1000);
}

}  // namespace
}  // namespace cppsvc::resilience
