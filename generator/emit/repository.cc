// <file>.cppsvc.repo.{h,cc}: a typed repository per table message. Every
// statement is a prepared statement with parameters, defined at namespace
// scope (so every pooled connection prepares it); rows map to messages
// column by column through the codecs of cppsvc/impl/repository.h. The C++
// and SQL are in templates/repository/; this file only prepares their data.
#include <set>
#include <string>
#include <vector>

#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/template.h"
#include "text/join.h"

namespace cppsvc::emit {
namespace {

using model::Column;
using model::ColumnCodec;
using text::Join;

std::string Param(size_t n) {
  return "$" + std::to_string(n);
}

// The runtime function (in cppsvc::impl) turning a column's value into
// parameter text; "" when the value is its own text.
std::string Encoder(ColumnCodec codec) {
  switch (codec) {
    case ColumnCodec::kBool:
      return "SqlBool";
    case ColumnCodec::kInt32:
    case ColumnCodec::kInt64:
    case ColumnCodec::kUint32:
    case ColumnCodec::kEnum:
      return "SqlInt";
    case ColumnCodec::kUint64:
      return "SqlUint64";
    case ColumnCodec::kFloat:
      return "SqlFloat";
    case ColumnCodec::kDouble:
      return "SqlDouble";
    case ColumnCodec::kString:
      return "";
    case ColumnCodec::kBytes:
      return "SqlBytes";
    case ColumnCodec::kTimestamp:
      return "SqlTimestamp";
    case ColumnCodec::kJson:
      return "SqlJson";
  }
  return "";
}

// The runtime function reading a scalar column; "" for the others.
std::string Reader(ColumnCodec codec) {
  switch (codec) {
    case ColumnCodec::kBool:
      return "ReadBool";
    case ColumnCodec::kInt32:
      return "ReadInt32";
    case ColumnCodec::kInt64:
      return "ReadInt64";
    case ColumnCodec::kUint32:
      return "ReadUint32";
    case ColumnCodec::kUint64:
      return "ReadUint64";
    case ColumnCodec::kFloat:
      return "ReadFloat";
    case ColumnCodec::kDouble:
      return "ReadDouble";
    case ColumnCodec::kString:
      return "ReadString";
    case ColumnCodec::kBytes:
      return "ReadBytes";
    case ColumnCodec::kEnum:
    case ColumnCodec::kTimestamp:
    case ColumnCodec::kJson:
      return "";
  }
  return "";
}

class TableWriter {
 public:
  TableWriter(const model::Model& model, const model::File& file, const model::Message& message)
      : model_(model), file_(file), m_(message), t_(*message.table) {
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
    // Exact-match filters: not the fields of a full-text index.
    for (const model::Index& idx : t_.indexes)
      if (idx.text_search.empty()) filter_fields.insert(idx.fields.begin(), idx.fields.end());
    if (keys_.size() > 1) filter_fields.insert(t_.primary_key.begin(), t_.primary_key.end());
    for (const Column& c : t_.columns) {
      if (filter_fields.count(c.field) > 0 && c.codec != ColumnCodec::kJson) filters_.push_back(&c);
    }
  }

  Data View() const {
    Data v;
    v.set("name", m_.full_name);
    v.set("table", t_.name);
    v.set("class", t_.repository_class);
    v.set("filter", stem_ + "Filter");
    v.set("row", CppTypeIn(model_, file_, m_.full_name));
    v.set("stem", stem_);
    v.set("versioned", t_.has_version_column);
    v.set("version_mapped", t_.version_mapped);
    v.set("hidden_version", hidden_version_);
    v.set("column_count", std::to_string(t_.columns.size()));
    v.set("key_count", std::to_string(keys_.size()));
    v.set("columns", Columns(AllColumns()));
    v.set("keys", Columns(keys_));
    v.set("set_columns", Columns(SetColumns()));
    v.set("filters", Columns(filters_));
    v.set("has_filter_members", !filters_.empty());
    Sql(v);
    Generated(v);
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
        return "::google::protobuf::Timestamp";
      case ColumnCodec::kJson:
        return CppTypeIn(model_, file_, FieldOf(c).type_name);
    }
    return "";
  }

  // Every key the templates read on a column is set (flags to false), so a
  // missing one never resolves to a table's value of the same name.
  Data ColumnView(const Column& c, size_t index, bool last) const {
    const model::Field& f = FieldOf(c);
    const bool json_holder = c.codec == ColumnCodec::kJson && (f.repeated || f.map);
    Data v;
    v.set("field", f.cpp_name);
    v.set("proto_name", f.name);
    v.set("index", std::to_string(index));
    v.set("last", last);
    // Only keys and filters use it; the JSON of repeated scalars or enums has
    // no message type.
    if (c.codec != ColumnCodec::kJson || model_.messages.count(f.type_name) > 0) {
      v.set("type", ValueType(c));
    }
    v.set("by_ref",
          c.codec == ColumnCodec::kString || c.codec == ColumnCodec::kBytes ||
              c.codec == ColumnCodec::kTimestamp || c.codec == ColumnCodec::kJson);
    v.set("json_holder", json_holder);
    v.set("map", f.map);
    v.set("nullable", !json_holder && c.nullable);
    v.set("plain", !json_holder && !c.nullable);
    if (!Encoder(c.codec).empty()) v.set("encoder", Encoder(c.codec));
    if (!json_holder) {
      if (c.codec == ColumnCodec::kTimestamp) v.set("read_into", "ReadTimestamp");
      if (c.codec == ColumnCodec::kJson) v.set("read_into", "ReadJson");
      if (c.codec == ColumnCodec::kEnum) v.set("enum_type", EnumType(f));
      if (!Reader(c.codec).empty()) v.set("reader", Reader(c.codec));
    }
    v.set("new_uuid", c.generated == model::GeneratedValue::kUuid);
    v.set("set_now",
          c.generated == model::GeneratedValue::kCreatedAt ||
              c.generated == model::GeneratedValue::kUpdatedAt);
    v.set("stamp_on_update", c.generated == model::GeneratedValue::kUpdatedAt);
    v.set("version_field", c.version);
    return v;
  }

