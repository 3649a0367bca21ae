// Token-bucket rate limits per key (caller, peer, or one global bucket).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cppsvc::resilience {

class RateLimiter {
 public:
  RateLimiter(double per_second, double burst);
  // Takes one token from `key`'s bucket; false when it is empty.
  bool Allow(const std::string& key,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::mutex mu_;
  double per_second_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace cppsvc::resilience
