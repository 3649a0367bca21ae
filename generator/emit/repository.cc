// <file>.cppsvc.repo.{h,cc}: a typed repository per table message. Every
// statement is a prepared statement with parameters, defined at namespace
// scope (so every pooled connection prepares it); rows map to messages
// column by column through the codecs of cppsvc/impl/repository.h.
#include <set>
#include <string>
#include <vector>

#include "emit/cpp_layout.h"
#include "emit/emitters.h"
#include "emit/template.h"

namespace cppsvc::emit {
namespace {

using model::Column;
using model::ColumnCodec;

constexpr char kImpl[] = "::cppsvc::impl::";
constexpr char kTimestampType[] = "::google::protobuf::Timestamp";

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string Param(size_t n) {
  return "$" + std::to_string(n);
}

// A call statement laid out as clang-format does.
std::string Call(size_t indent, const std::string& head, const std::string& arg) {
  return LayoutDeclaration(indent, head, {arg}, ";");
}

// `constexpr char <name>[] = "<sql>";`, the SQL split at spaces into
// literals that fit the column limit.
std::string SqlConstant(const std::string& name, const std::string& sql) {
  std::string head = "constexpr char " + name + "[] =";
  std::string one = head + " " + CppLiteral(sql) + ";";
  if (one.size() <= kColumnLimit) return one;
  constexpr size_t kIndent = 4;
  const size_t max_piece = kColumnLimit - kIndent - 3;  // quotes and ';'
  std::vector<std::string> pieces;
  std::string piece;
  size_t pos = 0;
  while (pos < sql.size()) {
    size_t space = sql.find(' ', pos);
    std::string word =
        sql.substr(pos, space == std::string::npos ? std::string::npos : space - pos + 1);
    pos = space == std::string::npos ? sql.size() : space + 1;
    if (!piece.empty() && piece.size() + word.size() > max_piece) {
      pieces.push_back(piece);
      piece.clear();
    }
    piece += word;
  }
  if (!piece.empty()) pieces.push_back(piece);
  std::string out = head;
  for (size_t i = 0; i < pieces.size(); ++i) {
    out += "\n" + std::string(kIndent, ' ') + CppLiteral(pieces[i]) +
           (i + 1 == pieces.size() ? ";" : "");
  }
  return out;
}

class TableWriter {
 public:
  TableWriter(const model::Model& model, const model::File& file, const model::Message& message)
      : model_(model), file_(file), m_(message), t_(*message.table) {
    row_ = CppTypeIn(model, file, m_.full_name);
    stem_ = t_.repository_class;
    const std::string suffix = "Repository";
    if (stem_.size() > suffix.size() &&
        stem_.compare(stem_.size() - suffix.size(), suffix.size(), suffix) == 0) {
      stem_.resize(stem_.size() - suffix.size());
    }
    hidden_version_ = t_.has_version_column && !t_.version_mapped;
    for (const std::string& k : t_.primary_key) {
      const Column* c = t_.ColumnOfField(k);
      if (c != nullptr) keys_.push_back(c);
    }
    std::set<std::string> filter_fields;
    for (const model::Index& idx : t_.indexes)
      filter_fields.insert(idx.fields.begin(), idx.fields.end());
    if (keys_.size() > 1) filter_fields.insert(t_.primary_key.begin(), t_.primary_key.end());
    for (const Column& c : t_.columns) {
      if (filter_fields.count(c.field) > 0 && c.codec != ColumnCodec::kJson) filters_.push_back(&c);
    }
  }

  Data View() {
    Data v;
    v.set("name", m_.full_name);
    v.set("table", t_.name);
    v.set("class", t_.repository_class);
    v.set("filter", stem_ + "Filter");
    v.set("row", row_);
    v.set("filter_comment",
          LayoutComment(0,
                        "Equality filters of " + t_.repository_class +
                            "::List on indexed columns; a member left unset matches "
                            "every row."));
    Data filter_members = List();
    for (const Column* c : filters_) {
      filter_members.push_back(
          Data("  std::optional<" + ValueType(*c) + "> " + FieldOf(*c).cpp_name + ";"));
    }
    v.set("filter_members", filter_members);
    v.set("has_filter_members", Data(!filters_.empty()));
    v.set("class_comment",
          LayoutComment(0,
                        "Table " + t_.name + " (" + m_.full_name +
                            ") within a transaction. Statements throw pqxx errors, "
                            "which cppsvc::db::RunInTransaction maps to a status."));
    v.set("declarations", Declarations());
    v.set("statements", Statements());
    v.set("helpers", Helpers());
    v.set("definitions", Definitions());
    return v;
  }

