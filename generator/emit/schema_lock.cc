#include "emit/schema_lock.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace cppsvc::emit {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kLockFormat = 1;

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  for (const Json& s : j) out.push_back(s.get<std::string>());
  return out;
}

Json ToJson(const LockTable& t) {
  Json columns = Json::array();
  for (const LockColumn& c : t.columns) {
    Json col;
    col["name"] = c.name;
    col["field"] = c.field;
    col["type"] = c.type;
    col["nullable"] = c.nullable;
    col["default"] = c.default_sql;
    if (c.retired) col["retired"] = true;
    columns.push_back(std::move(col));
  }
  Json indexes = Json::array();
  for (const LockIndex& i : t.indexes) {
    Json index{{"name", i.name}, {"columns", i.columns}, {"unique", i.unique}};
    if (!i.text_search.empty()) index["text_search"] = i.text_search;
    indexes.push_back(std::move(index));
  }
  Json out;
  out["name"] = t.name;
  out["message"] = t.message;
  out["columns"] = std::move(columns);
  out["primary_key"] = t.primary_key;
  out["indexes"] = std::move(indexes);
  if (!t.dropped_columns.empty()) out["dropped_columns"] = t.dropped_columns;
  return out;
}

LockTable TableFromJson(const Json& j) {
  LockTable t;
  t.name = j.at("name").get<std::string>();
  t.message = j.value("message", "");
  for (const Json& c : j.at("columns")) {
    LockColumn col;
    col.name = c.at("name").get<std::string>();
    col.field = c.value("field", 0);
    col.type = c.at("type").get<std::string>();
    col.nullable = c.at("nullable").get<bool>();
    col.default_sql = c.value("default", "");
    col.retired = c.value("retired", false);
    t.columns.push_back(std::move(col));
  }
  t.primary_key = StringList(j.at("primary_key"));
  for (const Json& i : j.at("indexes")) {
    t.indexes.push_back({i.at("name").get<std::string>(),
                         StringList(i.at("columns")),
                         i.at("unique").get<bool>(),
                         i.value("text_search", "")});
  }
  if (j.contains("dropped_columns")) t.dropped_columns = StringList(j.at("dropped_columns"));
  return t;
}

// Values holding no object inside (columns, indexes, name lists) go on one
// line, so a schema change shows as a changed line in a diff.
bool Flat(const Json& j) {
  if (!j.is_structured()) return true;
  if (j.is_object() && j.contains("sql"))
    return false;  // a migration: name and checksum on lines of their own
  for (const Json& v : j) {
    if (v.is_object() || (v.is_array() && !Flat(v))) return false;
  }
  return true;
}

std::string Compact(const Json& j) {
  if (!j.is_structured()) return j.dump();
  std::string out = j.is_object() ? "{" : "[";
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out += first ? "" : ", ";
    first = false;
    if (j.is_object()) out += Json(it.key()).dump() + ": ";
    out += Compact(it.value());
  }
  return out + (j.is_object() ? "}" : "]");
}

void Pretty(const Json& j, size_t indent, std::string& out) {
  if (Flat(j) && !(j.is_object() && indent == 0)) {
    out += Compact(j);
    return;
  }
  std::string pad(indent + 2, ' ');
  out += j.is_object() ? "{\n" : "[\n";
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out += first ? "" : ",\n";
    first = false;
    out += pad;
    if (j.is_object()) out += Json(it.key()).dump() + ": ";
    Pretty(it.value(), indent + 2, out);
  }
  out += "\n" + std::string(indent, ' ') + (j.is_object() ? "}" : "]");
}

}  // namespace

