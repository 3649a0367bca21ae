// Prometheus metrics of a service (prometheus-cpp core), served as text by
// the admin HTTP server.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace cppsvc::observability {

class Metrics;

// The request series of one method, for the per-call path. Recording a call
// touches only counters of the calling thread's shard (no lock, no label
// lookup, no cache line shared with another core); Metrics::Serialize adds
// the shards up and passes what is new on to the prometheus-cpp series, so
// a scrape sees every call recorded before it began.
class MethodMetrics {
 public:
  MethodMetrics(Metrics& metrics, std::string method);
  // Passes the last calls on to the series, which outlive it.
  ~MethodMetrics();
  MethodMetrics(const MethodMetrics&) = delete;
  MethodMetrics& operator=(const MethodMetrics&) = delete;

  // `code` is the gRPC code number (0..16), `code_name` its name.
  void Record(int code, std::string_view code_name, std::string_view transport, double seconds);

 private:
  friend class Metrics;
  static constexpr int kCodes = 17;
  static constexpr int kTransports = 3;  // grpc, nats, http; others go through RecordRequest
  static constexpr int kBuckets = 15;    // the latency bounds and +Inf
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kCodes * kTransports> requests{};
    std::array<std::atomic<uint64_t>, kBuckets> buckets{};
    std::atomic<uint64_t> sum_ns{0};
  };
  // Under Metrics::publish_mu_.
  void Publish();

  Metrics& metrics_;
  std::string method_;
  prometheus::Histogram* latency_;
  std::unique_ptr<Shard[]> shards_;
  // What Publish has passed on so far, and the series it created.
  std::array<uint64_t, kCodes * kTransports> published_requests_{};
  std::array<uint64_t, kBuckets> published_buckets_{};
  uint64_t published_sum_ns_ = 0;
  std::array<prometheus::Counter*, kCodes * kTransports> counters_{};
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
  // cppsvc_requests_in_flight{service}; sharded like MethodMetrics.
  void InFlight(int delta);
  // cppsvc_bulkhead_rejections_total{service}.
  void BulkheadRejected();
  // cppsvc_rate_limited_total{service,method}.
  void RateLimited(const std::string& method);
  // cppsvc_circuit_state{service,target}: 0 closed, 1 open, 2 half-open.
  void SetCircuitState(const std::string& target, int state);

  prometheus::Registry& registry() { return *registry_; }
  const std::string& service() const { return service_; }
  // The Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  friend class MethodMetrics;
  struct alignas(64) InFlightShard {
    std::atomic<int64_t> value{0};
  };
  mutable std::mutex publish_mu_;
  std::vector<MethodMetrics*> methods_;  // under publish_mu_
  std::unique_ptr<InFlightShard[]> in_flight_shards_;
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