 private:
  const model::Field& FieldOf(const Column& c) const { return m_.fields[c.field_index]; }

  std::string EnumType(const model::Field& f) const {
    const std::string& cpp = model_.enums.at(f.type_name).cpp_type;
    std::string prefix = file_.cpp_namespace.empty() ? "::" : "::" + file_.cpp_namespace + "::";
    if (!file_.cpp_namespace.empty() && cpp.rfind(prefix, 0) == 0) return cpp.substr(prefix.size());
    return cpp;
  }

  // The C++ type of a column's value as a parameter or filter.
  std::string ValueType(const Column& c) const {
    switch (c.codec) {
      case ColumnCodec::kBool:
        return "bool";
      case ColumnCodec::kInt32:
        return "int32_t";
      case ColumnCodec::kInt64:
        return "int64_t";
      case ColumnCodec::kUint32:
        return "uint32_t";
      case ColumnCodec::kUint64:
        return "uint64_t";
      case ColumnCodec::kFloat:
        return "float";
      case ColumnCodec::kDouble:
        return "double";
      case ColumnCodec::kString:
      case ColumnCodec::kBytes:
        return "std::string";
      case ColumnCodec::kEnum:
        return EnumType(FieldOf(c));
      case ColumnCodec::kTimestamp:
        return kTimestampType;
      case ColumnCodec::kJson:
        return CppTypeIn(model_, file_, FieldOf(c).type_name);
    }
    return "";
  }

  std::string KeyParam(const Column& c) const {
    std::string type = ValueType(c);
    bool by_ref = c.codec == ColumnCodec::kString || c.codec == ColumnCodec::kBytes ||
                  c.codec == ColumnCodec::kTimestamp || c.codec == ColumnCodec::kJson;
    return (by_ref ? "const " + type + "& " : type + " ") + FieldOf(c).cpp_name;
  }

  // The expression turning `value` (of the column's value type) into
  // parameter text.
  std::string Encode(const Column& c, const std::string& value) const {
    switch (c.codec) {
      case ColumnCodec::kBool:
        return std::string(kImpl) + "SqlBool(" + value + ")";
      case ColumnCodec::kInt32:
      case ColumnCodec::kInt64:
      case ColumnCodec::kUint32:
      case ColumnCodec::kEnum:
        return std::string(kImpl) + "SqlInt(" + value + ")";
      case ColumnCodec::kUint64:
        return std::string(kImpl) + "SqlUint64(" + value + ")";
      case ColumnCodec::kFloat:
        return std::string(kImpl) + "SqlFloat(" + value + ")";
      case ColumnCodec::kDouble:
        return std::string(kImpl) + "SqlDouble(" + value + ")";
      case ColumnCodec::kString:
        return value;
      case ColumnCodec::kBytes:
        return std::string(kImpl) + "SqlBytes(" + value + ")";
      case ColumnCodec::kTimestamp:
        return std::string(kImpl) + "SqlTimestamp(" + value + ")";
      case ColumnCodec::kJson:
        return std::string(kImpl) + "SqlJson(" + value + ")";
    }
    return value;
  }

  bool JsonHolder(const Column& c) const {
    const model::Field& f = FieldOf(c);
    return c.codec == ColumnCodec::kJson && (f.repeated || f.map);
  }

  // Statements appending the parameter of column `c` of `row` to `p`.
  void PushColumn(const Column& c, std::vector<std::string>& out) const {
    const model::Field& f = FieldOf(c);
    const std::string value = "row." + f.cpp_name + "()";
    if (JsonHolder(c)) {
      out.push_back("  {");
      out.push_back("    " + row_ + " holder;");
      out.push_back("    *holder.mutable_" + f.cpp_name + "() = " + value + ";");
      out.push_back(
          LayoutDeclaration(4,
                            "p.emplace_back",
                            {std::string(kImpl) + "SqlJsonField(holder, " + CppLiteral(f.name) +
                             ", " + CppLiteral(f.map ? "{}" : "[]") + ")"},
                            ";"));
      out.push_back("  }");
    } else if (c.nullable) {
      out.push_back("  p.emplace_back();");
      out.push_back("  if (row.has_" + f.cpp_name + "()) {");
      out.push_back(Assign(4, "p.back()", Encode(c, value)));
      out.push_back("  }");
    } else {
      out.push_back(Call(2, "p.emplace_back", Encode(c, value)));
    }
  }

