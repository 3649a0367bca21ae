#include "cppsvc/resilience/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cppsvc::resilience {

std::chrono::milliseconds BackoffCap(const RetryConfig& config, int retry) {
  const int64_t max_ms = std::max<int64_t>(config.max_backoff.count(), 0);
  const int64_t initial_ms = std::clamp<int64_t>(config.initial_backoff.count(), 0, max_ms);
  const int exponent = std::max(retry, 1) - 1;
  // Computed in floating point so large retry numbers saturate at the cap
  // instead of overflowing.
  const double cap = static_cast<double>(initial_ms) * std::pow(config.multiplier, exponent);
  if (!std::isfinite(cap) || cap >= static_cast<double>(max_ms))
    return std::chrono::milliseconds(max_ms);
  if (!(cap > 0)) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<int64_t>(cap));
}

std::chrono::milliseconds Backoff(const RetryConfig& config, int retry, std::mt19937_64& rng) {
  const int64_t cap = BackoffCap(config, retry).count();
  if (cap <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<int64_t> dist(0, cap);
  return std::chrono::milliseconds(dist(rng));
}

bool ShouldRetry(const RetryConfig& config, bool idempotent, StatusCode code, int attempt) {
  if (!idempotent) return false;
  if (code == StatusCode::kOk) return false;
  if (attempt >= config.max_attempts) return false;
  return config.retryable.count(code) > 0;
}

namespace {
// Tolerates rounding in repeated additions of fractional ratios (0.1 * 10).
constexpr double kEpsilon = 1e-9;
}  // namespace

RetryBudget::RetryBudget(double ratio, double max_tokens)
    : ratio_(std::max(ratio, 0.0)), max_tokens_(std::max(max_tokens, 0.0)), tokens_(max_tokens_) {}

void RetryBudget::OnCall() {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::min(max_tokens_, tokens_ + ratio_);
}

bool RetryBudget::TryRetry() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tokens_ < 1.0 - kEpsilon) return false;
  tokens_ = std::max(0.0, tokens_ - 1.0);
  return true;
}

}  // namespace cppsvc::resilience
