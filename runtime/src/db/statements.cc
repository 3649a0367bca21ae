#include "cppsvc/db/statements.h"

namespace cppsvc::db {

namespace {

// A function-local static: Statements register during static initialization
// of other translation units, in an order nobody controls.
std::vector<const Statement*>& Registry() {
  static std::vector<const Statement*> registry;
  return registry;
}

}  // namespace

Statement::Statement(const char* name, const char* sql) : name(name), sql(sql) {
  Registry().push_back(this);
}

const std::vector<const Statement*>& RegisteredStatements() {
  return Registry();
}

void DefineOn(pqxx::transaction_base& tx, const char* name, const std::string& sql) {
  tx.conn().prepare(name, sql);
}

}  // namespace cppsvc::db
