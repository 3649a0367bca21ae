#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cppsvc/resilience/circuit_breaker.h"

namespace cppsvc::resilience {
namespace {

using std::chrono::milliseconds;

// A manual clock: the breaker reads it, the test moves it.
struct FakeClock {
  SteadyClock::time_point t = SteadyClock::time_point{} + std::chrono::hours(1);
  CircuitBreaker::Now fn() {
    return [this] { return t; };
  }
  void Advance(milliseconds d) { t += d; }
};

CircuitBreakerConfig SmallConfig() {
  CircuitBreakerConfig c;
  c.failure_rate_threshold = 0.5;
  c.window = 4;
  c.min_calls = 4;
  c.open_duration = milliseconds(1000);
  c.half_open_calls = 1;
  return c;
}

void RecordCall(CircuitBreaker& cb, bool success) {
  ASSERT_TRUE(cb.Allow());
  cb.Record(success);
}

TEST(CircuitBreaker, StartsClosedAndAllows) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  for (int i = 0; i < 100; ++i) RecordCall(cb, true);
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
}

TEST(CircuitBreaker, IgnoresRateBelowMinCalls) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  for (int i = 0; i < 3; ++i) RecordCall(cb, false);  // 100% failures, 3 < min_calls
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  RecordCall(cb, false);
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, OpensExactlyAtThreshold) {
  FakeClock clock;
  {
    CircuitBreaker cb(SmallConfig(), clock.fn());
    RecordCall(cb, true);
    RecordCall(cb, true);
    RecordCall(cb, true);
    RecordCall(cb, false);  // 1/4 < 0.5
    EXPECT_EQ(cb.state(), CircuitState::kClosed);
  }
  {
    CircuitBreaker cb(SmallConfig(), clock.fn());
    RecordCall(cb, true);
    RecordCall(cb, false);
    RecordCall(cb, true);
    EXPECT_EQ(cb.state(), CircuitState::kClosed);
    RecordCall(cb, false);  // 2/4 == 0.5
    EXPECT_EQ(cb.state(), CircuitState::kOpen);
  }
}

TEST(CircuitBreaker, WindowSlides) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  // F S S S: 1/4. Then successes push the failure out; later one failure
  // in a window of S S S F is again 1/4, never reaching 0.5.
  RecordCall(cb, false);
  for (int i = 0; i < 3; ++i) RecordCall(cb, true);
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  RecordCall(cb, true);   // F slides out: S S S S
  RecordCall(cb, false);  // S S S F
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  RecordCall(cb, true);   // S S F S
  RecordCall(cb, false);  // S F S F -> 2/4
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, OldFailuresSlideOutOfTheWindow) {
  FakeClock clock;
  auto config = SmallConfig();
  config.window = 4;
  config.min_calls = 2;
  config.failure_rate_threshold = 0.75;
  CircuitBreaker cb(config, clock.fn());
  RecordCall(cb, false);
  RecordCall(cb, true);   // 1/2
  RecordCall(cb, true);   // 1/3
  RecordCall(cb, true);   // 1/4
  RecordCall(cb, false);  // window S S S F: 1/4 (first F slid out)
  RecordCall(cb, false);  // S S F F: 2/4
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  RecordCall(cb, false);  // S F F F: 3/4
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, FailsFastWhileOpenThenHalfOpenAfterDuration) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  for (int i = 0; i < 4; ++i) RecordCall(cb, false);
  ASSERT_EQ(cb.state(), CircuitState::kOpen);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(cb.Allow());
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(cb.Allow());
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(cb.state(), CircuitState::kHalfOpen);
  EXPECT_TRUE(cb.Allow());   // the probe
  EXPECT_FALSE(cb.Allow());  // only half_open_calls probes in flight
  EXPECT_EQ(cb.state(), CircuitState::kHalfOpen);
}

