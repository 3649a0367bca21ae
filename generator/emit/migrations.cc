#include "emit/migrations.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "emit/cpp_layout.h"
#include "emit/template.h"
#include "text/join.h"

namespace cppsvc::emit {

// Defined in the source generated from templates/ at build time.
const std::map<std::string_view, std::string_view>& EmbeddedTemplates();

namespace {

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// A plain SQL file of templates/storage/, without its final newline.
std::string StorageSql(std::string_view name) {
  std::string text(EmbeddedTemplates().at(name));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// Type names as PostgreSQL spells them, so `int8` and `bigint` compare
// equal: lowercase, single spaces, none around parentheses and commas.
std::string NormalType(const std::string& type) {
  std::string out;
  for (char c : type) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == ' ') {
      if (!out.empty() && out.back() != ' ' && out.back() != '(' && out.back() != ',') out += ' ';
      continue;
    }
    if ((l == '(' || l == ',' || l == ')') && !out.empty() && out.back() == ' ') out.pop_back();
    out += l;
  }
  static const std::map<std::string, std::string> kAliases = {
      {"int", "integer"},
      {"int4", "integer"},
      {"int8", "bigint"},
      {"float4", "real"},
      {"float8", "double precision"},
      {"bool", "boolean"},
      {"timestamp with time zone", "timestamptz"},
      {"character varying", "varchar"},
      {"decimal", "numeric"}};
  size_t paren = out.find('(');
  std::string head = out.substr(0, paren);
  auto it = kAliases.find(head);
  if (it != kAliases.end())
    out = it->second + (paren == std::string::npos ? "" : out.substr(paren));
  return out;
}

// varchar(n) -> n; 0 when `type` is not a bounded varchar.
int VarcharLength(const std::string& type) {
  int n = 0;
  return std::sscanf(type.c_str(), "varchar(%d)", &n) == 1 ? n : 0;
}

// Changes PostgreSQL makes without losing or refusing any value.
bool Widens(const std::string& from, const std::string& to) {
  static const std::set<std::pair<std::string, std::string>> kWidening = {
      {"integer", "bigint"},
      {"integer", "numeric(20,0)"},
      {"bigint", "numeric(20,0)"},
      {"real", "double precision"},
      {"varchar", "text"},
  };
  if (kWidening.count({from, to}) > 0) return true;
  int a = VarcharLength(from), b = VarcharLength(to);
  return a > 0 && (to == "text" || to == "varchar" || b >= a);
}

std::string Definition(const LockColumn& c) {
  return c.name + " " + c.type + (c.nullable ? "" : " NOT NULL") +
         (c.default_sql.empty() ? "" : " DEFAULT " + c.default_sql);
}

// A zero value to suggest as column.default for a new NOT NULL column.
std::string SuggestedDefault(const model::Column& c) {
  switch (c.codec) {
    case model::ColumnCodec::kBool:
      return "false";
    case model::ColumnCodec::kString:
      return "''";
    case model::ColumnCodec::kBytes:
      return "''::bytea";
    case model::ColumnCodec::kTimestamp:
      return "now()";
    case model::ColumnCodec::kJson:
      return c.sql_type == "jsonb" ? "'[]'::jsonb" : "'null'";
    default:
      return "0";
  }
}

Data IndexView(const std::string& table, const LockIndex& i) {
  Data v;
  v.set("table", table);
  v.set("index", i.name);
  // What the index covers: its columns, or for full-text search the
  // document its queries match (the columns joined by spaces).
  std::string target = "(" + text::Join(i.columns, ", ") + ")";
  if (!i.text_search.empty()) {
    target = "USING GIN (to_tsvector('" + i.text_search + "', " +
             text::Join(i.columns, " || ' ' || ") + "))";
  }
  v.set("target", target);
  v.set("unique", Data(i.unique));
  return v;
}

Data CreateTableView(const LockTable& t) {
  Data v;
  v.set("table", t.name);
  Data lines = List();
  std::vector<std::string> texts;
  for (const LockColumn& c : t.columns) texts.push_back(Definition(c));
  texts.push_back("PRIMARY KEY (" + text::Join(t.primary_key, ", ") + ")");
  for (size_t i = 0; i < texts.size(); ++i) {
    Data line;
    line.set("text", texts[i]);
    line.set("last", Data(i + 1 == texts.size()));
    lines.push_back(line);
  }
  v.set("lines", lines);
  Data indexes = List();
  for (const LockIndex& i : t.indexes) indexes.push_back(IndexView(t.name, i));
  v.set("indexes", indexes);
  return v;
}

// One statement of a migration: `kind` names its section in
// storage/migration.sql.mustache.
struct Step {
  std::string comment;
  std::string kind;
  Data data;
};

class Planner {
 public:
  Planner(const model::Model& model, const model::File& file, diag::Diagnostics& diags)
      : model_(model), file_(file), diags_(diags) {}

