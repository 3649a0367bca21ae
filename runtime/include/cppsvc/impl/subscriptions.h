// For generated servers only: what main() needs to run a service's events,
// the stream of the events it publishes and a route per subscription.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/context.h"
#include "cppsvc/defaults.h"
#include "cppsvc/status.h"

namespace cppsvc::impl {

// The JetStream stream of a bounded context: the subjects of every event the
// service publishes.
struct StreamRoute {
  std::string_view name;  // e.g. "ORDERS"
  std::vector<std::string> subjects;
};

// One subscription of the contract, bound to its On<Event> handler.
struct SubscriptionRoute {
  std::string_view event_type;  // full proto name
  std::string_view subject;
  std::string_view stream;   // the publisher's stream
  std::string_view durable;  // consumer shared by the service's replicas
  int max_deliver = defaults::kMaxDeliver;
  std::chrono::milliseconds ack_wait = defaults::kAckWait;
  // Decodes the payload and runs the handler (inside the consumer's
  // transaction); an undecodable payload is an error like any other, so it
  // ends in the dead letters after max_deliver attempts.
  std::function<Status(EventContext& ctx, const std::string& payload)> handle;
};

template <typename Handlers, typename Event>
void AddSubscription(std::vector<SubscriptionRoute>& routes,
                     std::string_view event_type,
                     std::string_view subject,
                     std::string_view stream,
                     std::string_view durable,
                     int max_deliver,
                     int ack_wait_ms,
                     Handlers& handlers,
                     Status (Handlers::*on)(EventContext&, const Event&)) {
  SubscriptionRoute route;
  route.event_type = event_type;
  route.subject = subject;
  route.stream = stream;
  route.durable = durable;
  route.max_deliver = max_deliver;
  route.ack_wait = std::chrono::milliseconds(ack_wait_ms);
  route.handle = [&handlers, on](EventContext& ctx, const std::string& payload) {
    Event event;
    if (!event.ParseFromString(payload)) {
      return Status(StatusCode::kInvalidArgument, "undecodable event payload");
    }
    return (handlers.*on)(ctx, event);
  };
  routes.push_back(std::move(route));
}

}  // namespace cppsvc::impl
