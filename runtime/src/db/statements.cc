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

}  // namespace cppsvc::db
