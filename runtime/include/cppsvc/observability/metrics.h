// Prometheus metrics of a service (prometheus-cpp core), served as text by
// the admin HTTP server.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace cppsvc::observability {

class Metrics {
 public:
  explicit Metrics(std::string service);

  // cppsvc_requests_total{service,method,code,transport} and
  // cppsvc_request_duration_seconds{service,method} (histogram).
  void RecordRequest(const std::string& method, const std::string& code, double seconds,
                     const std::string& transport = "grpc");
  // cppsvc_requests_in_flight{service}.
  void InFlight(int delta);
  // cppsvc_bulkhead_rejections_total{service}.
  void BulkheadRejected();
  // cppsvc_rate_limited_total{service,method}.
  void RateLimited(const std::string& method);
  // cppsvc_circuit_state{service,target}: 0 closed, 1 open, 2 half-open.
  void SetCircuitState(const std::string& target, int state);

  prometheus::Registry& registry() { return *registry_; }
  // The Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Family<prometheus::Gauge>* in_flight_;
  prometheus::Family<prometheus::Counter>* rejections_;
  prometheus::Family<prometheus::Counter>* rate_limited_;
  prometheus::Family<prometheus::Gauge>* circuit_;
};

}  // namespace cppsvc::observability
