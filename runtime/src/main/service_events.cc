#include "service_events.h"

#include <chrono>

#include "cppsvc/events/streams.h"
#include "cppsvc/observability/log.h"

namespace cppsvc::impl {

events::RelayOptions RelayOptionsOf(const ServiceSpec& spec,
                                    const Settings& settings,
                                    std::shared_ptr<observability::Metrics> metrics) {
  events::RelayOptions o;
  o.service = std::string(spec.name);
  o.database_url = settings.database_url;
  o.nats_url = settings.nats_url;
  o.poll = settings.relay_poll;
  o.batch = settings.relay_batch;
  o.retention = settings.retention;
  o.metrics = std::move(metrics);
  return o;
}

ServiceEvents::ServiceEvents(const ServiceSpec& spec,
                             const Settings& settings,
                             const ServiceOptions& options)
    : spec_(spec), settings_(settings), options_(options) {}

ServiceEvents::~ServiceEvents() {
  Stop();
}

std::string ServiceEvents::Start(const StreamRoute& stream,
                                 const std::vector<SubscriptionRoute>& routes) {
  if (!stream.subjects.empty()) {
    if (std::string error = EnsureStream(stream); !error.empty()) return error;
    if (settings_.relay) {
      relay_ = std::make_unique<events::Relay>(RelayOptionsOf(spec_, settings_, options_.metrics));
      relay_->Start();
    }
  }
  for (const SubscriptionRoute& r : routes) {
    events::ConsumerOptions co;
    co.service = std::string(spec_.name);
    co.nats_url = settings_.nats_url;
    co.pool = options_.db;
    co.metrics = options_.metrics;
    events::ConsumerSpec consumer;
    consumer.stream = std::string(r.stream);
    consumer.durable = std::string(r.durable);
    consumer.subject = std::string(r.subject);
    consumer.max_deliver = r.max_deliver;
    consumer.ack_wait = r.ack_wait;
    consumers_.push_back(std::make_unique<events::Consumer>(co, consumer, r.handle));
  }
  starter_ = std::thread([this] { StartConsumers(); });
  return "";
}

std::string ServiceEvents::EnsureStream(const StreamRoute& stream) {
  const auto give_up = std::chrono::steady_clock::now() + settings_.db_startup;
  for (auto wait = std::chrono::milliseconds(100);;
       wait = std::min(wait * 2, std::chrono::milliseconds(2000))) {
    try {
      events::EnsureStreams(settings_.nats_url, {{std::string(stream.name), stream.subjects}});
      return "";
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() + wait >= give_up) {
        return std::string("JetStream: ") + e.what();
      }
      std::this_thread::sleep_for(wait);
    }
  }
}

void ServiceEvents::StartConsumers() {
  std::vector<bool> started(consumers_.size(), false);
  for (bool warned = false; !stopping_;) {
    bool all = true;
    for (size_t i = 0; i < consumers_.size(); ++i) {
      if (started[i]) continue;
      try {
        consumers_[i]->Start();
        started[i] = true;
      } catch (const std::exception& e) {
        all = false;
        if (!warned) {
          observability::LogJson({{"level", "warn"},
                                  {"msg", "consumer not started yet, retrying"},
                                  {"service", std::string(spec_.name)},
                                  {"error", e.what()}});
        }
      }
    }
    if (all) return;
    warned = true;
    for (int i = 0; i < 10 && !stopping_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void ServiceEvents::Stop() {
  stopping_ = true;
  if (starter_.joinable()) starter_.join();
  // Each consumer's fetch ends within its wait: wait for all of them at once.
  for (auto& c : consumers_) c->RequestStop();
  for (auto& c : consumers_) c->Stop();
  if (relay_) relay_->Stop();
}

}  // namespace cppsvc::impl
