#include "emit/openapi_operation.h"

#include <algorithm>
#include <map>
#include <set>

#include "cppsvc/status_code_names.h"
#include "text/join.h"

namespace cppsvc::emit::openapi {
namespace {

// The gRPC code names the gateway writes in Error.code (every code but OK).
// Every code but OK, as gRPC spells them.
const std::vector<std::string> kCodes(kStatusCodeNames.begin() + 1, kStatusCodeNames.end());

Json JsonContent(Json schema) {
  return {{"application/json", {{"schema", std::move(schema)}}}};
}

Json ResponseRef(const std::string& name) {
  return {{"$ref", "#/components/responses/" + name}};
}

// Query parameters of the fields of `m` below `proto_prefix`, skipping
// `bound` paths; `open` holds the messages being expanded, so a message
// holding itself ends the path there.
void AddQuery(Schemas& schemas,
              const model::Message& m,
              const std::string& proto_prefix,
              const std::string& json_prefix,
              const std::set<std::string>& bound,
              std::vector<std::string>& open,
              Json& out) {
  for (const model::Field& f : m.fields) {
    const std::string path = proto_prefix + f.name;
    if (bound.count(path) > 0 || f.map) continue;
    const bool message = f.kind == model::FieldKind::kMessage;
    if (message && !Schemas::IsScalarMessage(f.type_name)) {
      const model::Message* inner = schemas.model().FindMessage(f.type_name);
      if (f.repeated || Schemas::IsWellKnown(f.type_name) || inner == nullptr ||
          std::find(open.begin(), open.end(), f.type_name) != open.end()) {
        continue;
      }
      open.push_back(f.type_name);
      AddQuery(schemas, *inner, path + ".", json_prefix + f.json_name + ".", bound, open, out);
      open.pop_back();
      continue;
    }
    Json p = {{"name", json_prefix + f.json_name}, {"in", "query"}};
    if (!f.comment.empty()) p["description"] = f.comment;
    if (f.validate.required) p["required"] = true;
    if (f.repeated) {
      p["style"] = "form";
      p["explode"] = true;
    }
    p["schema"] = schemas.FieldValue(f);
    out.push_back(std::move(p));
  }
}

// The object schema of `m` without the fields at `paths` (proto field
// paths): a field below a message field leaves that field an inline
// schema of its own.
Json WithoutFields(Schemas& schemas,
                   const model::Message& m,
                   const std::vector<std::string>& paths) {
  Json s = schemas.Message(m, kRequest);
  std::map<std::string, std::vector<std::string>> nested;
  for (const std::string& path : paths) {
    const size_t dot = path.find('.');
    const model::Field* f = m.FindField(path.substr(0, dot));
    if (f == nullptr) continue;
    if (dot != std::string::npos) {
      nested[f->name].push_back(path.substr(dot + 1));
      continue;
    }
    s["properties"].erase(f->json_name);
    if (s.contains("required")) {
      Json& required = s["required"];
      required.erase(std::remove(required.begin(), required.end(), f->json_name), required.end());
      if (required.empty()) s.erase("required");
    }
  }
  for (const auto& [name, rest] : nested) {
    const model::Field* f = m.FindField(name);
    const model::Message* inner = schemas.model().FindMessage(f->type_name);
    if (inner != nullptr)
      s["properties"][f->json_name] = Described(f->comment, WithoutFields(schemas, *inner, rest));
  }
  if (s.contains("properties") && s["properties"].empty()) s.erase("properties");
  return s;
}

std::string Description(const model::Method& m) {
  std::vector<std::string> parts;
  const std::string& doc = m.description.empty() ? m.comment : m.description;
  if (!doc.empty()) parts.push_back(doc);
  if (m.is_public) {
    parts.push_back("Public: no token needed.");
  } else {
    parts.push_back("Roles: " + text::Join(m.effective_roles, ", ") +
                    " (or a role that includes one).");
  }
  if (!m.owner_field.empty()) {
    parts.push_back(
        "Callers whose roles do not bypass ownership act only on their own resources (" +
        m.owner_field + ").");
  }
  return text::Join(parts, "\n\n");
}

Json RateLimit(const model::RateLimit& r) {
  Json out = {{"requestsPerSecond", r.requests_per_second}};
  if (r.burst != 0) out["burst"] = r.burst;
  out["key"] = r.key;
  return out;
}

Json Responses(Schemas& schemas, const model::Method& m) {
  const model::HttpRoute& h = *m.http;
  schemas.set_direction(kResponse);
  std::string description;
  Json schema;
  if (h.response_body.empty()) {
    const model::Message* output = schemas.model().FindMessage(m.output);
    description = output != nullptr ? output->comment : "";
    schema = schemas.Ref(m.output);
  } else {
    const model::Field* f = schemas.FieldAt(m.output, h.response_body);
    description = f != nullptr ? f->comment : "";
    schema = f != nullptr ? schemas.FieldValue(*f) : Json::object();
  }
  Json out = Json::object();
  out["200"] = {{"description", description.empty() ? "OK" : description},
                {"content", JsonContent(std::move(schema))}};
  out["400"] = ResponseRef("BadRequest");
  if (!m.is_public) out["401"] = ResponseRef("Unauthorized");
  if (!m.is_public && !m.effective_roles.empty()) out["403"] = ResponseRef("Forbidden");
  out["404"] = ResponseRef("NotFound");
  out["409"] = ResponseRef("Conflict");
  out["429"] = ResponseRef("TooManyRequests");
  out["500"] = ResponseRef("InternalError");
  out["503"] = ResponseRef("Unavailable");
  out["504"] = ResponseRef("GatewayTimeout");
  return out;
}

Json ErrorResponse(const std::string& description, Json headers = nullptr) {
  Json out = {{"description", description}};
  if (!headers.is_null()) out["headers"] = std::move(headers);
  out["content"] = JsonContent({{"$ref", SchemaRef("Error")}});
  return out;
}

}  // namespace

Json PathParameters(Schemas& schemas, const model::Method& m) {
  Json out = Json::array();
  for (const std::string& var : m.http->variables) {
    const model::Field* f = schemas.FieldAt(m.input, var);
    if (f == nullptr) continue;
    Json p = {{"name", var}, {"in", "path"}};
    if (!f->comment.empty()) p["description"] = f->comment;
    p["required"] = true;
    p["schema"] = schemas.FieldValue(*f);
    out.push_back(std::move(p));
  }
  return out;
}

Json QueryParameters(Schemas& schemas, const model::Method& m) {
  Json out = Json::array();
  const model::HttpRoute& h = *m.http;
  const model::Message* request = schemas.model().FindMessage(m.input);
  if (h.body == "*" || request == nullptr) return out;
  std::set<std::string> bound(h.variables.begin(), h.variables.end());
  if (!h.body.empty()) bound.insert(h.body);
  std::vector<std::string> open = {m.input};
  AddQuery(schemas, *request, "", "", bound, open, out);
  return out;
}

Json RequestBody(Schemas& schemas, const model::Method& m) {
  const model::HttpRoute& h = *m.http;
  const model::Message* request = schemas.model().FindMessage(m.input);
  if (h.body.empty() || request == nullptr) return nullptr;
  Json body = Json::object();
  Json schema;
  if (h.body == "*") {
    schema =
        h.variables.empty() ? schemas.Ref(m.input) : WithoutFields(schemas, *request, h.variables);
  } else {
    const model::Field* f = schemas.FieldAt(m.input, h.body);
    if (f == nullptr) return nullptr;
    if (!f->comment.empty()) body["description"] = f->comment;
    schema = schemas.FieldValue(*f);
  }
  body["content"] = JsonContent(std::move(schema));
  body["required"] = true;
  return body;
}

Json Operation(Schemas& schemas, const model::Service& s, const model::Method& m) {
  Json op = Json::object();
  op["tags"] = {s.name};
  op["description"] = Description(m);
  op["operationId"] = s.name + "_" + m.name;
  schemas.set_direction(kRequest);
  Json parameters = PathParameters(schemas, m);
  for (Json& p : QueryParameters(schemas, m)) parameters.push_back(std::move(p));
  if (!parameters.empty()) op["parameters"] = std::move(parameters);
  Json body = RequestBody(schemas, m);
  if (!body.is_null()) op["requestBody"] = std::move(body);
  op["responses"] = Responses(schemas, m);
  if (m.is_public) {
    op["security"] = Json::array();
  } else {
    op["security"] = Json::array({{{"bearerAuth", Json::array()}}});
    op["x-cppsvc-roles"] = m.effective_roles;
  }
  if (m.rate_limit) op["x-cppsvc-rate-limit"] = RateLimit(*m.rate_limit);
  return op;
}

Json ErrorResponses() {
  const Json www_authenticate = {{"WWW-Authenticate",
                                  {{"description", "The scheme to authenticate with: Bearer"},
                                   {"schema", {{"type", "string"}}}}}};
  const Json retry_after = {{"Retry-After",
                             {{"description", "Seconds to wait before retrying"},
                              {"schema", {{"type", "integer"}, {"minimum", 0}}}}}};
  Json out = Json::object();
  out["BadRequest"] = ErrorResponse(
      "INVALID_ARGUMENT or FAILED_PRECONDITION, or a request the gateway cannot map (malformed "
      "JSON, wrong JSON types, unknown fields); details name the fields at fault");
  out["Unauthorized"] =
      ErrorResponse("UNAUTHENTICATED: no bearer token, or an invalid or expired one",
                    www_authenticate);
  out["Forbidden"] =
      ErrorResponse("PERMISSION_DENIED: the token's roles do not allow the operation");
  out["NotFound"] = ErrorResponse("NOT_FOUND, or no route for the path");
  out["Conflict"] =
      ErrorResponse("ALREADY_EXISTS, or ABORTED: a concurrent change won (read again and retry)");
  out["TooManyRequests"] = ErrorResponse("RESOURCE_EXHAUSTED: a rate limit was hit", retry_after);
  out["InternalError"] = ErrorResponse("Any other failure; the message holds no internal detail");
  out["Unavailable"] =
      ErrorResponse("UNAVAILABLE: the service is unreachable or its circuit is open");
  out["GatewayTimeout"] = ErrorResponse("DEADLINE_EXCEEDED: the service did not answer in time");
  return out;
}

Json ErrorSchema() {
  Json detail = {{"type", "object"},
                 {"properties",
                  {{"field", {{"description", "Path of the field at fault"}, {"type", "string"}}},
                   {"description", {{"description", "What is wrong"}, {"type", "string"}}}}},
                 {"required", {"field", "description"}}};
  Json properties = {
      {"code",
       {{"description", "The gRPC status code name"}, {"type", "string"}, {"enum", kCodes}}},
      {"message", {{"description", "What went wrong"}, {"type", "string"}}},
      {"details",
       {{"description", "The fields at fault (validation errors)"},
        {"type", "array"},
        {"items", std::move(detail)}}},
      {"request_id",
       {{"description", "The id of the request: the one the client sent, else a new one"},
        {"type", "string"}}}};
  return {{"description", "The body of every error response"},
          {"type", "object"},
          {"properties", std::move(properties)},
          {"required", {"code", "message", "details", "request_id"}}};
}

}  // namespace cppsvc::emit::openapi
