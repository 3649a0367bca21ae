// When each unit of work of a load generator started and when its end was
// seen (an order confirmed, a flow completed), for the benchmarks that time
// work to an event: bench/shop/shop_load.cc and bench/saga/saga_load.cc.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cppsvc_bench {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d);

// The q-quantile of `v` (sorted here); 0 for none.
double Quantile(std::vector<double>& v, double q);

// Thread-safe: callers record starts, an event callback records ends.
class LatencyLedger {
 public:
  void Started(const std::string& id, Clock::time_point at);
  // Now, unless `id` ended before.
  void Ended(const std::string& id);
  // Milliseconds from start to end of the ones started and ended so far;
  // `missing` counts those started and not ended.
  std::vector<double> Latencies(int& missing);
  // The first start and the last end.
  std::pair<Clock::time_point, Clock::time_point> Span();

 private:
  std::mutex mu_;
  std::map<std::string, Clock::time_point> started_, ended_;
};

}  // namespace cppsvc_bench