TEST(CircuitBreaker, HalfOpenSuccessClosesAndClearsWindow) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  for (int i = 0; i < 4; ++i) RecordCall(cb, false);
  clock.Advance(milliseconds(1000));
  ASSERT_TRUE(cb.Allow());
  cb.Record(true);
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  // The window was cleared: three failures are below min_calls again.
  for (int i = 0; i < 3; ++i) RecordCall(cb, false);
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  RecordCall(cb, false);
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, HalfOpenFailureReopensAndRestartsTimer) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  for (int i = 0; i < 4; ++i) RecordCall(cb, false);
  clock.Advance(milliseconds(5000));  // well past the open duration
  ASSERT_TRUE(cb.Allow());
  cb.Record(false);
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
  EXPECT_FALSE(cb.Allow());
  clock.Advance(milliseconds(999));  // timer restarted at the probe failure
  EXPECT_FALSE(cb.Allow());
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(cb.Allow());
  EXPECT_EQ(cb.state(), CircuitState::kHalfOpen);
}

TEST(CircuitBreaker, SeveralHalfOpenProbesMustAllSucceed) {
  FakeClock clock;
  auto config = SmallConfig();
  config.half_open_calls = 3;
  CircuitBreaker cb(config, clock.fn());
  for (int i = 0; i < 4; ++i) RecordCall(cb, false);
  clock.Advance(milliseconds(1000));
  EXPECT_TRUE(cb.Allow());
  EXPECT_TRUE(cb.Allow());
  EXPECT_TRUE(cb.Allow());
  EXPECT_FALSE(cb.Allow());  // three probes in flight
  cb.Record(true);
  EXPECT_EQ(cb.state(), CircuitState::kHalfOpen);
  EXPECT_TRUE(cb.Allow());  // a probe slot freed; successes so far: 1
  cb.Record(true);
  EXPECT_EQ(cb.state(), CircuitState::kHalfOpen);
  cb.Record(true);  // third success
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
  cb.Record(true);  // the last probe's result lands while closed
  EXPECT_EQ(cb.state(), CircuitState::kClosed);
}

TEST(CircuitBreaker, OneFailureAmongHalfOpenProbesReopens) {
  FakeClock clock;
  auto config = SmallConfig();
  config.half_open_calls = 2;
  CircuitBreaker cb(config, clock.fn());
  for (int i = 0; i < 4; ++i) RecordCall(cb, false);
  clock.Advance(milliseconds(1000));
  ASSERT_TRUE(cb.Allow());
  ASSERT_TRUE(cb.Allow());
  cb.Record(true);
  cb.Record(false);
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
  EXPECT_FALSE(cb.Allow());
}

TEST(CircuitBreaker, LateResultsWhileOpenAreIgnored) {
  FakeClock clock;
  CircuitBreaker cb(SmallConfig(), clock.fn());
  ASSERT_TRUE(cb.Allow());  // admitted while closed, finishes after opening
  for (int i = 0; i < 4; ++i) RecordCall(cb, false);
  ASSERT_EQ(cb.state(), CircuitState::kOpen);
  cb.Record(true);
  EXPECT_EQ(cb.state(), CircuitState::kOpen);
  EXPECT_FALSE(cb.Allow());
}

TEST(CircuitBreaker, ConcurrentCallersKeepInvariants) {
  // Real clock; correctness only (no timing assertions): with every call
  // failing the breaker must open, and Allow/Record pairs never corrupt the
  // probe accounting.
  CircuitBreakerConfig config = SmallConfig();
  config.open_duration = milliseconds(0);  // half-open immediately
  config.half_open_calls = 2;
  CircuitBreaker cb(config);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (cb.Allow()) {
          admitted.fetch_add(1);
          cb.Record((i + t) % 3 != 0);
        }
        (void)cb.state();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(admitted.load(), 0);
  // Probe slots are all released: after the opening duration a probe is
  // admitted again whatever the final state is.
  if (cb.state() != CircuitState::kClosed) {
    EXPECT_TRUE(cb.Allow());
  }
}

}  // namespace
}  // namespace cppsvc::resilience