  // `<lhs> = <rhs>;`, broken after '=' when too long.
  static std::string Assign(size_t indent, const std::string& lhs, const std::string& rhs) {
    std::string one = std::string(indent, ' ') + lhs + " = " + rhs + ";";
    if (one.size() <= kColumnLimit) return one;
    return std::string(indent, ' ') + lhs + " =\n" + std::string(indent + 4, ' ') + rhs + ";";
  }

  // Statements reading column `index` of result row `r` into `row`.
  void ReadColumn(const Column& c, size_t index, std::vector<std::string>& out) const {
    const model::Field& f = FieldOf(c);
    const std::string cell = "r[" + std::to_string(index) + "]";
    std::vector<std::string> body;
    size_t indent = c.nullable ? 4 : 2;
    std::string read;
    switch (c.codec) {
      case ColumnCodec::kBool:
        read = "ReadBool";
        break;
      case ColumnCodec::kInt32:
        read = "ReadInt32";
        break;
      case ColumnCodec::kInt64:
        read = "ReadInt64";
        break;
      case ColumnCodec::kUint32:
        read = "ReadUint32";
        break;
      case ColumnCodec::kUint64:
        read = "ReadUint64";
        break;
      case ColumnCodec::kFloat:
        read = "ReadFloat";
        break;
      case ColumnCodec::kDouble:
        read = "ReadDouble";
        break;
      case ColumnCodec::kString:
        read = "ReadString";
        break;
      case ColumnCodec::kBytes:
        read = "ReadBytes";
        break;
      case ColumnCodec::kEnum:
        read = "ReadInt32";
        break;
      case ColumnCodec::kTimestamp:
      case ColumnCodec::kJson:
        break;
    }
    if (JsonHolder(c)) {
      body.push_back("  {");
      body.push_back("    " + row_ + " holder;");
      body.push_back(LayoutDeclaration(4,
                                       std::string(kImpl) + "ReadJsonField",
                                       {cell, CppLiteral(f.name), "&holder"},
                                       ";"));
      body.push_back("    *row.mutable_" + f.cpp_name + "() = std::move(*holder.mutable_" +
                     f.cpp_name + "());");
      out.insert(out.end(), body.begin(), body.end());
      out.push_back("  }");
      return;
    }
    std::string statement;
    if (c.codec == ColumnCodec::kTimestamp) {
      statement = LayoutDeclaration(indent,
                                    std::string(kImpl) + "ReadTimestamp",
                                    {cell, "row.mutable_" + f.cpp_name + "()"},
                                    ";");
    } else if (c.codec == ColumnCodec::kJson) {
      statement = LayoutDeclaration(indent,
                                    std::string(kImpl) + "ReadJson",
                                    {cell, "row.mutable_" + f.cpp_name + "()"},
                                    ";");
    } else if (c.codec == ColumnCodec::kEnum) {
      statement = Call(indent,
                       "row.set_" + f.cpp_name,
                       "static_cast<" + EnumType(f) + ">(" + kImpl + read + "(" + cell + "))");
    } else {
      statement =
          Call(indent, "row.set_" + f.cpp_name, std::string(kImpl) + read + "(" + cell + ")");
    }
    if (c.nullable) {
      out.push_back("  if (!" + cell + ".is_null()) {");
      out.push_back(statement);
      out.push_back("  }");
    } else {
      out.push_back(statement);
    }
  }

  // --- SQL -------------------------------------------------------------------

  std::vector<std::string> ColumnNames() const {
    std::vector<std::string> names;
    for (const Column& c : t_.columns) names.push_back(c.name);
    if (hidden_version_) names.push_back("version");
    return names;
  }

  std::string SelectList() const {
    std::vector<std::string> items;
    for (const Column& c : t_.columns) {
      // Epoch seconds are exact and do not depend on DateStyle or TimeZone.
      items.push_back(c.codec == ColumnCodec::kTimestamp ? "EXTRACT(EPOCH FROM " + c.name + ")"
                                                         : c.name);
    }
    if (hidden_version_) items.push_back("version");
    return Join(items, ", ");
  }

  std::string KeyCondition(size_t first) const {
    std::vector<std::string> parts;
    for (size_t i = 0; i < keys_.size(); ++i)
      parts.push_back(keys_[i]->name + " = " + Param(first + i));
    return Join(parts, " AND ");
  }

  std::string KeyColumns() const {
    std::vector<std::string> names;
    for (const Column* c : keys_) names.push_back(c->name);
    return Join(names, ", ");
  }

  // Columns an update sets: all but the key, generated creation times and
  // the version (bumped by the statement itself).
  std::vector<const Column*> SetColumns() const {
    std::vector<const Column*> out;
    for (const Column& c : t_.columns) {
      if (c.primary_key || c.version || c.generated == model::GeneratedValue::kCreatedAt) continue;
      out.push_back(&c);
    }
    return out;
  }