const LockColumn* LockTable::FindColumn(const std::string& column) const {
  for (const LockColumn& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

const LockIndex* LockTable::FindIndex(const std::string& index) const {
  for (const LockIndex& i : indexes) {
    if (i.name == index) return &i;
  }
  return nullptr;
}

const LockTable* Schema::FindTable(const std::string& table) const {
  for (const LockTable& t : tables) {
    if (t.name == table) return &t;
  }
  return nullptr;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

Schema SchemaOf(const model::Model& model, const model::File& file) {
  Schema schema;
  schema.saga_state = file.owns_sagas;
  schema.saga_steps = file.takes_saga_steps;
  for (const std::string& name : file.messages) {
    const model::Message& m = model.messages.at(name);
    if (!m.table) continue;
    const model::Table& t = *m.table;
    LockTable out;
    out.name = t.name;
    out.message = m.full_name;
    for (const model::Column& c : t.columns) {
      out.columns.push_back({c.name, c.field_number, c.sql_type, c.nullable, c.default_sql, false});
    }
    if (t.has_version_column && !t.version_mapped) {
      out.columns.push_back({"version", 0, "bigint", false, "1", false});
    }
    out.primary_key = t.primary_key_columns;
    for (const model::Index& i : t.indexes)
      out.indexes.push_back({i.name, i.columns, i.unique, i.text_search});
    schema.tables.push_back(std::move(out));
  }
  return schema;
}

std::optional<SchemaLock> ParseSchemaLock(const std::string& text,
                                          const diag::Span& span,
                                          diag::Diagnostics& diags) {
  SchemaLock lock;
  try {
    Json j = Json::parse(text);
    if (j.value("format", 0) != kLockFormat) {
      diags.Error(span,
                  "schema lock format " + j.value("format", Json(0)).dump() +
                      " is not supported (expected " + std::to_string(kLockFormat) + ")");
      return std::nullopt;
    }
    lock.source = j.at("source").get<std::string>();
    lock.database = j.value("database", "");
    for (const Json& m : j.at("migrations")) {
      lock.migrations.push_back({m.at("name").get<std::string>(),
                                 m.at("sha256").get<std::string>(),
                                 m.at("sql").get<std::string>()});
    }
    const Json& s = j.at("schema");
    lock.schema.infrastructure = s.value("infrastructure", 1);
    if (lock.schema.infrastructure < 1 || lock.schema.infrastructure > kInfrastructureVersion) {
      diags.Error(span,
                  "schema lock records version " + std::to_string(lock.schema.infrastructure) +
                      " of the runtime's tables, but this protoc-gen-cpp-svc knows versions 1 to " +
                      std::to_string(kInfrastructureVersion) +
                      ": generate with the version that wrote the lock, or a newer one");
      return std::nullopt;
    }
    lock.schema.saga_state = s.value("saga_state", false);
    lock.schema.saga_steps = s.value("saga_steps", false);
    for (const Json& t : s.at("tables")) lock.schema.tables.push_back(TableFromJson(t));
    if (s.contains("dropped_tables"))
      lock.schema.dropped_tables = StringList(s.at("dropped_tables"));
  } catch (const Json::exception& e) {
    diags.Error(span, std::string("schema lock is not readable: ") + e.what());
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < lock.migrations.size(); ++i) {
    const LockedMigration& m = lock.migrations[i];
    char expected_prefix[32];
    std::snprintf(expected_prefix, sizeof expected_prefix, "%04zu_", i + 1);
    if (m.name.rfind(expected_prefix, 0) != 0) {
      diags.Error(span,
                  "migration '" + m.name + "' is recorded as number " + std::to_string(i + 1) +
                      ": migrations must be numbered 0001, 0002, ... in order");
      ok = false;
    }
    std::string actual = Sha256Hex(m.sql);
    if (actual != m.sha256) {
      diags.Error(
          span,
          "migration '" + m.name + "' does not match its recorded sha256 (recorded " + m.sha256 +
              ", its sql hashes to " + actual +
              "): applied migrations are never edited; restore the lock from version control");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return lock;
}

std::string FormatSchemaLock(const SchemaLock& lock) {
  Json j;
  j["format"] = kLockFormat;
  j["generated_by"] = "protoc-gen-cpp-svc: regenerate from the .proto, never edit by hand";
  j["source"] = lock.source;
  j["database"] = lock.database;
  Json migrations = Json::array();
  for (const LockedMigration& m : lock.migrations) {
    migrations.push_back(Json{{"name", m.name}, {"sha256", m.sha256}, {"sql", m.sql}});
  }
  j["migrations"] = std::move(migrations);
  Json schema;
  schema["infrastructure"] = lock.schema.infrastructure;
  schema["saga_state"] = lock.schema.saga_state;
  if (lock.schema.saga_steps) schema["saga_steps"] = true;
  Json tables = Json::array();
  for (const LockTable& t : lock.schema.tables) tables.push_back(ToJson(t));
  schema["tables"] = std::move(tables);
  if (!lock.schema.dropped_tables.empty()) schema["dropped_tables"] = lock.schema.dropped_tables;
  j["schema"] = std::move(schema);
  std::string out;
  Pretty(j, 0, out);
  return out + "\n";
}

}  // namespace cppsvc::emit
