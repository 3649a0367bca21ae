#include "cppsvc/db/migrations.h"

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>

namespace cppsvc::db {

namespace {

// Any fixed number: advisory locks are per database, and this one only
// serializes migration runners of the same database.
constexpr char kLockKey[] = "7412093875419327881";

// Earlier runtimes kept their record in schema_migrations, a name other
// migration tools use too. A table of that name with exactly our columns is
// ours: it is renamed into the reserved cppsvc_ prefix, records kept.
constexpr char kAdoptOldTable[] = R"sql(
DO $$
BEGIN
  IF to_regclass('cppsvc_schema_migrations') IS NULL
     AND to_regclass('schema_migrations') IS NOT NULL
     AND (SELECT array_agg(column_name::text ORDER BY column_name)
            FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = 'schema_migrations')
         = ARRAY['applied_at', 'checksum', 'name'] THEN
    ALTER TABLE schema_migrations RENAME TO cppsvc_schema_migrations;
  END IF;
END
$$)sql";

std::string FirstLine(const char* what) {
  std::string line(what);
  line = line.substr(0, line.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

void CheckNames(const std::vector<Migration>& migrations) {
  std::set<std::string> seen;
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].name.empty()) {
      throw MigrationError("migration #" + std::to_string(i + 1) + " has no name");
    }
    if (!seen.insert(migrations[i].name).second) {
      throw MigrationError("migration " + migrations[i].name + " is listed twice");
    }
  }
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

namespace {

// Takes the migration lock (held until unlocked or the connection closes,
// also on errors) and makes sure the record table exists.
void LockAndPrepare(pqxx::connection& connection) {
  pqxx::nontransaction tx(connection);
  tx.exec(std::string("SELECT pg_advisory_lock(") + kLockKey + ")");
  tx.exec(kAdoptOldTable);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS cppsvc_schema_migrations ("
      "name text PRIMARY KEY, checksum text NOT NULL, "
      "applied_at timestamptz NOT NULL DEFAULT now())");
}

std::map<std::string, std::string> RecordedChecksums(pqxx::connection& connection) {
  std::map<std::string, std::string> recorded;  // name -> checksum
  pqxx::nontransaction tx(connection);
  for (const auto& row : tx.exec("SELECT name, checksum FROM cppsvc_schema_migrations"))
    recorded[row[0].as<std::string>()] = row[1].as<std::string>();
  return recorded;
}

// The migrations still to apply, in order; throws when an applied one was
// changed or a later one was applied before them. Everything is checked
// before anything is applied.
std::vector<const Migration*> Pending(const std::vector<Migration>& migrations,
                                      const std::map<std::string, std::string>& recorded,
                                      MigrationReport& report) {
  std::vector<const Migration*> pending;
  for (const Migration& migration : migrations) {
    auto it = recorded.find(migration.name);
    if (it == recorded.end()) {
      pending.push_back(&migration);
      continue;
    }
    const std::string checksum = Sha256Hex(migration.sql);
    if (it->second != checksum) {
      throw MigrationError("migration " + migration.name +
                           " was changed after it was applied: recorded checksum " + it->second +
                           ", now " + checksum +
                           "; restore it and add a new migration instead (if nobody edited "
                           "it, it was generated without the schema lock it was first "
                           "generated with: restore <file>.schema.lock.json beside the proto "
                           "and regenerate)");
    }
    if (!pending.empty()) {
      throw MigrationError("migration " + pending.front()->name +
                           " is not applied but the later migration " + migration.name +
                           " is; add new migrations after the last applied one");
    }
    ++report.already_applied;
  }
  return pending;
}

void Apply(pqxx::connection& connection, const Migration& migration) {
  pqxx::work tx(connection);
  tx.exec(migration.sql);
  tx.exec_params("INSERT INTO cppsvc_schema_migrations (name, checksum) VALUES ($1, $2)",
                 migration.name,
                 Sha256Hex(migration.sql));
  tx.commit();
}

std::unique_ptr<pqxx::connection> Connect(const std::string& conninfo) {
  try {
    return std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    throw MigrationError("cannot connect to the database to apply migrations: " +
                         FirstLine(e.what()));
  }
}

}  // namespace

MigrationReport ApplyMigrations(const std::string& conninfo,
                                const std::vector<Migration>& migrations) {
  CheckNames(migrations);
  std::unique_ptr<pqxx::connection> connection = Connect(conninfo);
  MigrationReport report;
  std::string current;  // the migration being applied, for error messages
  try {
    LockAndPrepare(*connection);
    for (const Migration* migration : Pending(migrations, RecordedChecksums(*connection), report)) {
      current = migration->name;
      Apply(*connection, *migration);
      report.applied.push_back(migration->name);
    }
    current.clear();
    pqxx::nontransaction tx(*connection);
    tx.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
  } catch (const MigrationError&) {
    throw;
  } catch (const std::exception& e) {
    if (!current.empty()) {
      throw MigrationError("migration " + current +
                           " failed, nothing of it was applied: " + FirstLine(e.what()));
    }
    throw MigrationError("cannot apply migrations: " + FirstLine(e.what()));
  }
  return report;
}

}  // namespace cppsvc::db
