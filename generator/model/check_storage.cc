// A file's tables, sagas and infrastructure tables live in one database:
// the one of the file's service(s), with its migrations in a directory of
// its own.

#include "model/checker.h"

namespace cppsvc::model::checks {

void Checker::CheckStorage(const File& file) {
  const Message* first_table = nullptr;
  for (const std::string& name : file.messages) {
    const Message& m = model_.messages.at(name);
    if (m.table && first_table == nullptr) first_table = &m;
  }
  CheckIndexNamesUnique(file);
  CheckDropTables(file);
  const Service* owner = DatabaseOwner(file);
  if (first_table != nullptr && owner == nullptr) {
    Error(first_table->table->span,
          "table " + Quote(first_table->table->name) + " (message " + Quote(first_table->name) +
              "): no service in " + file.name +
              " owns a database to hold it: set database in the (cppsvc.v1.service) option of "
              "the " +
              "file's service");
  }
  if (owner != nullptr) CheckMigrationsDir(file, *owner);
}

void Checker::CheckIndexNamesUnique(const File& file) {
  std::map<std::string, std::string> index_names;  // index -> table
  for (const std::string& name : file.messages) {
    const Message& m = model_.messages.at(name);
    if (!m.table) continue;
    for (const model::Index& idx : m.table->indexes) {
      if (idx.fields.empty()) continue;
      if (auto [it, ok] = index_names.emplace(idx.name, m.table->name); !ok) {
        Error(m.table->span,
              "table " + Quote(m.table->name) + " (message " + Quote(m.name) + "): index name " +
                  Quote(idx.name) + " is already used by table " + Quote(it->second) +
                  " (index names are unique in a database): " +
                  (idx.name_given ? "rename it" : "set name"));
      }
    }
  }
}

void Checker::CheckDropTables(const File& file) {
  for (const std::string& d : file.drop_tables) {
    for (const std::string& name : file.messages) {
      const Message& m = model_.messages.at(name);
      if (m.table && m.table->name == d) {
        Error(file.schema_span,
              "schema drop_tables names table " + Quote(d) + ", which message " + Quote(m.name) +
                  " still declares: remove the table message first");
      }
    }
  }
}

// The first service of the file with a database; every other service of
// the file with one must name the same.
const Service* Checker::DatabaseOwner(const File& file) {
  const Service* owner = nullptr;
  for (const Service& s : file.services) {
    if (s.database.empty()) continue;
    if (owner == nullptr) {
      owner = &s;
    } else if (s.database != owner->database) {
      Error(s.has_options ? s.option_span : s.span,
            "service " + Quote(s.name) + ": database " + Quote(s.database) +
                " differs from database " + Quote(owner->database) + " of service " +
                Quote(owner->name) + " in the same file (a file's " +
                "tables and migrations belong to one database): move the service to its own file");
    }
  }
  return owner;
}

void Checker::CheckMigrationsDir(const File& file, const Service& owner) {
  auto [it, ok] = migration_dirs_.emplace(file.migrations_dir, &file);
  if (!ok) {
    Error(owner.has_options ? owner.option_span : owner.span,
          "service " + Quote(owner.name) + ": its migrations would go to " + file.migrations_dir +
              "/, which already holds those of " + it->second->name +
              ": keep services with a database in separate directories");
  }
}

}  // namespace cppsvc::model::checks