  std::string InsertSql() const {
    std::vector<std::string> values;
    for (size_t i = 0; i < t_.columns.size(); ++i) values.push_back(Param(i + 1));
    if (hidden_version_) values.push_back("1");
    return "INSERT INTO " + t_.name + " (" + Join(ColumnNames(), ", ") + ") VALUES (" +
           Join(values, ", ") + ")";
  }

  std::string BulkInsertSql() const {
    std::vector<std::string> arrays;
    for (size_t i = 0; i < t_.columns.size(); ++i)
      arrays.push_back(Param(i + 1) + "::" + t_.columns[i].sql_type + "[]");
    return "INSERT INTO " + t_.name + " (" + Join(ColumnNames(), ", ") + ") SELECT *" +
           (hidden_version_ ? ", 1" : "") + " FROM unnest(" + Join(arrays, ", ") + ")";
  }

  std::string GetSql() const {
    return "SELECT " + SelectList() + " FROM " + t_.name + " WHERE " + KeyCondition(1);
  }

  std::string UpdateSql() const {
    std::vector<std::string> sets;
    size_t n = keys_.size();
    for (const Column* c : SetColumns()) sets.push_back(c->name + " = " + Param(++n));
    std::string where = KeyCondition(1);
    if (t_.has_version_column) {
      sets.push_back("version = version + 1");
      where += " AND version = " + Param(++n);
    }
    if (sets.empty()) sets.push_back(keys_[0]->name + " = " + keys_[0]->name);
    return "UPDATE " + t_.name + " SET " + Join(sets, ", ") + " WHERE " + where +
           (t_.has_version_column ? " RETURNING version" : "");
  }

  std::string ExistsSql() const { return "SELECT 1 FROM " + t_.name + " WHERE " + KeyCondition(1); }

  std::string DeleteSql() const { return "DELETE FROM " + t_.name + " WHERE " + KeyCondition(1); }

  // Filters are $1..$k, the limit $k+1, the key of the last row after it.
  std::string ListSql(bool after) const {
    std::vector<std::string> conditions;
    for (size_t i = 0; i < filters_.size(); ++i) {
      conditions.push_back("(" + Param(i + 1) + "::" + filters_[i]->sql_type + " IS NULL OR " +
                           filters_[i]->name + " = " + Param(i + 1) + ")");
    }
    size_t limit = filters_.size() + 1;
    if (after) {
      std::vector<std::string> bounds;
      for (size_t i = 0; i < keys_.size(); ++i) bounds.push_back(Param(limit + 1 + i));
      conditions.push_back(keys_.size() == 1
                               ? keys_[0]->name + " > " + bounds[0]
                               : "(" + KeyColumns() + ") > (" + Join(bounds, ", ") + ")");
    }
    std::string where = conditions.empty() ? "" : " WHERE " + Join(conditions, " AND ");
    return "SELECT " + SelectList() + " FROM " + t_.name + where + " ORDER BY " + KeyColumns() +
           " LIMIT " + Param(limit);
  }

  void AddStatement(Data& list, const std::string& op, const std::string& sql) const {
    std::string constant = "k" + stem_ + op;
    Data v;
    v.set("sql", SqlConstant(constant + "Sql", sql));
    v.set("statement",
          LayoutDeclaration(0,
                            "const ::cppsvc::db::Statement " + constant,
                            {CppLiteral(m_.full_name + "." + op), constant + "Sql"},
                            ";"));
    list.push_back(v);
  }

  Data Statements() const {
    Data list = List();
    AddStatement(list, "Insert", InsertSql());
    AddStatement(list, "BulkInsert", BulkInsertSql());
    AddStatement(list, "Get", GetSql());
    AddStatement(list, "Update", UpdateSql());
    if (t_.has_version_column) AddStatement(list, "Exists", ExistsSql());
    AddStatement(list, "Delete", DeleteSql());
    AddStatement(list, "List", ListSql(false));
    AddStatement(list, "ListAfter", ListSql(true));
    return list;
  }

  // --- C++ -------------------------------------------------------------------

  std::string KeyArgs() const {
    std::vector<std::string> names;
    for (const Column* c : keys_) names.push_back(FieldOf(*c).cpp_name);
    return Join(names, ", ");
  }

  std::vector<std::string> KeyParams() const {
    std::vector<std::string> params;
    for (const Column* c : keys_) params.push_back(KeyParam(*c));
    return params;
  }

