// Prometheus metrics of a service (prometheus-cpp core), served as text by
// the admin HTTP server.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace cppsvc::observability {

class Metrics;

// The request series of one method, looked up once: recording a call then
// costs no label hashing or family lock (series per code and transport are
// created on first use and kept).
class MethodMetrics {
 public:
  MethodMetrics(Metrics& metrics, std::string method);
  // `code` is the gRPC code number (0..16), `code_name` its name.
  void Record(int code, std::string_view code_name, std::string_view transport, double seconds);

 private:
  static constexpr int kCodes = 17;
  static constexpr int kTransports = 2;  // grpc, nats; others are not cached
  Metrics& metrics_;
  std::string method_;
  prometheus::Histogram* latency_;
  std::array<std::atomic<prometheus::Counter*>, kCodes * kTransports> requests_{};
};

class Metrics {
 public:
  explicit Metrics(std::string service);

  // cppsvc_requests_total{service,method,code,transport} and
  // cppsvc_request_duration_seconds{service,method} (histogram).
  void RecordRequest(const std::string& method,
                     const std::string& code,
                     double seconds,
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
  friend class MethodMetrics;
  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Family<prometheus::Gauge>* in_flight_;
  prometheus::Gauge* in_flight_series_;
  prometheus::Family<prometheus::Counter>* rejections_;
  prometheus::Family<prometheus::Counter>* rate_limited_;
  prometheus::Family<prometheus::Gauge>* circuit_;
};

}  // namespace cppsvc::observability
