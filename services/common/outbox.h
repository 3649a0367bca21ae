// Events a service has decided to publish. For now they are kept in memory
// (InMemoryOutbox, also what tests inspect); the transactional outbox table
// and the NATS relay replace it later behind the same EventSink interface.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "cppsvc/context.h"

namespace services {

struct OutboxEvent {
  std::string type;     // full message name, e.g. "commerce.orders.v1.OrderCreated"
  std::string subject;  // from the message's (cppsvc.v1.event) option
  std::string key;      // value of the option's key field
  std::string payload;  // serialized message
  cppsvc::Clock::time_point created_at;
};

// Builds the outbox row of an event message (subject and key from its
// contract annotation).
OutboxEvent MakeEvent(const google::protobuf::Message& event);

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Append(OutboxEvent event) = 0;
  void Publish(const google::protobuf::Message& event) { Append(MakeEvent(event)); }
};

// Thread-safe list of pending events, oldest first.
class InMemoryOutbox final : public EventSink {
 public:
  void Append(OutboxEvent event) override;
  std::vector<OutboxEvent> Events() const;
  std::vector<OutboxEvent> Drain();

  // Pending events of type M, parsed (for tests and the future relay).
  template <typename M>
  std::vector<M> EventsOf() const {
    std::vector<M> out;
    for (const OutboxEvent& e : Events()) {
      if (e.type != M::descriptor()->full_name()) continue;
      M m;
      if (m.ParseFromString(e.payload)) out.push_back(std::move(m));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<OutboxEvent> events_;
};

}  // namespace services
