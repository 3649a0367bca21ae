// For generated handler base classes only (`<Service>Base`).
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "cppsvc/context.h"
#include "cppsvc/defaults.h"
#include "cppsvc/status.h"

namespace cppsvc::impl {

// Root of every generated `<Service>Base`: lets the runtime hold any service.
class ServiceBase {
 public:
  virtual ~ServiceBase() = default;
};

// What the contract says about one event type, generated per event.
struct EventSpec {
  std::string_view type;     // full proto name
  std::string_view subject;  // NATS subject
};

// Writes `event` to the outbox in the transaction of the call or event being
// handled (ctx.tx()), with the trace context and, for an event handler, the
// causing event's id; the relay publishes it after the commit. Returns the
// event id. Throws std::logic_error when the context has no transaction.
std::string EmitEvent(const CallContext& ctx,
                      const EventSpec& spec,
                      std::string ordering_key,
                      const google::protobuf::Message& event);
std::string EmitEvent(const EventContext& ctx,
                      const EventSpec& spec,
                      std::string ordering_key,
                      const google::protobuf::Message& event);

}  // namespace cppsvc::impl
