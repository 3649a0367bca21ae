#include "emit/migrations.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "emit/cpp_layout.h"
#include "emit/template.h"

namespace cppsvc::emit {

// Defined in the source generated from templates/ at build time.
const std::map<std::string_view, std::string_view>& EmbeddedTemplates();

namespace {

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
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
  v.set("columns", Join(i.columns));
  v.set("unique", Data(i.unique));
  return v;
}

Data CreateTableView(const LockTable& t) {
  Data v;
  v.set("table", t.name);
  Data lines = List();
  std::vector<std::string> texts;
  for (const LockColumn& c : t.columns) texts.push_back(Definition(c));
  texts.push_back("PRIMARY KEY (" + Join(t.primary_key) + ")");
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
    if (old.infrastructure < now.infrastructure) {
      for (int v = old.infrastructure + 1; v <= now.infrastructure; ++v) {
        Raw("", StorageSql("storage/infrastructure_upgrade_" + std::to_string(v) + ".sql"));
      }
      slugs_.push_back("upgrade_runtime_tables");
      result.infrastructure = now.infrastructure;
    }
    if (now.saga_state && !old.saga_state) {
      Raw("", StorageSql("storage/saga_state.sql"));
      slugs_.push_back("add_saga_state");
      result.saga_state = true;
    }
    for (const LockTable& t : now.tables) {
      const LockTable* before = old.FindTable(t.name);
      if (before == nullptr) {
        Add(MessageComment(t), "create_table", CreateTableView(t));
        slugs_.push_back("add_" + t.name);
        touched_.push_back(t.name);
        result.tables.push_back(t);
        std::erase(result.dropped_tables, t.name);
        continue;
      }
      LockTable& target = *std::find_if(result.tables.begin(),
                                        result.tables.end(),
                                        [&](const LockTable& r) { return r.name == t.name; });
      DiffTable(*before, t, target);
    }
    for (const LockTable& t : old.tables) {
      if (now.FindTable(t.name) != nullptr) continue;
      if (Contains(file_.drop_tables, t.name)) {
        Add("Dropped with drop_tables: the table's rows are deleted.",
            "drop_table",
            TableData(t.name));
        slugs_.push_back("drop_" + t.name);
        touched_.push_back(t.name);
        std::erase_if(result.tables, [&](const LockTable& r) { return r.name == t.name; });
        result.dropped_tables.push_back(t.name);
      } else {
        diags_.Error(file_.package_span,
                     "table " + Quote(t.name) + " (message " + Quote(t.message) +
                         ") is in the schema lock " + file_.schema_lock +
                         " but no message declares it any more: dropping a table deletes its rows; "
                         "to drop it, "
                         "list it in drop_tables of the file's (cppsvc.v1.schema) option (renaming "
                         "a table is not "
                         "supported)");
      }
    }
    std::vector<std::string> known;
    for (const LockTable& t : old.tables) known.push_back(t.name);
    for (const std::string& d : file_.drop_tables) {
      if (old.FindTable(d) == nullptr && !Contains(old.dropped_tables, d) &&
          now.FindTable(d) == nullptr) {
        diags_.Error(file_.schema_span,
                     "schema drop_tables names table " + Quote(d) +
                         ", which is not in the schema lock " + file_.schema_lock +
                         diag::DidYouMean(d, known));
      }
    }
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

  void DiffTable(const LockTable& before, const LockTable& now, LockTable& target) {
    const model::Message& m = *model_.FindMessage(now.message);
    const model::Table& table = *m.table;
    std::string what = "table " + Quote(now.name) + " (message " + Quote(m.name) + ")";
    size_t first_step = steps_.size();
    target.message = now.message;

    if (before.primary_key != now.primary_key) {
      diags_.Error(table.span,
                   what + ": the primary key would change from (" + Join(before.primary_key) +
                       ") to (" + Join(now.primary_key) + "), recorded in the schema lock " +
                       file_.schema_lock +
                       ": changing a primary key is not supported; declare a new table instead");
    }

    // Indexes first: an index over a column dropped below would go with it.
    for (const LockIndex& i : before.indexes) {
      const LockIndex* n = now.FindIndex(i.name);
      if (n == nullptr || n->columns != i.columns || n->unique != i.unique) {
        Add("", "drop_index", IndexView(now.name, i));
        slugs_.push_back("drop_" + i.name);
      }
    }

    std::vector<std::string> current_names;
    for (const LockColumn& c : now.columns) current_names.push_back(c.name);
    for (const LockColumn& c : now.columns) {
      const model::Column* mc = table.FindColumn(c.name);
      const model::Field* field = mc == nullptr ? nullptr : &m.fields[mc->field_index];
      const diag::Span& span = mc == nullptr ? table.span : mc->span;
      std::string cw = field == nullptr
                           ? what + ": version column"
                           : "field " + Quote(m.name + "." + field->name) + ": column " +
                                 Quote(c.name) + " of table " + Quote(now.name);
      bool allow = field != nullptr && field->column.allow_type_change;
      const LockColumn* old = before.FindColumn(c.name);
      if (old != nullptr && old->retired) {
        diags_.Error(
            span,
            cw + " was retired when its field was removed and still holds the old rows' data: " +
                "choose another column name, or first drop the old column with drop_columns: [\"" +
                c.name + "\"] and generate once");
        continue;
      }
      if (old == nullptr) {
        AddColumn(before, c, mc, span, cw, current_names, target);
        continue;
      }
      LockColumn& t = *std::find_if(target.columns.begin(),
                                    target.columns.end(),
                                    [&](const LockColumn& r) { return r.name == c.name; });
      t.field = c.field;
      std::string from = NormalType(old->type), to = NormalType(c.type);
      if (from != to) {
        if (Widens(from, to) || allow) {
          Data v = ColumnData(now.name, c.name);
          v.set("type", c.type);
          v.set("convert", Data(!Widens(from, to)));
          Add("", "alter_type", v);
          slugs_.push_back("alter_" + now.name + "_" + c.name + "_type");
          t.type = c.type;
        } else {
          diags_.Error(span,
                       cw + " would change type from " + old->type + " (schema lock " +
                           file_.schema_lock + ") to " + c.type +
                           ", which can fail on or lose existing data: keep the old type with "
                           "column: { type: \"" +
                           old->type +
                           "\" }, or set column: { allow_type_change: true } to convert the rows");
        }
      }
      if (!old->nullable && c.nullable) {
        Add("", "drop_not_null", ColumnData(now.name, c.name));
        slugs_.push_back(now.name + "_" + c.name + "_optional");
        t.nullable = true;
      } else if (old->nullable && !c.nullable) {
        if (allow) {
          Add("", "set_not_null", ColumnData(now.name, c.name));
          slugs_.push_back(now.name + "_" + c.name + "_required");
          t.nullable = false;
        } else {
          diags_.Error(span,
                       cw + " would become NOT NULL (it is nullable in the schema lock " +
                           file_.schema_lock +
                           "), which fails while rows hold NULL: keep the field optional, or set "
                           "column: { " +
                           "allow_type_change: true } to make it NOT NULL anyway");
        }
      }
      if (old->default_sql != c.default_sql) {
        Data v = ColumnData(now.name, c.name);
        v.set("default", c.default_sql);
        Add("", c.default_sql.empty() ? "drop_default" : "set_default", v);
        slugs_.push_back(now.name + "_" + c.name + "_default");
        t.default_sql = c.default_sql;
      }
    }

    // Columns no field maps any more: retired (data kept), or dropped when
    // the table option says so.
    std::vector<std::string> known;
    for (const LockColumn& old : before.columns) {
      known.push_back(old.name);
      if (now.FindColumn(old.name) != nullptr) continue;
      if (Contains(table.drop_columns, old.name)) {
        Add("Dropped with drop_columns: the column's data is deleted.",
            "drop_column",
            ColumnData(now.name, old.name));
        slugs_.push_back("drop_" + now.name + "_" + old.name);
        std::erase_if(target.columns, [&](const LockColumn& r) { return r.name == old.name; });
        target.dropped_columns.push_back(old.name);
        continue;
      }
      if (old.retired) continue;
      LockColumn& t = *std::find_if(target.columns.begin(),
                                    target.columns.end(),
                                    [&](const LockColumn& r) { return r.name == old.name; });
      if (!old.nullable) {
        Add("Its field was removed: the column keeps its data and takes NULL for new rows.",
            "drop_not_null",
            ColumnData(now.name, old.name));
      }
      Data v = ColumnData(now.name, old.name);
      v.set("note",
            old.field > 0
                ? "field " + std::to_string(old.field) + " was removed from " + now.message
                : "no longer mapped by " + now.message);
      Add("", "retire", v);
      slugs_.push_back("retire_" + now.name + "_" + old.name);
      t.retired = true;
      t.nullable = true;
    }
    for (const std::string& d : table.drop_columns) {
      if (before.FindColumn(d) == nullptr && !Contains(before.dropped_columns, d) &&
          now.FindColumn(d) == nullptr) {
        diags_.Error(table.span,
                     what + ": drop_columns names column " + Quote(d) +
                         ", which is not in the schema lock " + file_.schema_lock +
                         diag::DidYouMean(d, known));
      }
    }

    for (const LockIndex& i : now.indexes) {
      const LockIndex* b = before.FindIndex(i.name);
      if (b == nullptr || b->columns != i.columns || b->unique != i.unique) {
        Add("", "create_index", IndexView(now.name, i));
        slugs_.push_back("add_" + i.name);
      }
    }
    target.indexes = now.indexes;
    if (steps_.size() > first_step) touched_.push_back(now.name);
  }

  void AddColumn(const LockTable& before,
                 const LockColumn& c,
                 const model::Column* mc,
                 const diag::Span& span,
                 const std::string& what,
                 const std::vector<std::string>& current_names,
                 LockTable& target) {
    // The same field under a new column name would be a rename.
    for (const LockColumn& old : before.columns) {
      if (old.field == 0 || old.field != c.field || old.retired ||
          Contains(current_names, old.name))
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
  view.set("dir", file.migrations_dir);
  view.set("comment",
           LayoutComment(0,
                         file.database.empty()
                             ? "No migrations: the services of " + file.name + " keep no state."
                             : "The migrations of database \"" + file.database +
                                   "\", oldest first, for cppsvc::db::ApplyMigrations."));
  Data list = List();
  static constexpr std::string_view kDelimiter = "cppsvc_sql";
  if (lock != nullptr) {
    for (const LockedMigration& m : lock->migrations) {
      if (m.sql.find(")" + std::string(kDelimiter) + "\"") != std::string::npos) {
        throw std::logic_error("migration " + m.name + " contains the raw string delimiter");
      }
      Data v;
      v.set("name", m.name);
      v.set("sql", m.sql);
      v.set("delimiter", std::string(kDelimiter));
      list.push_back(v);
    }
  }
  view.set("has_migrations", Data(!list.is_empty_list()));
  view.set("migrations", list);
  out.push_back(Render("storage/migrations.h.mustache", view));
  out.push_back(Render("storage/migrations.cc.mustache", view));
}

}  // namespace cppsvc::emit
