#include "emit/emitters.h"
#include "emit/template.h"

namespace cppsvc::emit {

void EmitMain(const EmitInput& in, Rendered& out) {
  const model::File& file = in.file;
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
