#include "emit/cpp_layout.h"
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
  std::string names;
  for (const model::Service& s : file.services) {
    Data sv;
    sv.set("server_class", s.server_class);
    services.push_back(sv);
    names += (names.empty() ? "" : ", ") + s.full_name;
  }
  view.set("services", services);
  view.set("comment",
           LayoutComment(0,
                         "Runs " + names +
                             " until SIGTERM. The handlers are the class registered "
                             "with CPPSVC_REGISTER_HANDLERS; configuration comes from "
                             "the environment."));
  out.outputs.push_back(Render("main/main.cc.mustache", view));
}

}  // namespace cppsvc::emit