  // Column views; the index is the column's position in the table (and in
  // the select list).
  Data Columns(const std::vector<const Column*>& columns) const {
    Data list = List();
    for (size_t i = 0; i < columns.size(); ++i) {
      size_t index = static_cast<size_t>(columns[i] - t_.columns.data());
      list.push_back(ColumnView(*columns[i], index, i + 1 == columns.size()));
    }
    return list;
  }

  std::vector<const Column*> AllColumns() const {
    std::vector<const Column*> out;
    for (const Column& c : t_.columns) out.push_back(&c);
    return out;
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

  // --- SQL clauses -----------------------------------------------------------

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

  void Sql(Data& v) const {
    std::vector<std::string> names, values, arrays, select;
    for (size_t i = 0; i < t_.columns.size(); ++i) {
      const Column& c = t_.columns[i];
      names.push_back(c.name);
      values.push_back(Param(i + 1));
      arrays.push_back(Param(i + 1) + "::" + c.sql_type + "[]");
      // Epoch seconds are exact and do not depend on DateStyle or TimeZone.
      select.push_back(c.codec == ColumnCodec::kTimestamp ? "EXTRACT(EPOCH FROM " + c.name + ")"
                                                          : c.name);
    }
    if (hidden_version_) {
      names.push_back("version");
      values.push_back("1");
      select.push_back("version");
    }
    v.set("column_names", Join(names, ", "));
    v.set("insert_values", Join(values, ", "));
    v.set("bulk_arrays", Join(arrays, ", "));
    v.set("select_list", Join(select, ", "));
    v.set("key_condition", KeyCondition(1));
    v.set("key_columns", KeyColumns());
    UpdateSql(v);
    ListSql(v);
  }

  void UpdateSql(Data& v) const {
    std::vector<std::string> sets;
    size_t n = keys_.size();
    for (const Column* c : SetColumns()) sets.push_back(c->name + " = " + Param(++n));
    std::string where = KeyCondition(1);
    if (t_.has_version_column) {
      sets.push_back("version = version + 1");
      where += " AND version = " + Param(++n);
    }
    if (sets.empty()) sets.push_back(keys_[0]->name + " = " + keys_[0]->name);
    v.set("update_sets", Join(sets, ", "));
    v.set("update_condition", where);
  }

  // Filters are $1..$k, the limit $k+1, the key of the last row after it.
  void ListSql(Data& v) const {
    std::vector<std::string> conditions;
    for (size_t i = 0; i < filters_.size(); ++i) {
      conditions.push_back("(" + Param(i + 1) + "::" + filters_[i]->sql_type + " IS NULL OR " +
                           filters_[i]->name + " = " + Param(i + 1) + ")");
    }
    size_t limit = filters_.size() + 1;
    v.set("limit_param", Param(limit));
    if (!conditions.empty()) v.set("list_condition", Join(conditions, " AND "));
    std::vector<std::string> bounds;
    for (size_t i = 0; i < keys_.size(); ++i) bounds.push_back(Param(limit + 1 + i));
    conditions.push_back(keys_.size() == 1
                             ? keys_[0]->name + " > " + bounds[0]
                             : "(" + KeyColumns() + ") > (" + Join(bounds, ", ") + ")");
    v.set("list_after_condition", Join(conditions, " AND "));
  }

  // --- Generated values, for the comments ------------------------------------

  void Generated(Data& v) const {
    std::vector<std::string> generated, stamped;
    bool uses_now = false;
    for (const Column& c : t_.columns) {
      const std::string& name = FieldOf(c).name;
      if (c.generated == model::GeneratedValue::kUuid)
        generated.push_back(name + " (a new UUID when empty)");
      if (c.generated == model::GeneratedValue::kCreatedAt ||
          c.generated == model::GeneratedValue::kUpdatedAt) {
        generated.push_back(name + " (now)");
        uses_now = true;
      }
      if (c.version) generated.push_back(name + " (1)");
      if (c.generated == model::GeneratedValue::kUpdatedAt) stamped.push_back(name);
    }
    if (!generated.empty()) v.set("generated_values", Join(generated, ", "));
    if (!stamped.empty()) v.set("stamped_on_update", Join(stamped, ", "));
    v.set("fill_uses_now", uses_now);
    v.set("fill_uses_row", !generated.empty());
    v.set("update_stamps_now", !stamped.empty());
  }

  const model::Model& model_;
  const model::File& file_;
  const model::Message& m_;
  const model::Table& t_;
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