  // Fills `steps_` and `slugs_` and returns the schema after them.
  Schema Diff(const Schema& old, const Schema& now) {
    Schema result = old;
    UpgradeRuntimeTables(old, now, result);
    if (now.saga_state && !old.saga_state) {
      Raw("", StorageSql("storage/saga_state.sql"));
      slugs_.push_back("add_saga_state");
      result.saga_state = true;
    }
    if (now.saga_steps && !old.saga_steps) {
      Raw("", StorageSql("storage/saga_steps.sql"));
      slugs_.push_back("add_saga_steps");
      result.saga_steps = true;
    }
    for (const LockTable& t : now.tables) {
      const LockTable* before = old.FindTable(t.name);
      if (before == nullptr) {
        AddTable(t, result);
      } else {
        DiffTable(*before, t, TableOf(result, t.name));
      }
    }
    for (const LockTable& t : old.tables) {
      if (now.FindTable(t.name) == nullptr) RemoveTable(t, result);
    }
    CheckDropTables(old, now);
    return result;
  }

  void Raw(const std::string& comment, const std::string& sql) {
    Data v;
    v.set("sql", sql);
    steps_.push_back({comment, "", v});
  }

  const std::vector<Step>& steps() const { return steps_; }

  // A file name part naming the migration's changes.
  std::string Slug() const {
    if (slugs_.size() == 1) return slugs_[0];
    std::set<std::string> tables(touched_.begin(), touched_.end());
    if (tables.size() == 1 && slugs_.size() > 1) return "alter_" + *tables.begin();
    return "update_schema";
  }

  void CreateTable(const LockTable& t) {
    Add(MessageComment(t), "create_table", CreateTableView(t));
  }

 private:
  void Add(const std::string& comment, const std::string& kind, Data data) {
    steps_.push_back({comment, kind, std::move(data)});
  }

  static LockTable& TableOf(Schema& schema, const std::string& name) {
    return *std::find_if(schema.tables.begin(), schema.tables.end(), [&](const LockTable& t) {
      return t.name == name;
    });
  }

  // The runtime's tables, from the lock's version up to this plugin's.
  void UpgradeRuntimeTables(const Schema& old, const Schema& now, Schema& result) {
    if (old.infrastructure >= now.infrastructure) return;
    for (int v = old.infrastructure + 1; v <= now.infrastructure; ++v) {
      Raw("", StorageSql("storage/infrastructure_upgrade_" + std::to_string(v) + ".sql"));
    }
    slugs_.push_back("upgrade_runtime_tables");
    result.infrastructure = now.infrastructure;
  }

  void AddTable(const LockTable& t, Schema& result) {
    CreateTable(t);
    slugs_.push_back("add_" + t.name);
    touched_.push_back(t.name);
    result.tables.push_back(t);
    std::erase(result.dropped_tables, t.name);
  }

