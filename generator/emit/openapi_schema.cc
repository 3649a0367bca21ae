#include "emit/openapi_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cppsvc::emit::openapi {
namespace {

using model::FieldKind;

// The JSON form of a scalar field in protobuf's JSON mapping: 64-bit
// integers are strings (JavaScript numbers hold 53 bits), bytes base64.
Json Scalar(FieldKind kind) {
  switch (kind) {
    case FieldKind::kDouble:
      return {{"type", "number"}, {"format", "double"}};
    case FieldKind::kFloat:
      return {{"type", "number"}, {"format", "float"}};
    case FieldKind::kInt32:
    case FieldKind::kSint32:
    case FieldKind::kSfixed32:
      return {{"type", "integer"}, {"format", "int32"}};
    case FieldKind::kUint32:
    case FieldKind::kFixed32:
      return {{"type", "integer"}, {"format", "uint32"}};
    case FieldKind::kInt64:
    case FieldKind::kSint64:
    case FieldKind::kSfixed64:
      return {{"type", "string"}, {"format", "int64"}};
    case FieldKind::kUint64:
    case FieldKind::kFixed64:
      return {{"type", "string"}, {"format", "uint64"}};
    case FieldKind::kBool:
      return {{"type", "boolean"}};
    case FieldKind::kBytes:
      return {{"type", "string"}, {"format", "byte"}};
    case FieldKind::kString:
    case FieldKind::kEnum:
    case FieldKind::kMessage:
      break;
  }
  return {{"type", "string"}};
}

Json Nullable(FieldKind kind) {
  Json s = Scalar(kind);
  s["nullable"] = true;
  return s;
}

struct WellKnownType {
  Json schema;
  bool scalar;  // a JSON scalar, so it can be a query parameter
};

// Messages of google/protobuf/*.proto with a JSON form of their own; they
// are written inline and never listed in components/schemas.
const std::map<std::string, WellKnownType>& WellKnownTypes() {
  static const std::map<std::string, WellKnownType> kTypes = {
      {"google.protobuf.Timestamp", {{{"type", "string"}, {"format", "date-time"}}, true}},
      {"google.protobuf.Duration",
       {{{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$"}}, true}},
      {"google.protobuf.FieldMask", {{{"type", "string"}}, true}},
      {"google.protobuf.DoubleValue", {Nullable(FieldKind::kDouble), true}},
      {"google.protobuf.FloatValue", {Nullable(FieldKind::kFloat), true}},
      {"google.protobuf.Int64Value", {Nullable(FieldKind::kInt64), true}},
      {"google.protobuf.UInt64Value", {Nullable(FieldKind::kUint64), true}},
      {"google.protobuf.Int32Value", {Nullable(FieldKind::kInt32), true}},
      {"google.protobuf.UInt32Value", {Nullable(FieldKind::kUint32), true}},
      {"google.protobuf.BoolValue", {Nullable(FieldKind::kBool), true}},
      {"google.protobuf.StringValue", {Nullable(FieldKind::kString), true}},
      {"google.protobuf.BytesValue", {Nullable(FieldKind::kBytes), true}},
      {"google.protobuf.Struct", {{{"type", "object"}, {"additionalProperties", true}}, false}},
      // Any JSON value: the empty schema.
      {"google.protobuf.Value", {Json::object(), false}},
      {"google.protobuf.ListValue", {{{"type", "array"}, {"items", Json::object()}}, false}},
      {"google.protobuf.Any",
       {{{"type", "object"},
         {"properties", {{"@type", {{"type", "string"}}}}},
         {"required", {"@type"}},
         {"additionalProperties", true}},
        false}},
  };
  return kTypes;
}

const WellKnownType* WellKnown(const std::string& type) {
  const auto& types = WellKnownTypes();
  auto it = types.find(type);
  return it == types.end() ? nullptr : &it->second;
}

// A bound as an integer when it is one, so integer fields read naturally.
Json Bound(double d) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (std::trunc(d) == d && std::fabs(d) < kExactIntegers) return static_cast<int64_t>(d);
  return d;
}

// Of gte/gt (and lte/lt) the stricter one: OpenAPI 3.0 has one minimum.
void AddNumericBounds(const model::ValidationRules& r, Json& s) {
  if (r.gt && (!r.gte || *r.gt >= *r.gte)) {
    s["minimum"] = Bound(*r.gt);
    s["exclusiveMinimum"] = true;
  } else if (r.gte) {
    s["minimum"] = Bound(*r.gte);
  }
  if (r.lt && (!r.lte || *r.lt <= *r.lte)) {
    s["maximum"] = Bound(*r.lt);
    s["exclusiveMaximum"] = true;
  } else if (r.lte) {
    s["maximum"] = Bound(*r.lte);
  }
}

// `non_empty`: a singular field that `required` makes non-empty.
void AddStringRules(const model::ValidationRules& r, bool non_empty, Json& s) {
  if (r.uuid) s["format"] = "uuid";
  if (r.email) s["format"] = "email";
  const uint32_t min_len = std::max(r.min_len.value_or(0), non_empty ? 1U : 0U);
  if (min_len > 0) s["minLength"] = min_len;
  if (r.max_len) s["maxLength"] = *r.max_len;
  if (!r.pattern.empty()) s["pattern"] = r.pattern;
  if (!r.example.empty()) s["example"] = r.example;
}

// Byte bounds as lengths of the base64 text: protobuf writes padded base64
// (4 characters per 3 bytes, rounded up) and also reads it unpadded.
void AddBytesRules(const model::ValidationRules& r, bool non_empty, Json& s) {
  const uint64_t min_bytes = std::max(r.min_len.value_or(0), non_empty ? 1U : 0U);
  if (min_bytes > 0) s["minLength"] = (4 * min_bytes + 2) / 3;
  if (r.max_len) s["maxLength"] = 4 * ((uint64_t{*r.max_len} + 2) / 3);
}

}  // namespace

std::string SchemaRef(const std::string& name) {
  return "#/components/schemas/" + name;
}

Json Described(const std::string& description, Json schema) {
  if (description.empty()) return schema;
  Json out = {{"description", description}};
  if (schema.contains("$ref")) {
    out["allOf"] = Json::array({std::move(schema)});
    return out;
  }
  for (auto& [key, value] : schema.items()) out[key] = std::move(value);
  return out;
}

Json Schemas::Ref(const std::string& type) {
  refs_[type] |= direction_;
  return {{"$ref", SchemaRef(type)}};
}

Json Schemas::Value(const model::Field& f) {
  if (f.kind == FieldKind::kMessage) {
    const WellKnownType* wk = WellKnown(f.type_name);
    return wk != nullptr ? wk->schema : Ref(f.type_name);
  }
  if (f.kind == FieldKind::kEnum) return Ref(f.type_name);
  Json s = Scalar(f.kind);
  // `required` on a singular string or bytes field means non-empty; on a
  // repeated one, at least one element (see FieldValue).
  const bool non_empty = f.validate.required && !f.repeated && !f.proto3_optional;
  if (f.kind == FieldKind::kString) AddStringRules(f.validate, non_empty, s);
  if (f.kind == FieldKind::kBytes) AddBytesRules(f.validate, non_empty, s);
  if (model::IsNumeric(f.kind)) AddNumericBounds(f.validate, s);
  return s;
}

Json Schemas::FieldValue(const model::Field& f) {
  if (f.map) {
    // JSON object keys are strings whatever the proto key type.
    const model::Message* entry = model_.FindMessage(f.type_name);
    const model::Field* value = entry != nullptr ? entry->FindField("value") : nullptr;
    return {{"type", "object"},
            {"additionalProperties", value != nullptr ? Value(*value) : Json::object()}};
  }
  if (!f.repeated) return Value(f);
  Json s = {{"type", "array"}, {"items", Value(f)}};
  const model::ValidationRules& r = f.validate;
  const uint32_t min_items = std::max(r.min_items.value_or(0), r.required ? 1U : 0U);
  if (min_items > 0) s["minItems"] = min_items;
  if (r.max_items) s["maxItems"] = *r.max_items;
  return s;
}

Json Schemas::Field(const model::Field& f) {
  return Described(f.comment, FieldValue(f));
}

Json Schemas::Message(const model::Message& m, unsigned directions) {
  Json properties = Json::object();
  std::vector<std::string> required;
  for (const model::Field& f : m.fields) {
    properties[f.json_name] = Field(f);
    // Requests: what validation requires. Responses only: every field
    // without presence, since the gateway prints those even when unset.
    const bool is_required = (directions & kRequest) != 0 ? f.validate.required : !f.has_presence;
    if (is_required) required.push_back(f.json_name);
  }
  Json s = Json::object();
  if (!m.comment.empty()) s["description"] = m.comment;
  s["type"] = "object";
  if (!properties.empty()) s["properties"] = std::move(properties);
  if (!required.empty()) s["required"] = required;
  return s;
}

Json Schemas::Enum(const model::EnumType& e) {
  Json names = Json::array();
  for (const auto& [name, number] : e.values) names.push_back(name);
  return {{"type", "string"}, {"enum", std::move(names)}};
}

// Gives every message referred to, directly or through other messages, the
// directions of all the messages referring to it.
void Schemas::Propagate() {
  std::vector<std::string> work;
  for (const auto& [name, directions] : refs_) work.push_back(name);
  while (!work.empty()) {
    const std::string name = std::move(work.back());
    work.pop_back();
    const model::Message* m = model_.FindMessage(name);
    if (m == nullptr) continue;  // an enum
    const unsigned directions = refs_[name];
    for (const model::Field& f : m->fields) {
      const model::Field* v = &f;
      if (f.map) {
        const model::Message* entry = model_.FindMessage(f.type_name);
        v = entry != nullptr ? entry->FindField("value") : nullptr;
      }
      if (v == nullptr || v->type_name.empty() || WellKnown(v->type_name) != nullptr) continue;
      unsigned& d = refs_[v->type_name];
      if ((d | directions) == d) continue;
      d |= directions;
      work.push_back(v->type_name);
    }
  }
}

Json Schemas::Components() {
  Propagate();
  // A copy: rendering refers to the same names again.
  const std::map<std::string, unsigned> refs = refs_;
  Json out = Json::object();
  for (const auto& [name, directions] : refs) {
    if (const model::Message* m = model_.FindMessage(name)) {
      out[name] = Message(*m, directions);
    } else if (auto e = model_.enums.find(name); e != model_.enums.end()) {
      out[name] = Enum(e->second);
    }
  }
  return out;
}

const model::Field* Schemas::FieldAt(const std::string& message, const std::string& path) const {
  const model::Message* m = model_.FindMessage(message);
  size_t start = 0;
  while (m != nullptr) {
    const size_t dot = path.find('.', start);
    const model::Field* f = m->FindField(path.substr(start, dot - start));
    if (f == nullptr || dot == std::string::npos) return f;
    m = f->kind == FieldKind::kMessage ? model_.FindMessage(f->type_name) : nullptr;
    start = dot + 1;
  }
  return nullptr;
}

bool Schemas::IsScalarMessage(const std::string& type) {
  const WellKnownType* wk = WellKnown(type);
  return wk != nullptr && wk->scalar;
}

bool Schemas::IsWellKnown(const std::string& type) {
  return WellKnown(type) != nullptr;
}

}  // namespace cppsvc::emit::openapi
