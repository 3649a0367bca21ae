// One table message: its name, keys, indexes, version and columns.

#include <algorithm>
#include <cctype>

#include <re2/re2.h>

#include "model/checker.h"
#include "model/names.h"

namespace cppsvc::model::checks {
namespace {

// A default expression that cannot end the statement it is pasted into.
bool BalancedSql(const std::string& sql) {
  int depth = 0;
  bool quoted = false;
  for (char ch : sql) {
    if (ch == '\'') quoted = !quoted;
    if (quoted) continue;
    if (ch == ';') return false;
    if (ch == '(') ++depth;
    if (ch == ')' && --depth < 0) return false;
  }
  return !quoted && depth == 0 && sql.find("--") == std::string::npos;
}

std::string TableWhat(const Message& m) {
  return "table " + Quote(m.table->name) + " (message " + Quote(m.name) + ")";
}

}  // namespace

void Checker::CheckTable(const Message& m) {
  const Table& t = *m.table;
  std::string what = TableWhat(m);
  CheckSqlName(At(t.span, {{"name"}}), what, "table name", {t.name, t.name_given, "name"});
  if (t.name.rfind("cppsvc_", 0) == 0) {
    Error(t.span, what + ": names starting with 'cppsvc_' are reserved for the runtime's tables");
  }
  if (t.primary_key.empty()) {
    Error(t.span, what + " has no primary key: set primary_key");
  }
  CheckPrimaryKey(m, what);
  CheckIndexes(m, what);
  CheckVersionField(m, what);
  CheckDropColumns(m, what);
  CheckColumns(m);
}

// A key or index field must exist and be stored; returns it when it does.
const Field* Checker::StoredField(const Message& m,
                                  const Span& span,
                                  const std::string& what,
                                  const std::string& kind,
                                  const std::string& name) {
  const Field* f = m.FindField(name);
  if (f == nullptr) {
    std::vector<std::string> field_names;
    for (const Field& field : m.fields) field_names.push_back(field.name);
    Error(span,
          what + ": " + kind + " field " + Quote(name) + " does not exist" +
              diag::DidYouMean(name, field_names));
  } else if (f->column.skip) {
    Error(span,
          what + ": " + kind + " field " + Quote(name) +
              " is not stored (its column has skip: true)");
    return nullptr;
  }
  return f;
}

void Checker::CheckPrimaryKey(const Message& m, const std::string& what) {
  std::set<std::string> seen;
  const std::vector<std::string>& keys = m.table->primary_key;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[i];
    const Span span = At(m.table->span, {{"primary_key"}, {"", int(i)}});
    if (!seen.insert(k).second) {
      Error(span, what + ": primary key lists field " + Quote(k) + " twice");
      continue;
    }
    const Field* f = StoredField(m, span, what, "primary key", k);
    if (f != nullptr && (f->repeated || f->kind == FieldKind::kMessage)) {
      Error(span,
            what + ": primary key field " + Quote(k) + " must be a singular scalar, found " +
                (f->repeated ? "repeated " : "") + KindName(f->kind));
    }
  }
}

void Checker::CheckIndexes(const Message& m, const std::string& what) {
  const Table& t = *m.table;
  for (size_t i = 0; i < t.indexes.size(); ++i) {
    const model::Index& idx = t.indexes[i];
    const std::vector<OptionKey> at = {{"indexes"}, {"", int(i)}};
    if (idx.fields.empty())
      Error(At(t.span, at), what + ": index " + std::to_string(i + 1) + " has no fields");
    std::set<std::string> seen;
    for (size_t j = 0; j < idx.fields.size(); ++j) {
      const std::string& k = idx.fields[j];
      const Span span = At(t.span, {at[0], at[1], {"fields"}, {"", int(j)}});
      StoredField(m, span, what, "index", k);
      if (!seen.insert(k).second) {
        Error(span, what + ": index " + Quote(idx.name) + " lists field " + Quote(k) + " twice");
      }
    }
    if (!idx.text_search.empty()) CheckTextSearchIndex(m, idx, at, what);
    if (!idx.fields.empty()) {
      CheckSqlName(At(t.span, {at[0], at[1], {"name"}}),
                   what,
                   "index name",
                   {idx.name, idx.name_given, "name"});
    }
  }
}

