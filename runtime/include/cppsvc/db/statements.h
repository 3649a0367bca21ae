// Prepared statements. Generated repositories define them at namespace scope;
// each registers itself at static initialization, and every connection the
// pool opens defines all of them (see Pool).
#pragma once

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

}  // namespace cppsvc::db