  // A table of the lock no message declares any more: dropped when
  // drop_tables says so, an error otherwise.
  void RemoveTable(const LockTable& t, Schema& result) {
    if (!Contains(file_.drop_tables, t.name)) {
      diags_.Error(file_.package_span,
                   "table " + Quote(t.name) + " (message " + Quote(t.message) +
                       ") is in the schema lock " + file_.schema_lock +
                       " but no message declares it any more: dropping a table deletes its rows; "
                       "to drop it, "
                       "list it in drop_tables of the file's (cppsvc.v1.schema) option (renaming "
                       "a table is not "
                       "supported)");
      return;
    }
    Add("Dropped with drop_tables: the table's rows are deleted.", "drop_table", TableData(t.name));
    slugs_.push_back("drop_" + t.name);
    touched_.push_back(t.name);
    std::erase_if(result.tables, [&](const LockTable& r) { return r.name == t.name; });
    result.dropped_tables.push_back(t.name);
  }

  // Every name in drop_tables must be a table the lock knows (or one
  // already dropped).
  void CheckDropTables(const Schema& old, const Schema& now) {
    std::vector<std::string> known;
    for (const LockTable& t : old.tables) known.push_back(t.name);
    for (const std::string& d : file_.drop_tables) {
      if (old.FindTable(d) != nullptr || Contains(old.dropped_tables, d) ||
          now.FindTable(d) != nullptr)
        continue;
      diags_.Error(file_.schema_span,
                   "schema drop_tables names table " + Quote(d) +
                       ", which is not in the schema lock " + file_.schema_lock +
                       diag::DidYouMean(d, known));
    }
  }

  static Data TableData(const std::string& table) {
    Data v;
    v.set("table", table);
    return v;
  }

  static Data ColumnData(const std::string& table, const std::string& column) {
    Data v = TableData(table);
    v.set("column", column);
    return v;
  }

  std::string MessageComment(const LockTable& t) const {
    const model::Message* m = model_.FindMessage(t.message);
    std::string doc =
        m == nullptr ? "" : (m->table->description.empty() ? m->comment : m->table->description);
    return t.message + (doc.empty() ? "" : ": " + doc);
  }

  // A column both in the lock and in the contract: the lock's definition,
  // the contract's, and the next lock's copy to update.
  struct ColumnChange {
    const std::string& table;
    const LockColumn& old;
    const LockColumn& now;
    LockColumn& next;
    const diag::Span& span;
    std::string what;  // names the column in messages
    bool allow;        // column: { allow_type_change: true }
  };

  static std::string TableWhat(const LockTable& now, const model::Message& m) {
    return "table " + Quote(now.name) + " (message " + Quote(m.name) + ")";
  }

  static LockColumn& ColumnOf(LockTable& table, const std::string& name) {
    return *std::find_if(table.columns.begin(), table.columns.end(), [&](const LockColumn& c) {
      return c.name == name;
    });
  }

  static bool SameIndex(const LockIndex* a, const LockIndex& b) {
    return a != nullptr && a->columns == b.columns && a->unique == b.unique &&
           a->text_search == b.text_search;
  }

  void DiffTable(const LockTable& before, const LockTable& now, LockTable& target) {
    const model::Message& m = *model_.FindMessage(now.message);
    size_t first_step = steps_.size();
    target.message = now.message;
    CheckPrimaryKey(before, now, m);
    // Indexes first: an index over a column dropped below would go with it.
    DropChangedIndexes(before, now);
    for (const LockColumn& c : now.columns) DiffColumn(before, now, m, c, target);
    RemoveUnmappedColumns(before, now, *m.table, target);
    CheckDropColumns(before, now, m);
    CreateChangedIndexes(before, now);
    target.indexes = now.indexes;
    if (steps_.size() > first_step) touched_.push_back(now.name);
  }

  void CheckPrimaryKey(const LockTable& before, const LockTable& now, const model::Message& m) {
    if (before.primary_key == now.primary_key) return;
    diags_.Error(m.table->span,
                 TableWhat(now, m) + ": the primary key would change from (" +
                     text::Join(before.primary_key, ", ") + ") to (" +
                     text::Join(now.primary_key, ", ") + "), recorded in the schema lock " +
                     file_.schema_lock +
                     ": changing a primary key is not supported; declare a new table instead");
  }

