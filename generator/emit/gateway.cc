#include <cstdio>

#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/template.h"
#include "text/number.h"

namespace cppsvc::emit {
namespace {

// What describes one route, before gateway.Add
// (templates/gateway/gateway.cc.mustache writes the statements).
Data RouteView(const model::Service& s, const model::Method& m) {
  Data v;
  v.set("rpc", m.name);
  v.set("service", s.name);
  v.set("client_class", s.client_class);
  v.set("route", m.http->verb + " " + m.http->path);
  v.set("rpc_literal", CppLiteral(m.name));
  v.set("verb_literal", CppLiteral(m.http->verb));
  v.set("path_literal", CppLiteral(m.http->path));
  v.set("has_body", !m.http->body.empty());
  v.set("body_literal", CppLiteral(m.http->body));
  v.set("has_response_body", !m.http->response_body.empty());
  v.set("response_body_literal", CppLiteral(m.http->response_body));
  v.set("is_public", m.is_public);
  v.set("has_roles", !m.is_public && !m.effective_roles.empty());
  Data roles = List();
  for (size_t i = 0; i < m.effective_roles.size(); ++i) {
    Data role;
    role.set("role", CppLiteral(m.effective_roles[i]));
    role.set("last", i + 1 == m.effective_roles.size());
    roles.push_back(role);
  }
  v.set("roles", roles);
  v.set("has_rate_limit", m.rate_limit.has_value());
  if (m.rate_limit) {
    v.set("rate_per_second", text::Number(m.rate_limit->requests_per_second));
    v.set("rate_burst", std::to_string(m.rate_limit->burst));
    v.set("rate_key_literal", CppLiteral(m.rate_limit->key));
  }
  return v;
}

}  // namespace

bool HasRoutes(const model::Service& s) {
  for (const model::Method& m : s.methods)
    if (m.http && !m.client_streaming && !m.server_streaming) return true;
  return false;
}

std::vector<const model::Service*> GatewayBackends(const model::Model& model,
                                                   const model::File& file) {
  std::vector<const model::Service*> out;
  if (!file.services.empty()) return out;
  for (const model::Service* s : model.ServicesInView(file))
    if (HasRoutes(*s)) out.push_back(s);
  return out;
}

void EmitGateway(const EmitInput& in, Rendered& out) {
  const model::File& file = in.file;
  Data services = List();
  bool has_routes = false;
  for (const model::Service& s : file.services) {
    if (!HasRoutes(s)) continue;
    has_routes = true;
    Data sv;
    sv.set("name", s.name);
    sv.set("full_name", s.full_name);
    sv.set("client_class", s.client_class);
    Data routes = List();
    for (const model::Method& m : s.methods)
      if (m.http && !m.client_streaming && !m.server_streaming) routes.push_back(RouteView(s, m));
    sv.set("routes", routes);
    services.push_back(sv);
  }
  Data view;
  view.set("source", file.name);
  view.set("base", file.base);
  view.set("has_routes", Data(has_routes));
  view.set("has_namespace", Data(!file.cpp_namespace.empty()));
  view.set("namespace", file.cpp_namespace);
  view.set("services", services);
  out.outputs.push_back(Render("gateway/gateway.h.mustache", view));
  out.outputs.push_back(Render("gateway/gateway.cc.mustache", view));
}

}  // namespace cppsvc::emit
