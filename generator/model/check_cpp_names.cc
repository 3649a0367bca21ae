// protoc and grpc_cpp_plugin emit these names into C++ unchanged, so a
// keyword among them gives code that cannot compile.

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

}  // namespace cppsvc::model::checks
