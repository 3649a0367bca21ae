#include "cppsvc/observability/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <prometheus/text_serializer.h>

#include "cppsvc/status.h"
#include "thread_shard.h"

namespace cppsvc::observability {
namespace {

// RPC latency in seconds: 0.5 ms .. 10 s.
constexpr std::array<double, 14> kLatencyBounds =
    {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets(kLatencyBounds.begin(),
                                                                kLatencyBounds.end());
  return kBuckets;
}

}  // namespace

Metrics::Metrics(std::string service)
    : in_flight_shards_(std::make_unique<InFlightShard[]>(internal::kThreadShards)),
      service_(std::move(service)),
      registry_(std::make_shared<prometheus::Registry>()) {
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
      latency_(&metrics.latency_->Add({{"method", method_}}, LatencyBuckets())),
      shards_(std::make_unique<Shard[]>(internal::kThreadShards)) {
  static_assert(kBuckets == kLatencyBounds.size() + 1, "a shard counts each bound and +Inf");
  std::lock_guard<std::mutex> lock(metrics_.publish_mu_);
  metrics_.methods_.push_back(this);
}

MethodMetrics::~MethodMetrics() {
  std::lock_guard<std::mutex> lock(metrics_.publish_mu_);
  Publish();
  auto& methods = metrics_.methods_;
  methods.erase(std::remove(methods.begin(), methods.end(), this), methods.end());
}

void MethodMetrics::Record(int code,
                           std::string_view code_name,
                           std::string_view transport,
                           double seconds) {
  const int t = transport == "grpc" ? 0 : transport == "nats" ? 1 : transport == "http" ? 2 : -1;
  if (t < 0 || code < 0 || code >= kCodes) {
    metrics_.RecordRequest(method_, std::string(code_name), seconds, std::string(transport));
    return;
  }
  if (!(seconds > 0)) seconds = 0;  // also NaN
  // The bucket as prometheus-cpp picks it: the first bound >= the value.
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), seconds) -
                          kLatencyBounds.begin());
  Shard& shard = shards_[internal::ThreadShard()];
  shard.requests[static_cast<size_t>(t * kCodes + code)].fetch_add(1, std::memory_order_relaxed);
  shard.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  shard.sum_ns.fetch_add(static_cast<uint64_t>(std::llround(std::min(seconds, 1e9) * 1e9)),
                         std::memory_order_relaxed);
}

void MethodMetrics::Publish() {
  static constexpr std::array<const char*, kTransports> kTransportNames = {"grpc", "nats", "http"};
  std::array<uint64_t, kCodes * kTransports> requests{};
  std::array<uint64_t, kBuckets> buckets{};
  uint64_t sum_ns = 0;
  for (unsigned i = 0; i < internal::kThreadShards; ++i) {
    const Shard& shard = shards_[i];
    for (size_t k = 0; k < requests.size(); ++k)
      requests[k] += shard.requests[k].load(std::memory_order_relaxed);
    for (size_t k = 0; k < buckets.size(); ++k)
      buckets[k] += shard.buckets[k].load(std::memory_order_relaxed);
    sum_ns += shard.sum_ns.load(std::memory_order_relaxed);
  }
  // Each shard only grows, so neither do these totals shrink.
  for (size_t k = 0; k < requests.size(); ++k) {
    if (requests[k] == published_requests_[k]) continue;
    if (counters_[k] == nullptr) {
      const auto code = static_cast<StatusCode>(k % kCodes);
      counters_[k] = &metrics_.requests_->Add({{"method", method_},
                                               {"code", std::string(StatusCodeName(code))},
                                               {"transport", kTransportNames[k / kCodes]}});
    }
    counters_[k]->Increment(static_cast<double>(requests[k] - published_requests_[k]));
    published_requests_[k] = requests[k];
  }
  if (buckets != published_buckets_) {
    std::vector<double> increments(buckets.size());
    for (size_t k = 0; k < buckets.size(); ++k)
      increments[k] = static_cast<double>(buckets[k] - published_buckets_[k]);
    latency_->ObserveMultiple(increments, static_cast<double>(sum_ns - published_sum_ns_) / 1e9);
    published_buckets_ = buckets;
    published_sum_ns_ = sum_ns;
  }
}

void Metrics::InFlight(int delta) {
  in_flight_shards_[internal::ThreadShard()].value.fetch_add(delta, std::memory_order_relaxed);
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
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    for (MethodMetrics* m : methods_) m->Publish();
    int64_t in_flight = 0;
    for (unsigned i = 0; i < internal::kThreadShards; ++i)
      in_flight += in_flight_shards_[i].value.load(std::memory_order_relaxed);
    in_flight_series_->Set(static_cast<double>(in_flight));
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace cppsvc::observability
