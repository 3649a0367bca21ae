// Dead letters: events a consumer gave up on after max_deliver attempts,
// kept so an operator can list and replay them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/events/consumer.h"
#include "cppsvc/status.h"

namespace cppsvc::events {

struct DeadLetter {
  int64_t id = 0;
  std::string consumer, event_id, subject, error;
  int attempts = 0;
  std::string payload;
  std::map<std::string, std::string> headers;
  Clock::time_point created_at;
  bool replayed = false;
};

// Dead letters of `consumer` (all consumers when empty), oldest first.
// Throws std::runtime_error when the database fails.
std::vector<DeadLetter> ListDeadLetters(db::Pool& pool,
                                        const std::string& consumer = "",
                                        bool include_replayed = false,
                                        size_t limit = 100);

// Runs the dead letter's event through `handler` once more, in one
// transaction that also inserts the inbox row and sets replayed_at. Returns
// NOT_FOUND (no such dead letter), FAILED_PRECONDITION (already replayed, or
// the consumer applied the event since), or the handler's error.
Status ReplayDeadLetter(db::Pool& pool, int64_t id, const EventHandler& handler);

}  // namespace cppsvc::events
