#include <string>
#include <utility>

#include "cppsvc/events/outbox.h"
#include "cppsvc/impl/handler_base.h"

namespace cppsvc::impl {
namespace {

events::OutboxEvent Outbox(const EventSpec& spec,
                           std::string ordering_key,
                           const google::protobuf::Message& event) {
  events::OutboxEvent e;
  e.subject = std::string(spec.subject);
  e.event_type = std::string(spec.type);
  e.ordering_key = std::move(ordering_key);
  if (!event.SerializeToString(&e.payload)) throw std::invalid_argument("event does not serialize");
  return e;
}

}  // namespace

std::string EmitEvent(const CallContext& ctx,
                      const EventSpec& spec,
                      std::string ordering_key,
                      const google::protobuf::Message& event) {
  events::OutboxEvent e = Outbox(spec, std::move(ordering_key), event);
  if (!ctx.traceparent().empty()) e.headers["traceparent"] = ctx.traceparent();
  return events::AddToOutbox(ctx.tx(), e);
}

std::string EmitEvent(const EventContext& ctx,
                      const EventSpec& spec,
                      std::string ordering_key,
                      const google::protobuf::Message& event) {
  events::OutboxEvent e = Outbox(spec, std::move(ordering_key), event);
  if (!ctx.traceparent().empty()) e.headers["traceparent"] = ctx.traceparent();
  // The event this one follows from, for tracing a chain across services.
  e.headers["Cppsvc-Causation-Id"] = ctx.event_id();
  return events::AddToOutbox(ctx.tx(), e);
}

}  // namespace cppsvc::impl
