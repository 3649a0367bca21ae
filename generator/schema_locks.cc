#include "schema_locks.h"

#include <fstream>
#include <sstream>

#include "emit/migrations.h"
#include "text/join.h"

namespace cppsvc {
namespace {

struct FoundLock {
  std::string path;  // <dir>/<proto base>.schema.lock.json
  std::string text;
};

std::optional<FoundLock> FindLock(const model::File& file, const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    std::string path = dir + "/" + file.schema_lock;
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return FoundLock{path, text.str()};
  }
  return std::nullopt;
}

// Where a lock error points: the option of the service that gives the file
// its database.
diag::Span DatabaseSpan(const model::File& file) {
  for (const model::Service& s : file.services) {
    if (s.database == file.database) return s.has_options ? s.option_span : s.span;
  }
  return file.schema_span;
}

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

std::string StoreRemedy(const model::File& file, const SchemaLockOptions& options) {
  if (!options.store_command.empty())
    return "store it with: " + options.store_command + ", then commit it with the proto";
  return "run protoc once with --cpp-svc_opt=schema_lock=update, copy the " + file.schema_lock +
         " it writes to its --cpp-svc_out directory next to the proto and commit it";
}

void ReportMissing(const model::File& file,
                   const SchemaLockOptions& options,
                   diag::Diagnostics& diags) {
  std::string what = "file " + Quote(file.name) + " has database " + Quote(file.database) +
                     " but no schema lock " + file.schema_lock;
  if (options.dirs.empty()) {
    what +=
        " (no schema_lock_dir given: pass --cpp-svc_opt=schema_lock_dir=<dir> for the "
        "directory the locks sit in, usually the -I directory of the protos)";
  } else {
    what += " in " + text::Join(options.dirs, ", ");
  }
  diags.Error(DatabaseSpan(file), what + "; for a new database, " + StoreRemedy(file, options));
}

void ReportStale(const model::File& file,
                 const std::string& lock_path,
                 const std::string& new_migration,
                 const SchemaLockOptions& options,
                 diag::Diagnostics& diags) {
  std::string what = new_migration.empty()
                         ? "its schema lock " + lock_path + " is out of date (same migrations)"
                         : "the schema of database " + Quote(file.database) +
                               " differs from its schema lock " + lock_path +
                               " (it needs migration " + new_migration + ")";
  diags.Error(DatabaseSpan(file),
              "file " + Quote(file.name) + ": " + what + "; " + StoreRemedy(file, options) +
                  (new_migration.empty() ? "" : ", and review the new migration"));
}

}  // namespace

bool PlanSchemaLock(const model::Model& model,
                    const model::File& file,
                    const SchemaLockOptions& options,
                    diag::Diagnostics& diags,
                    emit::SchemaLock& next) {
  size_t errors = diags.All().size();
  std::optional<FoundLock> found = FindLock(file, options.dirs);
  std::optional<emit::SchemaLock> lock;
  if (found) {
    lock = emit::ParseSchemaLock(found->text, diag::Span{file.schema_lock, 0, 0}, diags);
    if (diags.All().size() != errors) return false;
  } else if (options.mode == SchemaLockMode::kCheck) {
    ReportMissing(file, options, diags);
    return false;
  }
  if (!emit::PlanMigrations(model, file, lock, diags, next)) return false;
  if (options.mode == SchemaLockMode::kCheck && emit::FormatSchemaLock(next) != found->text) {
    bool added = next.migrations.size() != lock->migrations.size();
    ReportStale(file, found->path, added ? next.migrations.back().name : "", options, diags);
    return false;
  }
  return true;
}

}  // namespace cppsvc