// PostgreSQL's built-in text search configurations (pg_ts_config of a
// fresh cluster): the value is written into SQL, so only these are taken.
const std::vector<std::string>& TextSearchConfigs() {
  static const std::vector<std::string> kConfigs = {
      "arabic",    "armenian",   "basque",   "catalan", "danish",     "dutch",
      "english",   "finnish",    "french",   "german",  "greek",      "hindi",
      "hungarian", "indonesian", "irish",    "italian", "lithuanian", "nepali",
      "norwegian", "portuguese", "romanian", "russian", "serbian",    "simple",
      "spanish",   "swedish",    "tamil",    "turkish", "yiddish"};
  return kConfigs;
}

// A GIN index over to_tsvector(config, the fields' text joined): text
// columns only, and not unique (GIN cannot be).
void Checker::CheckTextSearchIndex(const Message& m,
                                   const model::Index& idx,
                                   const std::vector<OptionKey>& at,
                                   const std::string& what) {
  const Table& t = *m.table;
  const auto& configs = TextSearchConfigs();
  if (std::find(configs.begin(), configs.end(), idx.text_search) == configs.end()) {
    Error(At(t.span, {at[0], at[1], {"text_search"}}),
          what + ": index " + Quote(idx.name) + ": " + Quote(idx.text_search) +
              " is not a PostgreSQL text search configuration" +
              diag::DidYouMean(idx.text_search, configs));
  }
  if (idx.unique) {
    Error(At(t.span, {at[0], at[1], {"unique"}}),
          what + ": index " + Quote(idx.name) +
              " is a text search index (GIN), which cannot be unique");
  }
  for (size_t j = 0; j < idx.fields.size(); ++j) {
    const Column* c = t.ColumnOfField(idx.fields[j]);
    if (c == nullptr || c->sql_type == "text") continue;
    Error(At(t.span, {at[0], at[1], {"fields"}, {"", int(j)}}),
          what + ": text search index " + Quote(idx.name) + " covers field " +
              Quote(idx.fields[j]) + ", stored as " + c->sql_type +
              ": only singular string fields (text) can be searched");
  }
}

void Checker::CheckVersionField(const Message& m, const std::string& what) {
  const Field* v = m.FindField("version");
  if (!m.table->versioned || v == nullptr) return;
  if (!IsInteger(v->kind) || v->repeated) {
    Error(
        v->span,
        what + " is versioned, so field 'version' must be an integer, found " + KindName(v->kind));
  }
}

void Checker::CheckDropColumns(const Message& m, const std::string& what) {
  const Table& t = *m.table;
  for (size_t i = 0; i < t.drop_columns.size(); ++i) {
    const std::string& d = t.drop_columns[i];
    if (const Column* c = t.FindColumn(d); c != nullptr) {
      Error(At(t.span, {{"drop_columns"}, {"", int(i)}}),
            what + ": drop_columns names column " + Quote(d) + ", which field " +
                Quote(m.name + "." + c->field) +
                " still maps: remove the field first (its column is kept until dropped)");
    }
  }
}

void Checker::CheckColumns(const Message& m) {
  const Table& t = *m.table;
  std::map<std::string, const Column*> by_name;
  for (const Column& c : t.columns) {
    const Field& f = m.fields[c.field_index];
    std::string cw = "field " + Quote(m.name + "." + f.name);
    CheckSqlName(At(c.span, {{"column"}, {"name"}}),
                 cw,
                 "column name",
                 {c.name, !f.column.name.empty(), "column: { name: ... }"});
    if (auto [it, ok] = by_name.emplace(c.name, &c); !ok) {
      Error(c.span,
            cw + ": column " + Quote(c.name) + " is already the column of field " +
                Quote(m.name + "." + it->second->field) + ": set another column name");
    }
    if (t.versioned && !t.version_mapped && c.name == "version" && f.name != "version") {
      Error(c.span,
            cw + ": column 'version' is the version column of versioned table " + Quote(t.name) +
                ": name the field 'version' to map it, or set another column name");
    }
    CheckColumnOptions(f, c, cw);
  }
}