  void DropChangedIndexes(const LockTable& before, const LockTable& now) {
    for (const LockIndex& i : before.indexes) {
      if (SameIndex(now.FindIndex(i.name), i)) continue;
      Add("", "drop_index", IndexView(now.name, i));
      slugs_.push_back("drop_" + i.name);
    }
  }

  void CreateChangedIndexes(const LockTable& before, const LockTable& now) {
    for (const LockIndex& i : now.indexes) {
      if (SameIndex(before.FindIndex(i.name), i)) continue;
      Add("", "create_index", IndexView(now.name, i));
      slugs_.push_back("add_" + i.name);
    }
  }

  // Column `c` of the contract's table against the lock's.
  void DiffColumn(const LockTable& before,
                  const LockTable& now,
                  const model::Message& m,
                  const LockColumn& c,
                  LockTable& target) {
    const model::Column* mc = m.table->FindColumn(c.name);
    const model::Field* field = mc == nullptr ? nullptr : &m.fields[mc->field_index];
    const diag::Span& span = mc == nullptr ? m.table->span : mc->span;
    std::string what = field == nullptr
                           ? TableWhat(now, m) + ": version column"
                           : "field " + Quote(m.name + "." + field->name) + ": column " +
                                 Quote(c.name) + " of table " + Quote(now.name);
    const LockColumn* old = before.FindColumn(c.name);
    if (old != nullptr && old->retired) {
      diags_.Error(
          span,
          what + " was retired when its field was removed and still holds the old rows' data: " +
              "choose another column name, or first drop the old column with drop_columns: [\"" +
              c.name + "\"] and generate once");
      return;
    }
    if (old == nullptr) {
      AddColumn(before, now, c, mc, span, what, target);
      return;
    }
    ColumnChange change{now.name,
                        *old,
                        c,
                        ColumnOf(target, c.name),
                        span,
                        what,
                        field != nullptr && field->column.allow_type_change};
    change.next.field = c.field;
    DiffType(change);
    DiffNullable(change);
    DiffDefault(change);
  }

  void DiffType(const ColumnChange& c) {
    std::string from = NormalType(c.old.type), to = NormalType(c.now.type);
    if (from == to) return;
    if (!Widens(from, to) && !c.allow) {
      diags_.Error(c.span,
                   c.what + " would change type from " + c.old.type + " (schema lock " +
                       file_.schema_lock + ") to " + c.now.type +
                       ", which can fail on or lose existing data: keep the old type with "
                       "column: { type: \"" +
                       c.old.type +
                       "\" }, or set column: { allow_type_change: true } to convert the rows");
      return;
    }
    Data v = ColumnData(c.table, c.now.name);
    v.set("type", c.now.type);
    v.set("convert", Data(!Widens(from, to)));
    Add("", "alter_type", v);
    slugs_.push_back("alter_" + c.table + "_" + c.now.name + "_type");
    c.next.type = c.now.type;
  }

  void DiffNullable(const ColumnChange& c) {
    if (!c.old.nullable && c.now.nullable) {
      Add("", "drop_not_null", ColumnData(c.table, c.now.name));
      slugs_.push_back(c.table + "_" + c.now.name + "_optional");
      c.next.nullable = true;
      return;
    }
    if (c.now.nullable || !c.old.nullable) return;
    if (!c.allow) {
      diags_.Error(c.span,
                   c.what + " would become NOT NULL (it is nullable in the schema lock " +
                       file_.schema_lock +
                       "), which fails while rows hold NULL: keep the field optional, or set "
                       "column: { " +
                       "allow_type_change: true } to make it NOT NULL anyway");
      return;
    }
    Add("", "set_not_null", ColumnData(c.table, c.now.name));
    slugs_.push_back(c.table + "_" + c.now.name + "_required");
    c.next.nullable = false;
  }

