#include "cppsvc/resilience/rate_limiter.h"

#include <algorithm>

namespace cppsvc::resilience {

namespace {
constexpr double kEpsilon = 1e-9;
// Past this many keys, full buckets (indistinguishable from fresh ones) are
// swept so per-caller keys cannot grow the map without bound.
constexpr size_t kSweepThreshold = 4096;
constexpr size_t kSweepEvery = 1024;
}  // namespace

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(std::max(per_second, 0.0)), burst_(std::max(burst, 0.0)) {}

bool RateLimiter::Allow(const std::string& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kSweepThreshold && buckets_.size() % kSweepEvery == 0) {
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        const double elapsed = std::chrono::duration<double>(now - b->second.last).count();
        const double tokens = b->second.tokens + std::max(elapsed, 0.0) * per_second_;
        b = tokens >= burst_ - kEpsilon ? buckets_.erase(b) : std::next(b);
      }
    }
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& bucket = it->second;
  if (now > bucket.last) {
    const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * per_second_);
    bucket.last = now;
  }
  if (bucket.tokens < 1.0 - kEpsilon) return false;
  bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
  return true;
}

}  // namespace cppsvc::resilience
