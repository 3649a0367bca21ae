#include "model/model.h"

namespace cppsvc::model {

bool IsInteger(FieldKind kind) {
  switch (kind) {
    case FieldKind::kInt32: case FieldKind::kInt64: case FieldKind::kUint32: case FieldKind::kUint64:
    case FieldKind::kSint32: case FieldKind::kSint64: case FieldKind::kFixed32: case FieldKind::kFixed64:
    case FieldKind::kSfixed32: case FieldKind::kSfixed64:
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
    case FieldKind::kDouble: return "double";
    case FieldKind::kFloat: return "float";
    case FieldKind::kInt32: return "int32";
    case FieldKind::kInt64: return "int64";
    case FieldKind::kUint32: return "uint32";
    case FieldKind::kUint64: return "uint64";
    case FieldKind::kSint32: return "sint32";
    case FieldKind::kSint64: return "sint64";
    case FieldKind::kFixed32: return "fixed32";
    case FieldKind::kFixed64: return "fixed64";
    case FieldKind::kSfixed32: return "sfixed32";
    case FieldKind::kSfixed64: return "sfixed64";
    case FieldKind::kBool: return "bool";
    case FieldKind::kString: return "string";
    case FieldKind::kBytes: return "bytes";
    case FieldKind::kEnum: return "enum";
    case FieldKind::kMessage: return "message";
  }
  return "unknown";
}

bool ValidationRules::Any() const {
  return required || min_len || max_len || gte || lte || gt || lt || !pattern.empty() || email || uuid ||
         enum_defined || min_items || max_items;
}

bool ColumnOptions::Any() const {
  return !name.empty() || !type.empty() || storage != Storage::kDefault || skip || !default_value.empty();
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

}  // namespace cppsvc::model
