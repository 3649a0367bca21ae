#include "cppsvc/observability/metrics.h"

#include <utility>

#include <prometheus/text_serializer.h>

namespace cppsvc::observability {
namespace {

// RPC latency in seconds: 0.5 ms .. 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets =
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

}  // namespace

Metrics::Metrics(std::string service)
    : service_(std::move(service)), registry_(std::make_shared<prometheus::Registry>()) {
  const prometheus::Labels service_label{{"service", service_}};
  requests_ = &prometheus::BuildCounter()
                   .Name("cppsvc_requests_total")
                   .Help("Requests handled, by method, status code and transport.")
                   .Labels(service_label)
                   .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("cppsvc_request_duration_seconds")
                  .Help("Request latency in seconds, by method.")
                  .Labels(service_label)
                  .Register(*registry_);
  in_flight_ = &prometheus::BuildGauge()
                    .Name("cppsvc_requests_in_flight")
                    .Help("Requests being handled right now.")
                    .Labels(service_label)
                    .Register(*registry_);
  rejections_ = &prometheus::BuildCounter()
                     .Name("cppsvc_bulkhead_rejections_total")
                     .Help("Requests rejected because the bulkhead was full.")
                     .Labels(service_label)
                     .Register(*registry_);
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("cppsvc_rate_limited_total")
                       .Help("Requests rejected by the rate limiter, by method.")
                       .Labels(service_label)
                       .Register(*registry_);
  circuit_ = &prometheus::BuildGauge()
                  .Name("cppsvc_circuit_state")
                  .Help("Circuit breaker state per target: 0 closed, 1 open, 2 half-open.")
                  .Labels(service_label)
                  .Register(*registry_);
  // Series without per-call labels exist from the start, so they read 0
  // rather than being absent.
  in_flight_series_ = &in_flight_->Add({});
  rejections_->Add({});
}

void Metrics::RecordRequest(const std::string& method,
                            const std::string& code,
                            double seconds,
                            const std::string& transport) {
  requests_->Add({{"method", method}, {"code", code}, {"transport", transport}}).Increment();
  latency_->Add({{"method", method}}, LatencyBuckets()).Observe(seconds < 0 ? 0 : seconds);
}

MethodMetrics::MethodMetrics(Metrics& metrics, std::string method)
    : metrics_(metrics),
      method_(std::move(method)),
      latency_(&metrics.latency_->Add({{"method", method_}}, LatencyBuckets())) {}

void MethodMetrics::Record(int code,
                           std::string_view code_name,
                           std::string_view transport,
                           double seconds) {
  latency_->Observe(seconds < 0 ? 0 : seconds);
  const int t = transport == "grpc" ? 0 : transport == "nats" ? 1 : -1;
  if (t < 0 || code < 0 || code >= kCodes) {
    metrics_.RecordRequest(method_, std::string(code_name), seconds, std::string(transport));
    return;
  }
  std::atomic<prometheus::Counter*>& slot = requests_[t * kCodes + code];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add returns the same series for the same labels, so a race
    // here stores the same pointer twice.
    counter = &metrics_.requests_->Add({{"method", method_},
                                        {"code", std::string(code_name)},
                                        {"transport", std::string(transport)}});
    slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
}

void Metrics::InFlight(int delta) {
  in_flight_series_->Increment(delta);
}

void Metrics::BulkheadRejected() {
  rejections_->Add({}).Increment();
}

void Metrics::RateLimited(const std::string& method) {
  rate_limited_->Add({{"method", method}}).Increment();
}

void Metrics::SetCircuitState(const std::string& target, int state) {
  circuit_->Add({{"target", target}}).Set(state);
}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace cppsvc::observability
