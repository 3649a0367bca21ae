#include "cppsvc/sagas/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace cppsvc::sagas {
namespace {

using prometheus::Labels;

prometheus::Family<prometheus::Counter>* CounterFamily(observability::Metrics& m,
                                                       const std::string& name,
                                                       const std::string& help) {
  return &prometheus::BuildCounter()
              .Name(name)
              .Help(help)
              .Labels({{"service", m.service()}})
              .Register(m.registry());
}

}  // namespace

SagaMetrics::SagaMetrics(std::shared_ptr<observability::Metrics> metrics)
    : metrics_(std::move(metrics)) {
  observability::Metrics& m = *metrics_;
  started_ = CounterFamily(m, "cppsvc_saga_started_total", "Saga instances started.");
  completed_ = CounterFamily(m, "cppsvc_saga_completed_total", "Saga instances completed.");
  compensated_ = CounterFamily(m,
                               "cppsvc_saga_compensated_total",
                               "Saga instances that ended compensated (aborted).");
  timed_out_ = CounterFamily(m, "cppsvc_saga_timed_out_total", "Saga instances that timed out.");
  ignored_ = CounterFamily(m,
                           "cppsvc_saga_ignored_events_total",
                           "Events a saga acknowledged without a change, by reason.");
  duration_ = &prometheus::BuildHistogram()
                   .Name("cppsvc_saga_duration_seconds")
                   .Help("Time from a saga's start to its end state.")
                   .Labels({{"service", m.service()}})
                   .Register(m.registry());
  in_flight_ = &prometheus::BuildGauge()
                    .Name("cppsvc_saga_in_flight")
                    .Help("Saga instances not in an end state, by state.")
                    .Labels({{"service", m.service()}})
                    .Register(m.registry());
}

prometheus::Counter& SagaMetrics::Counter(prometheus::Family<prometheus::Counter>* family,
                                          std::map<std::string, std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return family->Add(labels);
}

void SagaMetrics::Started(std::string_view saga) {
  Counter(started_, {{"saga", std::string(saga)}}).Increment();
}

void SagaMetrics::Completed(std::string_view saga, double seconds) {
  Counter(completed_, {{"saga", std::string(saga)}}).Increment();
  ObserveDuration(saga, seconds);
}

void SagaMetrics::Compensated(std::string_view saga, double seconds) {
  Counter(compensated_, {{"saga", std::string(saga)}}).Increment();
  ObserveDuration(saga, seconds);
}

void SagaMetrics::ObserveDuration(std::string_view saga, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  duration_
      ->Add({{"saga", std::string(saga)}},
            prometheus::Histogram::
                BucketBoundaries{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300})
      .Observe(seconds);
}

void SagaMetrics::TimedOut(std::string_view saga) {
  Counter(timed_out_, {{"saga", std::string(saga)}}).Increment();
}

void SagaMetrics::Ignored(std::string_view saga, std::string_view reason) {
  Counter(ignored_, {{"saga", std::string(saga)}, {"reason", std::string(reason)}}).Increment();
}

void SagaMetrics::SetInFlight(std::string_view saga, const std::map<std::string, double>& counts) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& gauges = gauges_[std::string(saga)];
  for (auto& [state, gauge] : gauges) gauge->Set(0);
  for (const auto& [state, n] : counts) {
    prometheus::Gauge*& g = gauges[state];
    if (g == nullptr) g = &in_flight_->Add({{"saga", std::string(saga)}, {"state", state}});
    g->Set(n);
  }
}

}  // namespace cppsvc::sagas
