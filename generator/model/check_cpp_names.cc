// protoc and grpc_cpp_plugin emit these names into C++ unchanged, so a
// keyword among them gives code that cannot compile.

#include <algorithm>

#include "model/checker.h"
#include "model/names.h"

namespace cppsvc::model::checks {

void Checker::CheckCppNames(const File& file) {
  CheckPackageName(file);
  for (const Service& s : file.services) {
    if (IsCppKeyword(s.name)) {
      Error(s.span,
            "service " + Quote(s.name) +
                ": the name is a C++ keyword, which grpc's C++ output cannot use");
    }
    for (const Method& m : s.methods) CheckMethodCppNames(s, m);
  }
}

void Checker::CheckPackageName(const File& file) {
  size_t start = 0;
  while (start < file.package.size()) {
    size_t dot = file.package.find('.', start);
    std::string part =
        file.package.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (IsCppKeyword(part)) {
      Error(file.package_span,
            "package " + Quote(file.package) + ": " + Quote(part) +
                " is a C++ keyword, which protoc's C++ output cannot use as a namespace");
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
}

void Checker::CheckMethodCppNames(const Service& s, const Method& m) {
  std::string what = "rpc " + Quote(s.name + "." + m.name);
  if (IsCppKeyword(m.name))
    Error(m.span, what + ": the name is a C++ keyword, which grpc's C++ output cannot use");
  for (const std::string* type : {&m.input, &m.output}) {
    const Message* msg = model_.FindMessage(*type);
    if (msg == nullptr) continue;
    std::string relative =
        msg->package.empty() ? msg->full_name : msg->full_name.substr(msg->package.size() + 1);
    std::string outer = relative.substr(0, relative.find('.'));
    if (IsCppKeyword(outer)) {
      Error(m.span,
            what + ": message type " + Quote(msg->full_name) + " is named with the C++ keyword " +
                Quote(outer) + ", which grpc's C++ output cannot spell");
    }
  }
}

namespace {

// Classes the plugin generates into a package's namespace, by name: a
// message of the package with one of these names would be declared twice.
std::map<std::string, std::string> GeneratedClasses(const Model& model,
                                                    const std::string& package) {
  std::map<std::string, std::string> classes;  // name -> what it is generated for
  for (const File& file : model.files) {
    if (file.package != package) continue;
    for (const Service& s : file.services) {
      const std::string of = " of service " + Quote(s.name);
      classes.emplace(s.base_class, "the handler base class" + of);
      classes.emplace(s.server_class, "the server" + of);
      classes.emplace(s.client_class, "the client" + of);
      classes.emplace(s.contract_test_class, "the contract tests' fixture" + of);
      classes.emplace("AcceptAll" + s.name, "the contract tests' handlers" + of);
    }
    for (const std::string& name : file.messages) {
      const Message& m = model.messages.at(name);
      if (m.table)
        classes.emplace(m.table->repository_class,
                        "the repository of table message " + Quote(m.name));
    }
  }
  return classes;
}

}  // namespace

void Checker::CheckGeneratedClassNames() {
  std::map<std::string, std::map<std::string, std::string>> by_package;
  for (const File& file : model_.files) {
    if (!file.generate) continue;
    auto [it, inserted] = by_package.try_emplace(file.package);
    if (inserted) it->second = GeneratedClasses(model_, file.package);
    for (const std::string& name : file.messages) {
      const Message& m = model_.messages.at(name);
      // protoc's C++ class of a nested message joins the names with '_'.
      std::string cpp = m.package.empty() ? m.full_name : m.full_name.substr(m.package.size() + 1);
      std::replace(cpp.begin(), cpp.end(), '.', '_');
      auto clash = it->second.find(cpp);
      if (clash == it->second.end()) continue;
      Error(m.span,
            "message " + Quote(m.full_name) + ": its C++ class " + Quote(cpp) +
                " has the name of " + clash->second +
                ", generated in the same namespace: rename the message");
    }
  }
}

}  // namespace cppsvc::model::checks