  std::vector<std::string> WithVersionOut(std::vector<std::string> params, bool defaults) const {
    if (hidden_version_)
      params.push_back(std::string("int64_t* version") + (defaults ? " = nullptr" : ""));
    return params;
  }

  std::string PageType() const { return std::string(kImpl) + "Page<" + row_ + ">"; }

  struct Method {
    std::string comment;
    std::string ret;
    std::string name;
    std::vector<std::string> params;      // declaration
    std::vector<std::string> def_params;  // definition (no defaults)
    std::vector<std::string> body;
  };

  std::vector<Method> Methods() const {
    std::vector<Method> out;
    const std::string table = CppLiteral(t_.name);
    std::string generated;
    for (const Column& c : t_.columns) {
      if (c.generated == model::GeneratedValue::kUuid)
        generated += FieldOf(c).name + " (a new UUID when empty), ";
      if (c.generated == model::GeneratedValue::kCreatedAt ||
          c.generated == model::GeneratedValue::kUpdatedAt) {
        generated += FieldOf(c).name + " (now), ";
      }
      if (c.version) generated += FieldOf(c).name + " (1), ";
    }
    std::string fills =
        generated.empty() ? "" : " First sets " + generated.substr(0, generated.size() - 2) + ".";
    std::string version_note = hidden_version_ ? " The row's version is 1." : "";

    {
      Method m;
      m.comment =
          "Inserts `row`." + fills + version_note +
          " A duplicate key or unique index value throws pqxx::unique_violation (ALREADY_EXISTS).";
      m.ret = "void";
      m.name = "Insert";
      m.params = m.def_params = {row_ + "& row"};
      m.body = {
          LayoutDeclaration(2, "Fill" + stem_, {"row", std::string(kImpl) + "NowMicros()"}, ";"),
          LayoutDeclaration(2,
                            std::string(kImpl) + "Exec",
                            {"tx_", "k" + stem_ + "Insert", stem_ + "Values(row)"},
                            ";")};
      out.push_back(m);
    }
    {
      Method m;
      m.comment = "Inserts all `rows` with one statement, filling generated values as Insert does.";
      m.ret = "void";
      m.name = "BulkInsert";
      m.params = m.def_params = {"std::span<" + row_ + "> rows"};
      m.body = {"  if (rows.empty()) return;",
                "  const " + std::string(kTimestampType) + " now = " + kImpl + "NowMicros();",
                "  std::vector<" + std::string(kImpl) + "SqlParams> values;",
                "  values.reserve(rows.size());",
                "  for (" + row_ + "& row : rows) {",
                "    Fill" + stem_ + "(row, now);",
                "    values.push_back(" + stem_ + "Values(row));",
                "  }",
                LayoutDeclaration(
                    2,
                    std::string(kImpl) + "Exec",
                    {"tx_", "k" + stem_ + "BulkInsert", std::string(kImpl) + "SqlArrays(values)"},
                    ";")};
      out.push_back(m);
    }
    {
      Method m;
      m.comment =
          "The row with this key; throws cppsvc::db::NotFound (NOT_FOUND) when there is none." +
          std::string(hidden_version_ ? " Sets *version to its version when given." : "");
      m.ret = row_;
      m.name = "Get";
      m.params = WithVersionOut(KeyParams(), true);
      m.def_params = WithVersionOut(KeyParams(), false);
      std::string args = KeyArgs() + (hidden_version_ ? ", version" : "");
      m.body = {Assign(2, "std::optional<" + row_ + "> row", "Find(" + args + ")"),
                "  if (!row) " + std::string(kImpl) + "ThrowNotFound(" + table + ");",
                "  return *std::move(row);"};
      if (m.body[1].size() > kColumnLimit) {
        m.body[1] =
            "  if (!row) {\n    " + std::string(kImpl) + "ThrowNotFound(" + table + ");\n  }";
      }
      out.push_back(m);
    }
    {
      Method m;
      m.comment =
          "The row with this key, if any." +
          std::string(hidden_version_ ? " Sets *version to its version when given and found." : "");
      m.ret = "std::optional<" + row_ + ">";
      m.name = "Find";
      m.params = WithVersionOut(KeyParams(), true);
      m.def_params = WithVersionOut(KeyParams(), false);
      m.body = {"  " + std::string(kImpl) + "SqlParams p;"};
      for (const Column* c : keys_)
        m.body.push_back(Call(2, "p.emplace_back", Encode(*c, FieldOf(*c).cpp_name)));
      m.body.push_back(Assign(2,
                              "const ::pqxx::result result",
                              std::string(kImpl) + "Exec(tx_, k" + stem_ + "Get, p)"));
      m.body.push_back("  if (result.empty()) return std::nullopt;");
      m.body.push_back("  std::optional<" + row_ + "> row(std::in_place);");
      m.body.push_back("  Read" + stem_ + "(result[0], *row);");
      if (hidden_version_) {
        m.body.push_back("  if (version != nullptr) {");
        m.body.push_back(Assign(4,
                                "*version",
                                std::string(kImpl) + "ReadInt64(result[0][" +
                                    std::to_string(t_.columns.size()) + "])"));
        m.body.push_back("  }");
      }
      m.body.push_back("  return row;");
      out.push_back(m);
    }
    {
      Method m;
      m.name = "Update";
      std::vector<std::string> updated;
      for (const Column& c : t_.columns) {
        if (c.generated == model::GeneratedValue::kUpdatedAt) updated.push_back(FieldOf(c).name);
      }
      std::string sets = updated.empty() ? "" : " First sets " + Join(updated, ", ") + " to now.";
      if (t_.has_version_column) {
        m.comment =
            "Replaces the row with the key of `row` if its version is still `expected_version`, "
            "and "
            "returns its new version (" +
            std::string(t_.version_mapped ? "also set in `row`" : "expected_version + 1") + ")." +
            sets +
            " Throws cppsvc::db::VersionConflict (ABORTED) when the version moved, "
            "cppsvc::db::NotFound (NOT_FOUND) when there is no such row.";
        m.ret = "int64_t";
        m.params = m.def_params = {row_ + "& row", "int64_t expected_version"};
      } else {
        m.comment = "Replaces the row with the key of `row`." + sets +
                    " Throws cppsvc::db::NotFound (NOT_FOUND) when there is no such row.";
        m.ret = "void";
        m.params = m.def_params = {row_ + "& row"};
      }
      m.body.clear();
      for (const Column& c : t_.columns) {
        if (c.generated == model::GeneratedValue::kUpdatedAt) {
          if (m.body.empty())
            m.body.push_back("  const " + std::string(kTimestampType) + " now = " + kImpl +
                             "NowMicros();");
          m.body.push_back("  *row.mutable_" + FieldOf(c).cpp_name + "() = now;");
        }
      }
      m.body.push_back("  " + std::string(kImpl) + "SqlParams p = " + stem_ + "UpdateValues(row);");
      if (m.body.back().size() > kColumnLimit) {
        m.body.back() = Assign(2, std::string(kImpl) + "SqlParams p", stem_ + "UpdateValues(row)");
      }
      if (t_.has_version_column) {
        m.body.push_back(
            Call(2, "p.emplace_back", std::string(kImpl) + "SqlInt(expected_version)"));
        m.body.push_back(Assign(2,
                                "const ::pqxx::result result",
                                std::string(kImpl) + "Exec(tx_, k" + stem_ + "Update, p)"));
        m.body.push_back("  if (result.empty()) {");
        m.body.push_back(
            Assign(4,
                   "const ::pqxx::result found",
                   std::string(kImpl) + "Exec(tx_, k" + stem_ + "Exists, " + stem_ + "Key(row))"));
        m.body.push_back("    if (found.empty()) " + std::string(kImpl) + "ThrowNotFound(" + table +
                         ");");
        if (m.body.back().size() > kColumnLimit) {
          m.body.back() = "    if (found.empty()) {\n      " + std::string(kImpl) +
                          "ThrowNotFound(" + table + ");\n    }";
        }
        m.body.push_back(LayoutDeclaration(4,
                                           std::string(kImpl) + "ThrowVersionConflict",
                                           {table, "expected_version"},
                                           ";"));
        m.body.push_back("  }");
        m.body.push_back(
            Assign(2, "const int64_t version", std::string(kImpl) + "ReadInt64(result[0][0])"));
        for (const Column& c : t_.columns) {
          if (c.version) m.body.push_back("  row.set_" + FieldOf(c).cpp_name + "(version);");
        }
        m.body.push_back("  return version;");
      } else {
        m.body.push_back(Assign(2,
                                "const ::pqxx::result result",
                                std::string(kImpl) + "Exec(tx_, k" + stem_ + "Update, p)"));
        m.body.push_back("  if (result.affected_rows() == 0) " + std::string(kImpl) +
                         "ThrowNotFound(" + table + ");");
        if (m.body.back().size() > kColumnLimit) {
          m.body.back() = "  if (result.affected_rows() == 0) {\n    " + std::string(kImpl) +
                          "ThrowNotFound(" + table + ");\n  }";
        }
      }
      out.push_back(m);
    }
    {
      Method m;
      m.comment = "Deletes the row with this key; false when there was none.";
      m.ret = "bool";
      m.name = "Delete";
      m.params = m.def_params = KeyParams();
      m.body = {"  " + std::string(kImpl) + "SqlParams p;"};
      for (const Column* c : keys_)
        m.body.push_back(Call(2, "p.emplace_back", Encode(*c, FieldOf(*c).cpp_name)));
      m.body.push_back("  return " + std::string(kImpl) + "Exec(tx_, k" + stem_ +
                       "Delete, p).affected_rows() > 0;");
      if (m.body.back().size() > kColumnLimit) {
        m.body.back() = "  const ::pqxx::result result = " + std::string(kImpl) + "Exec(tx_, k" +
                        stem_ + "Delete, p);";
        if (m.body.back().size() > kColumnLimit) {
          m.body.back() = Assign(2,
                                 "const ::pqxx::result result",
                                 std::string(kImpl) + "Exec(tx_, k" + stem_ + "Delete, p)");
        }
        m.body.push_back("  return result.affected_rows() > 0;");
      }
      out.push_back(m);
    }
    {
      Method m;
      m.comment =
          "Rows matching `filter` in primary key order, `page_size` at a time (0: 100, at most "
          "1,000), "
          "starting after the row `page_token` names (empty: the first page). A token not returned "
          "by this "
          "method for this table throws cppsvc::impl::InvalidPageToken.";
      m.ret = PageType();
      m.name = "List";
      m.params = {"const " + stem_ + "Filter& filter = {}",
                  "size_t page_size = 0",
                  "const std::string& page_token = \"\""};
      m.def_params = {"const " + stem_ + "Filter& filter",
                      "size_t page_size",
                      "const std::string& page_token"};
      m.body = {"  " + std::string(kImpl) + "SqlParams p;"};
      for (const Column* c : filters_) {
        const std::string& name = FieldOf(*c).cpp_name;
        m.body.push_back("  p.emplace_back();");
        m.body.push_back("  if (filter." + name + ") {");
        m.body.push_back(Assign(4, "p.back()", Encode(*c, "*filter." + name)));
        m.body.push_back("  }");
      }
      m.body.push_back(
          Assign(2, "const size_t limit", std::string(kImpl) + "PageFetchLimit(page_size)"));
      m.body.push_back(
          Call(2, "p.emplace_back", std::string(kImpl) + "SqlInt(static_cast<int64_t>(limit))"));
      m.body.push_back("  const ::cppsvc::db::Statement* statement = &k" + stem_ + "List;");
      m.body.push_back("  if (!page_token.empty()) {");
      m.body.push_back(Assign(4,
                              std::string(kImpl) + "SqlParams after",
                              LayoutDeclaration(0,
                                                std::string(kImpl) + "DecodePageToken",
                                                {table, "page_token", std::to_string(keys_.size())},
                                                "")));
      m.body.push_back("    p.insert(p.end(), after.begin(), after.end());");
      m.body.push_back("    statement = &k" + stem_ + "ListAfter;");
      m.body.push_back("  }");
      m.body.push_back(Assign(2,
                              "const ::pqxx::result result",
                              std::string(kImpl) + "Exec(tx_, *statement, p)"));
      m.body.push_back(LayoutDeclaration(2,
                                         "return " + std::string(kImpl) + "ReadPage<" + row_ + ">",
                                         {"result", "limit", table, "Read" + stem_, stem_ + "Key"},
                                         ";"));
      out.push_back(m);
    }
    return out;
  }

