// JSON Schemas (the OpenAPI 3.0 dialect) of messages, enums and fields as
// protobuf's JSON mapping (JsonStringToMessage / MessageToJsonString)
// writes and reads them, with the fields' validation rules as bounds.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace cppsvc::emit::openapi {

// Ordered: keys stay in the order the emitter writes them.
using Json = nlohmann::ordered_json;

// Where a schema is used, as bits: a message's `required` list differs.
enum Direction : unsigned { kRequest = 1, kResponse = 2 };

// "#/components/schemas/<name>".
std::string SchemaRef(const std::string& name);

// `schema` with `description` first; a $ref is wrapped in allOf, since
// OpenAPI 3.0 ignores the siblings of a $ref.
Json Described(const std::string& description, Json schema);

// Builds schemas and records which messages and enums they refer to, so
// that components/schemas lists exactly those.
class Schemas {
 public:
  explicit Schemas(const model::Model& model) : model_(model) {}

  // Refs made from now on are used in `direction`.
  void set_direction(Direction d) { direction_ = d; }

  // The value of a field, without its description: a $ref for messages and
  // enums, inline schemas for scalars and well-known types; arrays for
  // repeated fields, objects with additionalProperties for maps.
  Json FieldValue(const model::Field& f);
  // FieldValue with the field's comment as description.
  Json Field(const model::Field& f);

  // The object schema of a message: properties by JSON name in field
  // order, `required` as the directions it is used in say (see openapi.cc).
  Json Message(const model::Message& m, unsigned directions);
  // A string schema listing the value names.
  static Json Enum(const model::EnumType& e);

  // A $ref to the message or enum `type`, recorded for Components().
  Json Ref(const std::string& type);

  // The component schemas of every message and enum referred to, sorted by
  // full name.
  Json Components();

  const model::Model& model() const { return model_; }

  // The field at a dotted path of proto field names, or nullptr.
  const model::Field* FieldAt(const std::string& message, const std::string& path) const;
  // True when `type` is a well-known message mapped to a JSON scalar
  // (Timestamp, Duration, FieldMask, wrappers): it can be a query parameter.
  static bool IsScalarMessage(const std::string& type);
  // True for every well-known message with a JSON form of its own (the
  // above, Struct, Value, ListValue, Any).
  static bool IsWellKnown(const std::string& type);

 private:
  Json Value(const model::Field& f);
  void Propagate();

  const model::Model& model_;
  Direction direction_ = kRequest;
  std::map<std::string, unsigned> refs_;  // full name -> directions
};

}  // namespace cppsvc::emit::openapi
