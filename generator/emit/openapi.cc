// <file>.openapi.json: the OpenAPI 3.0 document of the routes the gateway
// serves for a file: the rpcs with an http rule of its services and of the
// services of the files it imports publicly, transitively.
//
// Order, so that a contract change moves only the lines it concerns: paths
// sorted by path, methods in OpenAPI's order (get, put, post, delete,
// patch), component schemas sorted by full name, properties in field
// order. Within an object, keys in the order OpenAPI's specification lists
// them, but the header keys come first in the document and description,
// type and format first in a schema.

#include <algorithm>

#include "emit/emitters.h"
#include "emit/openapi_operation.h"
#include "emit/openapi_schema.h"
#include "text/join.h"

namespace cppsvc::emit {
namespace {

using openapi::Json;

struct Route {
  const model::Service* service;
  const model::Method* method;
};

int VerbRank(const std::string& verb) {
  static const std::vector<std::string> kVerbs = {"GET", "PUT", "POST", "DELETE", "PATCH"};
  return static_cast<int>(std::find(kVerbs.begin(), kVerbs.end(), verb) - kVerbs.begin());
}

std::string LowerCase(std::string s) {
  for (char& c : s) c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::vector<Route> RoutesInView(const model::Model& model, const model::File& file) {
  std::vector<Route> routes;
  for (const std::string& name : file.files_in_view) {
    const model::File* f = model.FindFile(name);
    if (f == nullptr) continue;
    for (const model::Service& s : f->services) {
      for (const model::Method& m : s.methods) {
        if (m.http && !m.http->named_path.empty()) routes.push_back({&s, &m});
      }
    }
  }
  std::stable_sort(routes.begin(), routes.end(), [](const Route& a, const Route& b) {
    const model::HttpRoute& x = *a.method->http;
    const model::HttpRoute& y = *b.method->http;
    if (x.named_path != y.named_path) return x.named_path < y.named_path;
    return VerbRank(x.verb) < VerbRank(y.verb);
  });
  return routes;
}

Json Info(const model::File& file, const Json& tags) {
  std::vector<std::string> services;
  for (const Json& tag : tags) services.push_back(tag.at("name").get<std::string>());
  std::string description = "The HTTP/JSON routes the gateway serves for " + file.name;
  description += services.empty() ? ": none." : ", of " + text::Join(services, ", ") + ".";
  return {{"title", file.package.empty() ? file.base : file.package},
          {"description", description},
          {"version", file.version.empty() ? "unversioned" : file.version}};
}

// One tag per service with routes, in the order the files are in view.
Json Tags(const std::vector<Route>& routes, const model::File& file, const model::Model& model) {
  Json tags = Json::array();
  for (const std::string& name : file.files_in_view) {
    const model::File* f = model.FindFile(name);
    if (f == nullptr) continue;
    for (const model::Service& s : f->services) {
      const bool routed = std::any_of(routes.begin(), routes.end(), [&](const Route& r) {
        return r.service == &s;
      });
      if (!routed) continue;
      Json tag = {{"name", s.name}};
      const std::string& doc = s.description.empty() ? s.comment : s.description;
      if (!doc.empty()) tag["description"] = doc;
      tags.push_back(std::move(tag));
    }
  }
  return tags;
}

Json Components(openapi::Schemas& schemas) {
  Json security = {{"bearerAuth",
                    {{"type", "http"},
                     {"description", "A JWT issued by the auth service, with the caller's roles"},
                     {"scheme", "bearer"},
                     {"bearerFormat", "JWT"}}}};
  Json all = {{"Error", openapi::ErrorSchema()}};
  Json messages = schemas.Components();
  for (auto& [name, schema] : messages.items()) all[name] = std::move(schema);
  return {{"schemas", std::move(all)},
          {"responses", openapi::ErrorResponses()},
          {"securitySchemes", std::move(security)}};
}

Json Document(const model::Model& model, const model::File& file) {
  const std::vector<Route> routes = RoutesInView(model, file);
  openapi::Schemas schemas(model);
  Json paths = Json::object();
  for (const Route& r : routes) {
    const model::HttpRoute& h = *r.method->http;
    paths[h.named_path][LowerCase(h.verb)] = openapi::Operation(schemas, *r.service, *r.method);
  }
  const Json tags = Tags(routes, file, model);
  Json doc = Json::object();
  doc["openapi"] = "3.0.3";
  // JSON has no comments: the header is a key of its own, as in schema locks.
  doc["x-generated-by"] = "protoc-gen-cpp-svc: regenerate from the .proto, never edit by hand";
  doc["x-source"] = file.name;
  doc["info"] = Info(file, tags);
  doc["paths"] = std::move(paths);
  if (routes.empty()) return doc;
  doc["components"] = Components(schemas);
  doc["tags"] = tags;
  return doc;
}

}  // namespace

void EmitOpenApi(const EmitInput& in, Rendered& out) {
  // A comment need not be UTF-8 (protoc passes its bytes on): such bytes
  // become U+FFFD rather than stop the plugin.
  out.outputs.push_back(
      Document(in.model, in.file).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n");
}

}  // namespace cppsvc::emit