// Identifiers are not quoted in the generated SQL. A name derived from
// others can be replaced by setting `option`; a name given there must change.
void Checker::CheckSqlName(const Span& span,
                           const std::string& what,
                           const std::string& kind,
                           const SqlName& name) {
  const std::string quoted = kind + " " + Quote(name.name);
  if (name.name.size() > 63) {
    Error(span,
          what + ": " + quoted + " is longer than PostgreSQL's 63 bytes: " +
              (name.given ? "shorten it" : "set " + name.option));
  } else if (!IsPlainSqlIdentifier(name.name)) {
    Error(span,
          what + ": " + quoted +
              " must be lowercase letters, digits and '_', starting with a letter or '_'");
  } else if (IsSqlReservedWord(name.name)) {
    Error(span,
          what + ": " + quoted + " is a reserved word in PostgreSQL: " +
              (name.given ? "choose another" : "set " + name.option));
  }
}

void Checker::CheckColumnOptions(const Field& f, const Column& c, const std::string& what) {
  const ColumnOptions& o = f.column;
  if (o.storage == Storage::kJsonb && !f.repeated && !f.map && f.kind != FieldKind::kMessage) {
    Error(
        At(c.span, {{"column"}, {"storage"}}),
        what + ": STORAGE_JSONB needs a message, repeated or map field, found " + KindName(f.kind));
  }
  if (!o.type.empty()) CheckColumnType(c, o.type, what);
  if (!o.default_value.empty() && !BalancedSql(o.default_value)) {
    Error(At(c.span, {{"column"}, {"default"}}),
          what + ": column default " + Quote(o.default_value) +
              " must be one SQL expression (balanced quotes and parentheses, no ';')");
  }
}

void Checker::CheckColumnType(const Column& c, const std::string& type, const std::string& what) {
  // A type name, optionally with a modifier and array brackets:
  // varchar(254), numeric(12,2), double precision, citext, text[].
  static const re2::RE2 kType(
      R"([A-Za-z_][A-Za-z0-9_]*( [A-Za-z_][A-Za-z0-9_]*)*( ?\( *[0-9]+ *(, *[0-9]+ *)?\))?(\[\])?)");
  const Span span = At(c.span, {{"column"}, {"type"}});
  std::string lower;
  for (char ch : type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!re2::RE2::FullMatch(type, kType)) {
    Error(span,
          what + ": column type " + Quote(type) +
              " is not a SQL type name (expected e.g. 'varchar(64)', 'numeric(12,2)' or "
              "'citext')");
  } else if (c.codec == ColumnCodec::kJson && lower != "jsonb" && lower != "json") {
    Error(span,
          what + ": the field is stored as JSON, so its column type must be jsonb or json, found " +
              Quote(type));
  } else if (c.codec == ColumnCodec::kTimestamp && lower.rfind("timestamp", 0) != 0) {
    Error(span,
          what + ": a google.protobuf.Timestamp column must have a timestamp type, found " +
              Quote(type));
  }
}

// Generated values and storage of a field of a table message.
void Checker::CheckTableFieldOptions(const Field& f, const Span& span, const std::string& what) {
  if (f.generated == GeneratedValue::kUuid && (f.kind != FieldKind::kString || f.repeated)) {
    Error(span, what + ": GENERATED_UUID needs a string field, found " + KindName(f.kind));
  }
  if ((f.generated == GeneratedValue::kCreatedAt || f.generated == GeneratedValue::kUpdatedAt) &&
      (f.type_name != "google.protobuf.Timestamp" || f.repeated)) {
    Error(span,
          what + ": generated timestamps need a google.protobuf.Timestamp field, found " +
              (f.type_name.empty() ? KindName(f.kind) : f.type_name));
  }
  if (f.column.storage == Storage::kChildTable &&
      !(f.repeated && f.kind == FieldKind::kMessage && !f.map)) {
    Error(span, what + ": STORAGE_CHILD_TABLE needs a repeated message field");
  } else if (f.column.storage == Storage::kChildTable) {
    Error(span,
          what +
              ": STORAGE_CHILD_TABLE is not supported yet: store the field as JSON "
              "(STORAGE_JSONB, the " +
              "default for repeated messages) or in a table message of its own");
  }
}

}  // namespace cppsvc::model::checks
