#include "cppsvc/resilience/circuit_breaker.h"

#include <algorithm>
#include <utility>

namespace cppsvc::resilience {

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config, Now now)
    : config_(config), now_(std::move(now)) {
  // Degenerate settings are clamped to the nearest meaningful ones.
  config_.window = std::max<size_t>(config_.window, 1);
  config_.half_open_calls = std::max<size_t>(config_.half_open_calls, 1);
  if (!now_) now_ = [] { return SteadyClock::now(); };
}

bool CircuitBreaker::Allow() {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen:
      if (now_() - opened_at_ < config_.open_duration) return false;
      TransitionLocked(CircuitState::kHalfOpen);
      [[fallthrough]];
    case CircuitState::kHalfOpen:
      if (probes_in_flight_ >= config_.half_open_calls) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::Record(bool success) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case CircuitState::kClosed: {
      window_.push_back(!success);
      if (!success) ++failures_;
      while (window_.size() > config_.window) {
        if (window_.front()) --failures_;
        window_.pop_front();
      }
      if (window_.size() >= config_.min_calls && failures_ > 0 &&
          static_cast<double>(failures_) / static_cast<double>(window_.size()) >=
              config_.failure_rate_threshold) {
        TransitionLocked(CircuitState::kOpen);
      }
      return;
    }
    case CircuitState::kOpen:
      // A call admitted before the breaker opened: its result no longer
      // matters, the open timer decides.
      return;
    case CircuitState::kHalfOpen:
      if (probes_in_flight_ > 0) --probes_in_flight_;
      if (!success) {
        TransitionLocked(CircuitState::kOpen);
        return;
      }
      if (++probe_successes_ >= config_.half_open_calls) TransitionLocked(CircuitState::kClosed);
      return;
  }
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  // The open -> half-open move happens lazily on the next Allow(); report it
  // as soon as it is due so observers see the state callers will get.
  if (state_ == CircuitState::kOpen && now_() - opened_at_ >= config_.open_duration) {
    return CircuitState::kHalfOpen;
  }
  return state_;
}

void CircuitBreaker::TransitionLocked(CircuitState to) {
  state_ = to;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  switch (to) {
    case CircuitState::kOpen:
      opened_at_ = now_();
      break;
    case CircuitState::kClosed:
      window_.clear();
      failures_ = 0;
      break;
    case CircuitState::kHalfOpen:
      break;
  }
}

}  // namespace cppsvc::resilience