  Data Declarations() const {
    Data list = List();
    for (const Method& m : Methods()) {
      Data v;
      v.set("comment", LayoutComment(2, m.comment));
      v.set("declaration", LayoutDeclaration(2, m.ret + " " + m.name, m.params, ";"));
      list.push_back(v);
    }
    return list;
  }

  Data Definitions() const {
    Data list = List();
    for (const Method& m : Methods()) {
      Data v;
      v.set("signature",
            LayoutDeclaration(0,
                              m.ret + " " + t_.repository_class + "::" + m.name,
                              m.def_params,
                              " {"));
      Data body = List();
      for (const std::string& line : m.body) body.push_back(Data(line));
      v.set("body", body);
      list.push_back(v);
    }
    return list;
  }

  struct Helper {
    std::string comment;
    std::string signature;
    std::vector<std::string> body;
  };

  Data Helpers() const {
    std::vector<Helper> helpers;
    const std::string params_type = std::string(kImpl) + "SqlParams";
    {
      Helper h;
      h.comment = "Generated values of a new row.";
      h.signature =
          LayoutDeclaration(0,
                            "void Fill" + stem_,
                            {row_ + "& row", "const " + std::string(kTimestampType) + "& now"},
                            " {");
      bool uses_now = false;
      for (const Column& c : t_.columns) {
        const std::string& name = FieldOf(c).cpp_name;
        if (c.generated == model::GeneratedValue::kUuid) {
          h.body.push_back("  if (row." + name + "().empty()) {");
          h.body.push_back(Call(4, "row.set_" + name, std::string(kImpl) + "NewUuid()"));
          h.body.push_back("  }");
        } else if (c.generated == model::GeneratedValue::kCreatedAt ||
                   c.generated == model::GeneratedValue::kUpdatedAt) {
          h.body.push_back("  *row.mutable_" + name + "() = now;");
          uses_now = true;
        }
        if (c.version) h.body.push_back("  row.set_" + name + "(1);");
      }
      if (!uses_now) h.body.insert(h.body.begin(), "  (void)now;");
      helpers.push_back(h);
    }
    {
      Helper h;
      h.comment = "Parameters of every column, in column order.";
      h.signature = LayoutDeclaration(0,
                                      params_type + " " + stem_ + "Values",
                                      {"const " + row_ + "& row"},
                                      " {");
      h.body.push_back("  " + params_type + " p;");
      h.body.push_back("  p.reserve(" + std::to_string(t_.columns.size()) + ");");
      for (const Column& c : t_.columns) PushColumn(c, h.body);
      h.body.push_back("  return p;");
      helpers.push_back(h);
    }
    {
      Helper h;
      h.comment = "Parameters of the update statement: the key, then the columns it sets.";
      h.signature = LayoutDeclaration(0,
                                      params_type + " " + stem_ + "UpdateValues",
                                      {"const " + row_ + "& row"},
                                      " {");
      h.body.push_back("  " + params_type + " p;");
      for (const Column* c : keys_) PushColumn(*c, h.body);
      for (const Column* c : SetColumns()) PushColumn(*c, h.body);
      h.body.push_back("  return p;");
      helpers.push_back(h);
    }
    {
      Helper h;
      h.comment = "Parameters of the primary key of `row`.";
      h.signature = LayoutDeclaration(0,
                                      params_type + " " + stem_ + "Key",
                                      {"const " + row_ + "& row"},
                                      " {");
      h.body.push_back("  " + params_type + " p;");
      for (const Column* c : keys_) PushColumn(*c, h.body);
      h.body.push_back("  return p;");
      helpers.push_back(h);
    }
    {
      Helper h;
      h.comment = "A result row (columns in the order of the select list) into `row`.";
      h.signature =
          LayoutDeclaration(0, "void Read" + stem_, {"const ::pqxx::row& r", row_ + "& row"}, " {");
      for (size_t i = 0; i < t_.columns.size(); ++i) ReadColumn(t_.columns[i], i, h.body);
      helpers.push_back(h);
    }
    Data list = List();
    for (const Helper& h : helpers) {
      Data v;
      v.set("comment", LayoutComment(0, h.comment));
      v.set("signature", h.signature);
      Data body = List();
      for (const std::string& line : h.body) body.push_back(Data(line));
      v.set("body", body);
      list.push_back(v);
    }
    return list;
  }

