// Storage migrations of one .proto file: the schema lock's migrations
// re-emitted byte for byte, plus at most one new migration holding exactly
// the difference between the lock's schema and the contract's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diag/diagnostics.h"
#include "emit/emitters.h"
#include "emit/schema_lock.h"
#include "model/model.h"

namespace cppsvc::emit {

// The lock after this generation: `lock` (none = no migrations yet) plus the
// migration that brings the database to the contract's schema, if any.
// Destructive or lossy changes the contract does not allow are errors in
// `diags`, located at the element; returns false then.
bool PlanMigrations(const model::Model& model,
                    const model::File& file,
                    const std::optional<SchemaLock>& lock,
                    diag::Diagnostics& diags,
                    SchemaLock& next);

// <dir>/migrations/<NNNN_slug>.sql for every migration of `lock`, and the
// lock itself as <dir>/<base>.schema.lock.json.
void EmitMigrationFiles(const model::File& file,
                        const SchemaLock& lock,
                        std::vector<OutputFile>& out);

// <file>.cppsvc.migrations.{h,cc}: `<Base>Migrations()`, the migrations as
// cppsvc::db::Migration values (always written, empty for a file without a
// database, so build systems know the names up front): the header and the
// source, in that order. The source holds no SQL: it includes
// <migrations dir>/<name>.sql.inc, which cmake/CppSvcEmbedMigrations.cmake
// makes from the .sql file at build time, so the SQL is written once.
void EmitMigrationsSource(const model::File& file,
                          const SchemaLock* lock,
                          std::vector<std::string>& out);

// The migrations artifact: EmitMigrationsSource, and EmitMigrationFiles
// when the file has a lock (`in.lock`).
void EmitMigrations(const EmitInput& in, Rendered& out);

}  // namespace cppsvc::emit
