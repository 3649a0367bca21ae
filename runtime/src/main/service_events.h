// The events step of a service process: the JetStream stream of the events
// it publishes, the relay of its outbox and a consumer per subscription.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cppsvc/events/consumer.h"
#include "cppsvc/events/relay.h"
#include "cppsvc/impl/service_runtime.h"
#include "cppsvc/impl/specs.h"
#include "cppsvc/impl/subscriptions.h"
#include "service_settings.h"

namespace cppsvc::impl {

events::RelayOptions RelayOptionsOf(const ServiceSpec& spec,
                                    const Settings& settings,
                                    std::shared_ptr<observability::Metrics> metrics);

class ServiceEvents {
 public:
  ServiceEvents(const ServiceSpec& spec, const Settings& settings, const ServiceOptions& options);
  ~ServiceEvents();  // Stop()
  ServiceEvents(const ServiceEvents&) = delete;
  ServiceEvents& operator=(const ServiceEvents&) = delete;

  // Makes sure the stream exists (waiting for JetStream up to the database
  // startup timeout), starts the relay, then the consumers. A stream of
  // another service may not exist yet (its publisher starts later): such
  // consumers keep retrying on a thread of their own. Returns "" or what
  // failed.
  std::string Start(const StreamRoute& stream, const std::vector<SubscriptionRoute>& routes);
  void Stop();

 private:
  std::string EnsureStream(const StreamRoute& stream);
  void StartConsumers();

  const ServiceSpec& spec_;
  const Settings& settings_;
  const ServiceOptions& options_;
  std::unique_ptr<events::Relay> relay_;
  std::vector<std::unique_ptr<events::Consumer>> consumers_;
  std::atomic<bool> stopping_{false};
  std::thread starter_;
};

}  // namespace cppsvc::impl
