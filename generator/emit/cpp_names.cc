#include "emit/cpp_names.h"

#include <cstdio>

namespace cppsvc::emit {

std::string CppTypeIn(const model::Model& model,
                      const model::File& file,
                      const std::string& full_name) {
  const model::Message& m = model.messages.at(full_name);
  std::string prefix = file.cpp_namespace.empty() ? "::" : "::" + file.cpp_namespace + "::";
  if (m.package == file.package && m.cpp_type.rfind(prefix, 0) == 0)
    return m.cpp_type.substr(prefix.size());
  return m.cpp_type;
}

std::string AccessorChain(const model::Model& model,
                          const std::string& message,
                          const std::string& path) {
  const model::Message* m = model.FindMessage(message);
  std::string chain;
  size_t start = 0;
  while (m != nullptr) {
    size_t dot = path.find('.', start);
    const model::Field* f = m->FindField(
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (f == nullptr) return "";
    chain += "." + f->cpp_name + "()";
    if (dot == std::string::npos) return chain;
    m = model.FindMessage(f->type_name);
    start = dot + 1;
  }
  return "";
}

std::string CppLiteral(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

Data RpcView(const model::Model& model,
             const model::File& file,
             const model::Service& s,
             const model::Method& m) {
  Data v;
  v.set("name", m.name);
  v.set("constant", "k" + s.name + "_" + m.name);
  v.set("full_name", s.full_name + "/" + m.name);
  v.set("request", CppTypeIn(model, file, m.input));
  v.set("response", CppTypeIn(model, file, m.output));
  v.set("timeout", std::to_string(m.effective_timeout_ms));
  v.set("idempotent", Data(m.effective_idempotent));
  return v;
}

}  // namespace cppsvc::emit
