// One transaction per unit of work: RunInTransaction leases a connection,
// runs the body, commits only if it returns OK, and turns database errors
// into the Status a caller can act on.
#pragma once

#include <exception>
#include <functional>

#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/status.h"

namespace pqxx {
class transaction_base;
}

namespace cppsvc::db {

// What handlers and repositories get: exec_prepared, exec_params, ...
using Tx = pqxx::transaction_base;

struct TxOptions {
  // Extra attempts after a serialization failure or a deadlock.
  int max_serialization_retries = 3;
  // Extra attempts after a VersionConflict thrown by the body (opt-in: the
  // body must read the row again, which a new run does).
  int max_version_conflict_retries = 0;
  enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };
  Isolation isolation = Isolation::kReadCommitted;
};

// Runs `body` in one transaction on a pooled connection. The transaction's
// statement_timeout is the time left until `deadline`; if the deadline has
// passed when the body returns, the transaction is rolled back. Exceptions
// from the body roll back too and are mapped by MapException; serialization
// failures and deadlocks run the body again (a new transaction) up to
// max_serialization_retries times, version conflicts up to
// max_version_conflict_retries times, then give ABORTED. A pooled connection
// found dead before the body ran is replaced without counting as an attempt.
Status RunInTransaction(Pool& pool,
                        Clock::time_point deadline,
                        const std::function<Status(Tx&)>& body,
                        const TxOptions& options = {});

// The Status for an exception thrown by database code:
//   NotFound -> NOT_FOUND, VersionConflict -> ABORTED (their messages kept);
//   pqxx::unique_violation -> ALREADY_EXISTS;
//   serialization failure, deadlock -> ABORTED;
//   Unavailable, pqxx::broken_connection, server shutting down -> UNAVAILABLE;
//   pqxx::in_doubt_error -> UNAVAILABLE (the commit's outcome is unknown);
//   statement timeout (SQLSTATE 57014) -> DEADLINE_EXCEEDED;
//   anything else -> INTERNAL "internal error".
// Messages never hold SQL or row values; the detail of unexpected errors is
// logged.
Status MapException(const std::exception& e);

}  // namespace cppsvc::db
