#include "model/model.h"

namespace cppsvc::model {

bool IsInteger(FieldKind kind) {
  switch (kind) {
    case FieldKind::kInt32:
    case FieldKind::kInt64:
    case FieldKind::kUint32:
    case FieldKind::kUint64:
    case FieldKind::kSint32:
    case FieldKind::kSint64:
    case FieldKind::kFixed32:
    case FieldKind::kFixed64:
    case FieldKind::kSfixed32:
    case FieldKind::kSfixed64:
      return true;
    default:
      return false;
  }
}

bool IsNumeric(FieldKind kind) {
  return IsInteger(kind) || kind == FieldKind::kDouble || kind == FieldKind::kFloat;
}

const char* KindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kDouble:
      return "double";
    case FieldKind::kFloat:
      return "float";
    case FieldKind::kInt32:
      return "int32";
    case FieldKind::kInt64:
      return "int64";
    case FieldKind::kUint32:
      return "uint32";
    case FieldKind::kUint64:
      return "uint64";
    case FieldKind::kSint32:
      return "sint32";
    case FieldKind::kSint64:
      return "sint64";
    case FieldKind::kFixed32:
      return "fixed32";
    case FieldKind::kFixed64:
      return "fixed64";
    case FieldKind::kSfixed32:
      return "sfixed32";
    case FieldKind::kSfixed64:
      return "sfixed64";
    case FieldKind::kBool:
      return "bool";
    case FieldKind::kString:
      return "string";
    case FieldKind::kBytes:
      return "bytes";
    case FieldKind::kEnum:
      return "enum";
    case FieldKind::kMessage:
      return "message";
  }
  return "unknown";
}

const char* CodecName(ColumnCodec codec) {
  switch (codec) {
    case ColumnCodec::kBool:
      return "bool";
    case ColumnCodec::kInt32:
      return "int32";
    case ColumnCodec::kInt64:
      return "int64";
    case ColumnCodec::kUint32:
      return "uint32";
    case ColumnCodec::kUint64:
      return "uint64";
    case ColumnCodec::kFloat:
      return "float";
    case ColumnCodec::kDouble:
      return "double";
    case ColumnCodec::kString:
      return "string";
    case ColumnCodec::kBytes:
      return "bytes";
    case ColumnCodec::kEnum:
      return "enum";
    case ColumnCodec::kTimestamp:
      return "timestamp";
    case ColumnCodec::kJson:
      return "json";
  }
  return "unknown";
}

ColumnCodec CodecOf(const Field& field) {
  if (field.repeated || field.map || field.column.storage == Storage::kJsonb)
    return ColumnCodec::kJson;
  switch (field.kind) {
    case FieldKind::kBool:
      return ColumnCodec::kBool;
    case FieldKind::kInt32:
    case FieldKind::kSint32:
    case FieldKind::kSfixed32:
      return ColumnCodec::kInt32;
    case FieldKind::kInt64:
    case FieldKind::kSint64:
    case FieldKind::kSfixed64:
      return ColumnCodec::kInt64;
    case FieldKind::kUint32:
    case FieldKind::kFixed32:
      return ColumnCodec::kUint32;
    case FieldKind::kUint64:
    case FieldKind::kFixed64:
      return ColumnCodec::kUint64;
    case FieldKind::kFloat:
      return ColumnCodec::kFloat;
    case FieldKind::kDouble:
      return ColumnCodec::kDouble;
    case FieldKind::kString:
      return ColumnCodec::kString;
    case FieldKind::kBytes:
      return ColumnCodec::kBytes;
    case FieldKind::kEnum:
      return ColumnCodec::kEnum;
    case FieldKind::kMessage:
      return field.type_name == "google.protobuf.Timestamp" ? ColumnCodec::kTimestamp
                                                            : ColumnCodec::kJson;
  }
  return ColumnCodec::kJson;
}

std::string SqlTypeOf(const Field& field) {
  switch (CodecOf(field)) {
    case ColumnCodec::kBool:
      return "boolean";
    case ColumnCodec::kInt32:
    case ColumnCodec::kEnum:
      return "integer";
    case ColumnCodec::kUint32:
    case ColumnCodec::kInt64:
      return "bigint";
    case ColumnCodec::kUint64:
      return "numeric(20,0)";
    case ColumnCodec::kFloat:
      return "real";
    case ColumnCodec::kDouble:
      return "double precision";
    case ColumnCodec::kString:
      return "text";
    case ColumnCodec::kBytes:
      return "bytea";
    case ColumnCodec::kTimestamp:
      return "timestamptz";
    case ColumnCodec::kJson:
      return "jsonb";
  }
  return "jsonb";
}

const Column* Table::FindColumn(const std::string& column_name) const {
  for (const Column& c : columns) {
    if (c.name == column_name) return &c;
  }
  return nullptr;
}

const Column* Table::ColumnOfField(const std::string& field_name) const {
  for (const Column& c : columns) {
    if (c.field == field_name) return &c;
  }
  return nullptr;
}

bool ValidationRules::Any() const {
  return required || min_len || max_len || gte || lte || gt || lt || !pattern.empty() || email ||
         uuid || enum_defined || min_items || max_items;
}

bool ColumnOptions::Any() const {
  return !name.empty() || !type.empty() || storage != Storage::kDefault || skip ||
         !default_value.empty() || allow_type_change;
}

const Field* Message::FindField(const std::string& field_name) const {
  for (const Field& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

const Message* Model::FindMessage(const std::string& full_name) const {
  auto it = messages.find(full_name);
  return it == messages.end() ? nullptr : &it->second;
}

const Message* Model::FindEvent(const std::string& full_name) const {
  const Message* m = FindMessage(full_name);
  return m != nullptr && m->event ? m : nullptr;
}

const Service* Model::FindService(const std::string& short_name) const {
  for (const File& f : files) {
    for (const Service& s : f.services) {
      if (s.short_name == short_name) return &s;
    }
  }
  return nullptr;
}

const Role* Model::FindRole(const std::string& name) const {
  for (const File& f : files) {
    for (const Role& r : f.roles) {
      if (r.name == name) return &r;
    }
  }
  return nullptr;
}

const File* Model::FindFile(const std::string& name) const {
  for (const File& f : files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<const Service*> Model::ServicesInView(const File& file) const {
  std::vector<const Service*> out;
  for (const std::string& name : file.files_in_view) {
    if (const File* f = FindFile(name))
      for (const Service& s : f->services) out.push_back(&s);
  }
  return out;
}

}  // namespace cppsvc::model
