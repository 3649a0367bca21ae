// Client retries: exponential backoff with full jitter, only for idempotent
// RPCs and retryable codes, bounded by a retry budget.
#pragma once

#include <chrono>
#include <mutex>
#include <random>
#include <set>

#include "cppsvc/defaults.h"
#include "cppsvc/status.h"

namespace cppsvc::resilience {

struct RetryConfig {
  int max_attempts = defaults::kRetryMaxAttempts;  // including the first
  std::chrono::milliseconds initial_backoff = defaults::kRetryInitialBackoff;
  std::chrono::milliseconds max_backoff = defaults::kRetryMaxBackoff;
  double multiplier = defaults::kRetryMultiplier;
  std::set<StatusCode> retryable = {StatusCode::kUnavailable,
                                    StatusCode::kDeadlineExceeded,
                                    StatusCode::kResourceExhausted};
};

// Upper bound of the backoff before attempt `retry` (1 = first retry):
// min(max_backoff, initial * multiplier^(retry-1)).
std::chrono::milliseconds BackoffCap(const RetryConfig& config, int retry);

// Full jitter: uniform in [0, BackoffCap].
std::chrono::milliseconds Backoff(const RetryConfig& config, int retry, std::mt19937_64& rng);

// Whether attempt number `attempt` (1-based) that ended with `code` may be
// retried: the RPC is idempotent, the code retryable, attempts remain.
bool ShouldRetry(const RetryConfig& config, bool idempotent, StatusCode code, int attempt);

// Token bucket limiting retries to a fraction of calls (gRPC-style): each
// call deposits `ratio` tokens (capped at max_tokens); each retry withdraws
// one and is refused when fewer than one remain.
class RetryBudget {
 public:
  explicit RetryBudget(double ratio = 0.2, double max_tokens = 10);
  void OnCall();
  bool TryRetry();

 private:
  std::mutex mu_;
  double ratio_;
  double max_tokens_;
  double tokens_;
};

}  // namespace cppsvc::resilience
