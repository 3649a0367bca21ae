// The database runtime: connection pool, transactions, migrations and
// idempotency keys on PostgreSQL (libpqxx).
#pragma once

#include "cppsvc/db/errors.h"       // IWYU pragma: export
#include "cppsvc/db/idempotency.h"  // IWYU pragma: export
#include "cppsvc/db/migrations.h"   // IWYU pragma: export
#include "cppsvc/db/pool.h"         // IWYU pragma: export
#include "cppsvc/db/statements.h"   // IWYU pragma: export
#include "cppsvc/db/transaction.h"  // IWYU pragma: export
