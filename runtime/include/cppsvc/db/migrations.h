// Schema migrations: numbered SQL scripts applied once per database, in
// order, recorded with their checksum in cppsvc_schema_migrations.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::db {

struct Migration {
  std::string name;  // e.g. "0001_init"; unique
  std::string sql;   // may hold several statements
};

struct MigrationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MigrationReport {
  std::vector<std::string> applied;  // by this call, in order
  size_t already_applied = 0;        // of `migrations`, before this call
};

// Under a PostgreSQL advisory lock (so that processes starting together
// apply each migration exactly once): creates cppsvc_schema_migrations if
// missing (adopting the schema_migrations of an older runtime),
// checks that no applied migration changed (its SHA-256 differs from the
// recorded one), then applies each pending migration in its own transaction,
// recording it in the same transaction. Throws MigrationError when a
// migration changed or fails (nothing of a failed migration stays), or the
// database cannot be reached.
MigrationReport ApplyMigrations(const std::string& conninfo,
                                const std::vector<Migration>& migrations);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace cppsvc::db
