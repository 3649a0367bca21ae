// The schema lock of a .proto file with tables: every migration emitted so
// far (name, SHA-256, full SQL text) and the schema they produce. It is
// checked in next to the .proto (<dir>/<base>.schema.lock.json); the plugin
// reads it, re-emits the old migrations byte for byte, diffs the contract
// against the recorded schema and emits the next migration and the new lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diag/diagnostics.h"
#include "model/model.h"

namespace cppsvc::emit {

struct LockColumn {
  std::string name;
  int field = 0;  // proto field number; 0 for the unmapped version column
  std::string type;
  bool nullable = false;
  std::string default_sql;
  bool retired = false;  // its field was removed: kept with its data, nullable, unmapped
};

struct LockIndex {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
  std::string text_search;  // "" unless a full-text search index
};

struct LockTable {
  std::string name;
  std::string message;              // full name of the table message
  std::vector<LockColumn> columns;  // in SQL column order
  std::vector<std::string> primary_key;
  std::vector<LockIndex> indexes;
  std::vector<std::string> dropped_columns;  // dropped with drop_columns, for the record

  const LockColumn* FindColumn(const std::string& column) const;
  const LockIndex* FindIndex(const std::string& index) const;
};

// The version of the runtime's own tables (templates/storage/
// infrastructure.sql) that a new database gets. A lock recording an older
// one gets the next migration's upgrade to it
// (templates/storage/infrastructure_upgrade_<N>.sql for each N above).
// Locks written before the version was recorded hold version 1.
inline constexpr int kInfrastructureVersion = 3;

// What the migrations of one file produce.
struct Schema {
  int infrastructure = kInfrastructureVersion;  // of the runtime's tables
  bool saga_state = false;                      // the cppsvc_sagas table of saga owners
  bool saga_steps = false;                      // the cppsvc_saga_steps table of saga participants
  std::vector<LockTable> tables;
  std::vector<std::string> dropped_tables;

  const LockTable* FindTable(const std::string& table) const;
};

struct LockedMigration {
  std::string name;  // e.g. 0002_add_orders_note
  std::string sha256;
  std::string sql;  // the whole file, as written to <dir>/migrations/<name>.sql
};

struct SchemaLock {
  std::string source;    // proto path
  std::string database;  // informational
  std::vector<LockedMigration> migrations;
  Schema schema;
};

// SHA-256 of `data`, lowercase hex (the checksum the runtime records for
// applied migrations too).
std::string Sha256Hex(const std::string& data);

// The schema the contract of `file` asks for, in declaration order.
Schema SchemaOf(const model::Model& model, const model::File& file);

// Parses a lock; problems go to `diags` at `span` (the lock file). Checks
// that every migration still matches its recorded SHA-256.
std::optional<SchemaLock> ParseSchemaLock(const std::string& text,
                                          const diag::Span& span,
                                          diag::Diagnostics& diags);

// The lock as written: JSON, two-space indent, keys in a fixed order, LF,
// final newline.
std::string FormatSchemaLock(const SchemaLock& lock);

}  // namespace cppsvc::emit
