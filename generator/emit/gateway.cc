#include <cstdio>

#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/template.h"

namespace cppsvc::emit {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string RoleList(const std::vector<std::string>& roles) {
  std::string out = "{";
  for (size_t i = 0; i < roles.size(); ++i) out += (i ? ", " : "") + CppLiteral(roles[i]);
  return out + "}";
}

// The statements that describe one route, before gateway.Add.
Data RouteView(const model::Service& s, const model::Method& m) {
  Data v;
  v.set("rpc", m.name);
  v.set("client_class", s.client_class);
  v.set("route", m.http->verb + " " + m.http->path);
  std::vector<std::string> lines = {"::cppsvc::impl::SetRoute(r, k" + s.name + ", " +
                                    CppLiteral(m.name) + ", " + CppLiteral(m.http->verb) + ", " +
                                    CppLiteral(m.http->path) + ");"};
  if (!m.http->body.empty()) lines.push_back("r.body = " + CppLiteral(m.http->body) + ";");
  if (!m.http->response_body.empty())
    lines.push_back("r.response_body = " + CppLiteral(m.http->response_body) + ";");
  if (m.is_public) lines.push_back("r.is_public = true;");
  if (!m.is_public && !m.effective_roles.empty())
    lines.push_back("r.roles = " + RoleList(m.effective_roles) + ";");
  if (m.rate_limit) {
    lines.push_back("r.rate_limit = {" + Number(m.rate_limit->requests_per_second) + ", " +
                    std::to_string(m.rate_limit->burst) + ", " + CppLiteral(m.rate_limit->key) +
                    "};");
  }
  Data statements = List();
  for (const std::string& line : lines) statements.push_back(Data(line));
  v.set("statements", statements);
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