  void DiffDefault(const ColumnChange& c) {
    if (c.old.default_sql == c.now.default_sql) return;
    Data v = ColumnData(c.table, c.now.name);
    v.set("default", c.now.default_sql);
    Add("", c.now.default_sql.empty() ? "drop_default" : "set_default", v);
    slugs_.push_back(c.table + "_" + c.now.name + "_default");
    c.next.default_sql = c.now.default_sql;
  }

  // Columns no field maps any more: retired (data kept), or dropped when
  // the table option says so.
  void RemoveUnmappedColumns(const LockTable& before,
                             const LockTable& now,
                             const model::Table& table,
                             LockTable& target) {
    for (const LockColumn& old : before.columns) {
      if (now.FindColumn(old.name) != nullptr) continue;
      if (Contains(table.drop_columns, old.name)) {
        DropColumn(now, old, target);
      } else if (!old.retired) {
        RetireColumn(now, old, ColumnOf(target, old.name));
      }
    }
  }

  void DropColumn(const LockTable& now, const LockColumn& old, LockTable& target) {
    Add("Dropped with drop_columns: the column's data is deleted.",
        "drop_column",
        ColumnData(now.name, old.name));
    slugs_.push_back("drop_" + now.name + "_" + old.name);
    std::erase_if(target.columns, [&](const LockColumn& r) { return r.name == old.name; });
    target.dropped_columns.push_back(old.name);
  }

  void RetireColumn(const LockTable& now, const LockColumn& old, LockColumn& next) {
    if (!old.nullable) {
      Add("Its field was removed: the column keeps its data and takes NULL for new rows.",
          "drop_not_null",
          ColumnData(now.name, old.name));
    }
    Data v = ColumnData(now.name, old.name);
    v.set("note",
          old.field > 0 ? "field " + std::to_string(old.field) + " was removed from " + now.message
                        : "no longer mapped by " + now.message);
    Add("", "retire", v);
    slugs_.push_back("retire_" + now.name + "_" + old.name);
    next.retired = true;
    next.nullable = true;
  }

  // Every name in drop_columns must be a column the lock knows (or one
  // already dropped).
  void CheckDropColumns(const LockTable& before, const LockTable& now, const model::Message& m) {
    std::vector<std::string> known;
    for (const LockColumn& old : before.columns) known.push_back(old.name);
    for (const std::string& d : m.table->drop_columns) {
      if (before.FindColumn(d) != nullptr || Contains(before.dropped_columns, d) ||
          now.FindColumn(d) != nullptr)
        continue;
      diags_.Error(m.table->span,
                   TableWhat(now, m) + ": drop_columns names column " + Quote(d) +
                       ", which is not in the schema lock " + file_.schema_lock +
                       diag::DidYouMean(d, known));
    }
  }

  void AddColumn(const LockTable& before,
                 const LockTable& now,
                 const LockColumn& c,
                 const model::Column* mc,
                 const diag::Span& span,
                 const std::string& what,
                 LockTable& target) {
    // The same field under a new column name would be a rename.
    for (const LockColumn& old : before.columns) {
      if (old.field == 0 || old.field != c.field || old.retired ||
          now.FindColumn(old.name) != nullptr)
        continue;
      if (Contains(model_.FindMessage(target.message)->table->drop_columns, old.name)) continue;
      diags_.Error(
          span,
          what + " is new, but field number " + std::to_string(c.field) + " had column " +
              Quote(old.name) + " in the schema lock " + file_.schema_lock +
              ": renaming a column is not supported; keep the old name with column: { name: \"" +
              old.name + "\" }, or drop the old column and its data with drop_columns: [\"" +
              old.name + "\"]");
      return;
    }
    if (!c.nullable && c.default_sql.empty()) {
      diags_.Error(span,
                   what +
                       " is new and NOT NULL without a default, so the rows already in the table " +
                       "cannot get a value: make the field optional, or set column: { default: \"" +
                       (mc == nullptr ? "0" : SuggestedDefault(*mc)) + "\" }");
      return;
    }
    Data v = TableData(target.name);
    v.set("definition", Definition(c));
    Add("", "add_column", v);
    slugs_.push_back("add_" + target.name + "_" + c.name);
    target.columns.push_back(c);
  }

