// Prometheus series of sagas, per owner service:
// cppsvc_saga_{started,completed,compensated,timed_out}_total{saga},
// cppsvc_saga_ignored_events_total{saga,reason},
// cppsvc_saga_duration_seconds{saga} (start to end state) and
// cppsvc_saga_in_flight{saga,state} (refreshed by the sweeper).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cppsvc/observability/metrics.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace cppsvc::sagas {

class SagaMetrics {
 public:
  explicit SagaMetrics(std::shared_ptr<observability::Metrics> metrics);

  void Started(std::string_view saga);
  void Completed(std::string_view saga, double seconds);
  void Compensated(std::string_view saga, double seconds);
  void TimedOut(std::string_view saga);
  void Ignored(std::string_view saga, std::string_view reason);
  // Instances per state now; states missing from `counts` are set to 0.
  void SetInFlight(std::string_view saga, const std::map<std::string, double>& counts);

 private:
  prometheus::Counter& Counter(prometheus::Family<prometheus::Counter>* family,
                               std::map<std::string, std::string> labels);
  // cppsvc_saga_duration_seconds{saga}: start to an end state.
  void ObserveDuration(std::string_view saga, double seconds);

  std::shared_ptr<observability::Metrics> metrics_;
  std::mutex mu_;
  prometheus::Family<prometheus::Counter>* started_;
  prometheus::Family<prometheus::Counter>* completed_;
  prometheus::Family<prometheus::Counter>* compensated_;
  prometheus::Family<prometheus::Counter>* timed_out_;
  prometheus::Family<prometheus::Counter>* ignored_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Family<prometheus::Gauge>* in_flight_;
  std::map<std::string, std::map<std::string, prometheus::Gauge*>> gauges_;
};

}  // namespace cppsvc::sagas