  const model::Model& model_;
  const model::File& file_;
  const model::Message& m_;
  const model::Table& t_;
  std::string row_;
  std::string stem_;
  bool hidden_version_ = false;
  std::vector<const Column*> keys_;
  std::vector<const Column*> filters_;
};

}  // namespace

void EmitRepository(const EmitInput& in, Rendered& out) {
  const model::Model& model = in.model;
  const model::File& file = in.file;
  Data tables = List();
  for (const std::string& name : file.messages) {
    const model::Message& m = model.messages.at(name);
    if (!m.table || m.map_entry) continue;
    tables.push_back(TableWriter(model, file, m).View());
  }
  bool any = !tables.is_empty_list();
  Data view;
  view.set("source", file.name);
  view.set("base", file.base);
  // Sorted, as clang-format orders an include block.
  Data includes = List();
  for (const std::string& inc : std::set<std::string>{file.pb_header, "cppsvc/impl/repository.h"}) {
    includes.push_back(Data(inc));
  }
  view.set("includes", includes);
  view.set("has_tables", Data(any));
  view.set("has_namespace", !file.cpp_namespace.empty() && any);
  view.set("namespace", file.cpp_namespace);
  view.set("tables", tables);
  out.outputs.push_back(Render("repository/repository.h.mustache", view));
  out.outputs.push_back(Render("repository/repository.cc.mustache", view));
}

}  // namespace cppsvc::emit
