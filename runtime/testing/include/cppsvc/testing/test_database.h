// A database of its own for a suite of generated contract tests: created
// on the PostgreSQL server named by CPPSVC_TEST_DATABASE_URL (or the file
// named by CPPSVC_TEST_DATABASE_URL_FILE), migrated like a service's at
// start, dropped at the end. Cases that need a database (idempotent
// replays) skip, saying why, when neither variable is set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cppsvc/db/migrations.h"
#include "cppsvc/db/pool.h"

namespace cppsvc::testing {

class TestDatabase {
 public:
  // Null, with `why` set, when no server is configured; throws when the
  // configured server cannot be used (a broken setup fails, it does not skip).
  static std::unique_ptr<TestDatabase> Create(const std::vector<db::Migration>& migrations,
                                              std::string* why);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  std::shared_ptr<db::Pool> pool() const { return pool_; }

 private:
  TestDatabase(std::string server, std::string name);

  std::string server_;  // conninfo of the server's maintenance database
  std::string name_;
  std::shared_ptr<db::Pool> pool_;
};

}  // namespace cppsvc::testing