  const model::Model& model_;
  const model::File& file_;
  diag::Diagnostics& diags_;
  std::vector<Step> steps_;
  std::vector<std::string> slugs_;
  std::vector<std::string> touched_;
};

std::string RenderMigration(const model::File& file, const std::vector<Step>& steps) {
  Data view;
  view.set("source", file.name);
  Data list = List();
  for (const Step& s : steps) {
    Data v = s.kind.empty() ? s.data : Data();
    if (!s.kind.empty()) v.set(s.kind, s.data);
    if (!s.comment.empty()) v.set("comment", s.comment);
    list.push_back(v);
  }
  view.set("steps", list);
  return Render("storage/migration.sql.mustache", view);
}

}  // namespace

bool PlanMigrations(const model::Model& model,
                    const model::File& file,
                    const std::optional<SchemaLock>& lock,
                    diag::Diagnostics& diags,
                    SchemaLock& next) {
  size_t errors_before = diags.All().size();
  next = lock.value_or(SchemaLock{});
  next.source = file.name;
  next.database = file.database;
  Schema now = SchemaOf(model, file);
  Planner planner(model, file, diags);
  std::string name;
  if (next.migrations.empty()) {
    // The first migration: the runtime's tables, then the contract's.
    planner.Raw("", StorageSql("storage/infrastructure.sql"));
    if (now.saga_state) planner.Raw("", StorageSql("storage/saga_state.sql"));
    if (now.saga_steps) planner.Raw("", StorageSql("storage/saga_steps.sql"));
    for (const LockTable& t : now.tables) planner.CreateTable(t);
    name = "init";
    next.schema = now;
  } else {
    next.schema = planner.Diff(lock->schema, now);
    name = planner.Slug();
  }
  bool ok = diags.All().size() == errors_before;
  if (!ok || planner.steps().empty()) return ok;
  char number[32];
  std::snprintf(number, sizeof number, "%04zu", next.migrations.size() + 1);
  std::string sql = RenderMigration(file, planner.steps());
  next.migrations.push_back({std::string(number) + "_" + name, Sha256Hex(sql), sql});
  return true;
}

void EmitMigrationFiles(const model::File& file,
                        const SchemaLock& lock,
                        std::vector<OutputFile>& out) {
  for (const LockedMigration& m : lock.migrations)
    out.push_back({file.migrations_dir + "/" + m.name + ".sql", m.sql});
  out.push_back({file.schema_lock, FormatSchemaLock(lock)});
}

void EmitMigrations(const EmitInput& in, Rendered& out) {
  EmitMigrationsSource(in.file, in.lock, out.outputs);
  if (in.lock != nullptr) EmitMigrationFiles(in.file, *in.lock, out.extra);
}

void EmitMigrationsSource(const model::File& file,
                          const SchemaLock* lock,
                          std::vector<std::string>& out) {
  Data view;
  view.set("source", file.name);
  view.set("base", file.base);
  view.set("has_namespace", Data(!file.cpp_namespace.empty()));
  view.set("namespace", file.cpp_namespace);
  view.set("function", file.migrations_function);
  view.set("comment",
           LayoutComment(0,
                         file.database.empty()
                             ? "No migrations: the services of " + file.name + " keep no state."
                             : "The migrations of database \"" + file.database +
                                   "\", oldest first, for cppsvc::db::ApplyMigrations."));
  Data list = List();
  if (lock != nullptr) {
    for (const LockedMigration& m : lock->migrations) {
      Data v;
      v.set("include", file.migrations_dir + "/" + m.name + ".sql.inc");
      list.push_back(v);
    }
  }
  view.set("has_migrations", Data(!list.is_empty_list()));
  view.set("migrations", list);
  out.push_back(Render("storage/migrations.h.mustache", view));
  out.push_back(Render("storage/migrations.cc.mustache", view));
}

}  // namespace cppsvc::emit
