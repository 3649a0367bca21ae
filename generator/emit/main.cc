#include <set>

#include "emit/emitters.h"
#include "emit/template.h"

namespace cppsvc::emit {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void EmitGatewayMain(const EmitInput& in,
                     const std::vector<const model::Service*>& backends,
                     Rendered& out) {
  const model::File& file = in.file;
  Data view = ServiceFileView(file);
  view.set("has_namespace", Data(!file.cpp_namespace.empty()));
  view.set("qualifier", file.cpp_namespace.empty() ? "" : "::" + file.cpp_namespace + "::");
  view.set("name", file.base.substr(file.base.rfind('/') + 1));
  std::set<std::string> headers;  // sorted, as clang-format sorts includes
  Data list = List();
  for (const model::Service* s : backends) {
    const model::File* owner = in.model.FindFile(s->file);
    if (owner != nullptr) headers.insert(owner->base + ".cppsvc.gateway.h");
    const std::string ns =
        owner == nullptr || owner->cpp_namespace.empty() ? "" : owner->cpp_namespace + "::";
    Data b;
    b.set("full_name", s->full_name);
    b.set("env", Upper(s->short_name));
    b.set("port", std::to_string(s->effective_grpc_port));
    b.set("add", "::" + ns + "Add" + s->name + "Routes");
    list.push_back(b);
  }
  Data includes = List();
  for (const std::string& header : headers) includes.push_back(Data(header));
  view.set("includes", includes);
  view.set("backends", list);
  view.set("roles", RoleViews(in.model));
  view.set("openapi", Data(in.with_openapi));
  out.outputs.push_back(Render("main/gateway_main.cc.mustache", view));
}

}  // namespace

void EmitMain(const EmitInput& in, Rendered& out) {
  const model::File& file = in.file;
  const std::vector<const model::Service*> backends = GatewayBackends(in.model, file);
  if (!backends.empty()) return EmitGatewayMain(in, backends, out);
  Data view;
  view.set("source", file.name);
  view.set("base", file.base);
  view.set("has_services", Data(!file.services.empty()));
  view.set("has_namespace", Data(!file.cpp_namespace.empty()));
  view.set("namespace", file.cpp_namespace);
  view.set("qualifier", file.cpp_namespace.empty() ? "" : "::" + file.cpp_namespace + "::");
  Data services = List();
  for (size_t i = 0; i < file.services.size(); ++i) {
    Data sv;
    sv.set("server_class", file.services[i].server_class);
    sv.set("full_name", file.services[i].full_name);
    sv.set("last", Data(i + 1 == file.services.size()));
    services.push_back(sv);
  }
  view.set("services", services);
  out.outputs.push_back(Render("main/main.cc.mustache", view));
}

}  // namespace cppsvc::emit
