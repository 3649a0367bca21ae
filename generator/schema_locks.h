// How the plugin uses a file's schema lock (--cpp-svc_opt=schema_lock=...):
// a file with a database must have its lock in a lock directory and be up to
// date with it, unless the run is asked to start or advance the lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diag/diagnostics.h"
#include "emit/schema_lock.h"
#include "model/model.h"

namespace cppsvc {

enum class SchemaLockMode {
  // The default: the lock must exist and the contract's schema must be the
  // lock's; a missing or stale lock is an error naming how to store it.
  kCheck,
  // A missing lock starts at 0001_init; a stale one gets the next migration.
  // The plugin writes the new lock to the output, to be stored by the caller.
  kUpdate,
};

struct SchemaLockOptions {
  SchemaLockMode mode = SchemaLockMode::kCheck;
  // Where locks are read: <dir>/<proto base>.schema.lock.json, the first dir
  // holding one wins (schema_lock_dir=<dir>, repeatable).
  std::vector<std::string> dirs;
  // The command that stores the locks this run writes, named by the errors
  // of kCheck (schema_lock_store_command=...; cppsvc_generate passes its
  // <target>_schema_locks target). Empty: the errors name the protoc options.
  std::string store_command;
};

// The lock of `file` after this run, in `next`: the lock read from
// `options.dirs` plus the migration the contract needs, if any. Returns false
// with located errors in `diags` when the lock is unreadable, when a change
// is refused, or (kCheck) when the lock is missing or stale.
bool PlanSchemaLock(const model::Model& model,
                    const model::File& file,
                    const SchemaLockOptions& options,
                    diag::Diagnostics& diags,
                    emit::SchemaLock& next);

}  // namespace cppsvc
