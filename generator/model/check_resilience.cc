// The numbers of an rpc's and a service's resilience settings: retry
// policies, rate limits, circuit breakers and timeouts. A value no call can
// honour, or one that is not a finite number, is refused here rather than
// left to surprise at run time.

#include <algorithm>
#include <chrono>
#include <cmath>

#include "cppsvc/defaults.h"
#include "cppsvc/resilience/circuit_breaker.h"
#include "cppsvc/status_code_names.h"
#include "model/checker.h"
#include "text/number.h"

namespace cppsvc::model::checks {
namespace {

std::string Ms(uint32_t ms) {
  return std::to_string(ms) + " ms";
}

}  // namespace

void Checker::CheckServiceResilience(const Service& s, const Span& span, const std::string& what) {
  if (s.default_retry)
    CheckRetryPolicy(*s.default_retry, span, {"default_retry"}, what + ": default_retry");
  if (s.circuit_breaker) CheckCircuitBreaker(*s.circuit_breaker, span, what + ": circuit_breaker");
  CheckTimeout(s.default_timeout_ms,
               At(span, {{"default_timeout_ms"}}),
               what + ": default_timeout_ms");
}

// `what` names the policy, e.g. "rpc 'S.Get': retry"; `key` is where it is
// written in the option at `span`.
void Checker::CheckRetryPolicy(const RetryPolicy& p,
                               const Span& span,
                               const std::string& key,
                               const std::string& what) {
  for (size_t i = 0; i < p.retryable_codes.size(); ++i) {
    CheckRetryCode(p.retryable_codes[i],
                   At(span, {{key}, {"retryable_codes"}, {"", int(i)}}),
                   what);
  }
  const double m = p.backoff_multiplier;
  const Span multiplier_span = At(span, {{key}, {"backoff_multiplier"}});
  if (!std::isfinite(m) || m < 0) {
    Error(multiplier_span,
          what + ": backoff_multiplier " + text::Number(m) +
              " must be a finite number of at least 1 (0 = the default, " +
              text::Number(defaults::kRetryMultiplier) + ")");
  } else if (m > 0 && m < 1) {
    Error(multiplier_span,
          what + ": backoff_multiplier " + text::Number(m) +
              " below 1 would shrink the backoff after each attempt: use at least 1");
  }
  // Compared as the client will use them, defaults included.
  using std::chrono::milliseconds;
  const uint32_t initial =
      p.initial_backoff_ms != 0
          ? p.initial_backoff_ms
          : static_cast<uint32_t>(milliseconds(defaults::kRetryInitialBackoff).count());
  const uint32_t max =
      p.max_backoff_ms != 0
          ? p.max_backoff_ms
          : static_cast<uint32_t>(milliseconds(defaults::kRetryMaxBackoff).count());
  if (max < initial) {
    Error(
        At(span, {{key}, {p.max_backoff_ms != 0 ? "max_backoff_ms" : "initial_backoff_ms"}}),
        what + ": max_backoff_ms " + Ms(max) + " is below initial_backoff_ms " + Ms(initial) +
            (p.initial_backoff_ms != 0 && p.max_backoff_ms != 0 ? "" : " (counting the defaults)"));
  }
}

// Any code but OK can be retried.
void Checker::CheckRetryCode(const std::string& code, const Span& span, const std::string& what) {
  static const std::vector<std::string> kCodes(kStatusCodeNames.begin() + 1,
                                               kStatusCodeNames.end());
  if (code == kStatusCodeNames[0]) {
    Error(span,
          what + " code " + Quote(code) +
              " is the status of a successful call, which is never retried: remove it");
  } else if (std::find(kCodes.begin(), kCodes.end(), code) == kCodes.end()) {
    Error(span,
          what + " code " + Quote(code) + " is not a grpc status code" +
              diag::DidYouMean(code, kCodes));
  }
}

void Checker::CheckRateLimit(const RateLimit& r, const Span& span, const std::string& what) {
  if (!std::isfinite(r.requests_per_second) || r.requests_per_second <= 0) {
    Error(span,
          what + ": rate_limit.requests_per_second must be a finite number > 0, found " +
              text::Number(r.requests_per_second));
  }
}

void Checker::CheckCircuitBreaker(const CircuitBreaker& b,
                                  const Span& span,
                                  const std::string& what) {
  const resilience::CircuitBreakerConfig defaults;
  const double t = b.failure_rate_threshold;
  if (!std::isfinite(t) || t < 0 || t > 1) {
    Error(At(span, {{"circuit_breaker"}, {"failure_rate_threshold"}}),
          what + ": failure_rate_threshold " + text::Number(t) +
              " is not a fraction of calls: it must be above 0 and at most 1 (0 = the default, " +
              text::Number(defaults.failure_rate_threshold) + ")");
  }
  // Compared as the client will use them, defaults included.
  const size_t window = b.window != 0 ? b.window : defaults.window;
  const size_t min_calls = b.min_calls != 0 ? b.min_calls : defaults.min_calls;
  if (min_calls > window) {
    Error(At(span, {{"circuit_breaker"}, {"min_calls"}}),
          what + ": min_calls " + std::to_string(min_calls) + " is above window " +
              std::to_string(window) +
              (b.window != 0 && b.min_calls != 0 ? "" : " (counting the defaults)") +
              ": the window never holds enough calls, so the circuit never opens");
  }
}

// A deadline beyond kMaxTimeoutMs is a typo or a misuse: an rpc that long
// holds a worker, a connection and a transaction all the while.
void Checker::CheckTimeout(uint32_t timeout_ms, const Span& span, const std::string& what) {
  if (timeout_ms > kMaxTimeoutMs) {
    Error(span,
          what + " " + Ms(timeout_ms) + " is above the limit of " + Ms(kMaxTimeoutMs) +
              " (1 hour): long work belongs in events or a saga, not in one call");
  }
}

}  // namespace cppsvc::model::checks
