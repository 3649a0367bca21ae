// Circuit breaker per target: closed -> open when the failure rate over a
// sliding window of calls reaches the threshold; open -> half-open after
// open_duration; half-open -> closed after `half_open_calls` successes, or
// back to open on a failure. Thread-safe; the clock is injectable for tests.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>

namespace cppsvc::resilience {

using SteadyClock = std::chrono::steady_clock;

struct CircuitBreakerConfig {
  double failure_rate_threshold = 0.5;
  size_t window = 20;     // calls
  size_t min_calls = 10;  // calls in the window before the rate counts
  std::chrono::milliseconds open_duration{5000};
  size_t half_open_calls = 1;
};

enum class CircuitState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

class CircuitBreaker {
 public:
  using Now = std::function<SteadyClock::time_point()>;
  explicit CircuitBreaker(
      CircuitBreakerConfig config,
      Now now = [] { return SteadyClock::now(); });

  // Asks to make a call. False while open (fail fast) or when half-open
  // probes are all in flight. A true answer must be followed by exactly one
  // Record().
  bool Allow();
  void Record(bool success);

  CircuitState state() const;

 private:
  void TransitionLocked(CircuitState to);

  CircuitBreakerConfig config_;
  Now now_;
  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::kClosed;
  std::deque<bool> window_;  // true = failure
  size_t failures_ = 0;
  SteadyClock::time_point opened_at_{};
  size_t probes_in_flight_ = 0;
  size_t probe_successes_ = 0;
};

}  // namespace cppsvc::resilience
