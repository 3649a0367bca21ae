// The transactional outbox: a handler's events are written in its own
// transaction and published by the relay (relay.h) only once it commits.
#pragma once

#include <map>
#include <string>

#include "cppsvc/db/transaction.h"

namespace cppsvc::events {

// Headers every published event carries, besides Nats-Msg-Id (the event id)
// and the entries of the outbox row's `headers`.
inline constexpr char kEventTypeHeader[] = "Cppsvc-Event-Type";
inline constexpr char kOrderingKeyHeader[] = "Cppsvc-Ordering-Key";

struct OutboxEvent {
  std::string id;                              // uuid; generated when empty
  std::string subject;                         // JetStream subject
  std::string event_type;                      // full proto name
  std::string ordering_key;                    // "" = none
  std::string payload;                         // serialized protobuf
  std::map<std::string, std::string> headers;  // traceparent, causation id, ...
};

// INSERTs the event into cppsvc_outbox inside `tx` (the handler's
// transaction): it is published only if that transaction commits. Returns
// the event id. Throws db::InvalidArgument for an id that is not a uuid.
std::string AddToOutbox(db::Tx& tx, const OutboxEvent& event);

}  // namespace cppsvc::events
