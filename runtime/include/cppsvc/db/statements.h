// Prepared statements. Generated repositories define them at namespace scope;
// each registers itself at static initialization, and every connection the
// pool opens defines all of them (see Pool).
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

namespace cppsvc::db {

struct Statement {
  // Registers the statement; `name` and `sql` must outlive the process
  // (string literals). Names are unique per process.
  Statement(const char* name, const char* sql);

  const char* name;
  const char* sql;
};

// Every Statement constructed so far, in construction order.
const std::vector<const Statement*>& RegisteredStatements();

// Defines `name` as `sql` on the connection `tx` runs on, whatever opened
// it (defining it again with the same text is a lookup in libpqxx, which
// prepares it on its first use there): the runtime's own statements on hot
// paths (the outbox's INSERT, the saga owner's and participants' rows) are
// parsed and planned once per connection, not per call.
void DefineOn(pqxx::transaction_base& tx, const char* name, const std::string& sql);

// DefineOn, then runs the statement with `args`.
template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx,
                          const char* name,
                          const std::string& sql,
                          Args&&... args) {
  DefineOn(tx, name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace cppsvc::db
