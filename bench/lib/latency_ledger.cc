#include "latency_ledger.h"

#include <algorithm>

namespace cppsvc_bench {

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

void LatencyLedger::Started(const std::string& id, Clock::time_point at) {
  std::lock_guard lock(mu_);
  started_[id] = at;
}

void LatencyLedger::Ended(const std::string& id) {
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  ended_.emplace(id, now);
}

std::vector<double> LatencyLedger::Latencies(int& missing) {
  std::lock_guard lock(mu_);
  std::vector<double> out;
  missing = 0;
  for (const auto& [id, at] : started_) {
    auto it = ended_.find(id);
    if (it == ended_.end()) {
      ++missing;
    } else {
      out.push_back(Ms(it->second - at));
    }
  }
  return out;
}

std::pair<Clock::time_point, Clock::time_point> LatencyLedger::Span() {
  std::lock_guard lock(mu_);
  Clock::time_point first = Clock::time_point::max(), last{};
  for (const auto& [id, at] : started_) first = std::min(first, at);
  for (const auto& [id, at] : ended_) last = std::max(last, at);
  return {first, last};
}

}  // namespace cppsvc_bench
