#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "emit/artifacts.h"
#include "emit/cpp_layout.h"
#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/template.h"
#include "model/names.h"

namespace cppsvc::emit {

namespace {

std::string Literal(const std::string& s) {
  return CppLiteral(s);
}

std::string Number(double d) {
  char buf[64];
  if (std::trunc(d) == d && std::fabs(d) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.1f", d);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string s = buf;
  // A double literal, so the call is never ambiguous.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

class Writer {
 public:
  explicit Writer(const model::Model& model) : model_(model) {}

  // Statements (one string each, already laid out) validating `m`.
  std::vector<std::string> Body(const model::Message& m) {
    std::vector<std::string> out;
    for (const model::Field& f : m.fields) Field(f, out);
    return out;
  }

 private:
  std::string Call(size_t indent, const std::string& fn, std::vector<std::string> args) {
    return LayoutDeclaration(indent, "::cppsvc::impl::" + fn, args, ";");
  }

  // Rules on one value (a singular field or one element).
  void ValueChecks(const model::Field& f,
                   size_t indent,
                   const std::string& ref,
                   const std::string& value,
                   std::vector<std::string>& out) {
    const model::ValidationRules& r = f.validate;
    if (f.kind == model::FieldKind::kString) {
      if (r.min_len)
        out.push_back(Call(indent, "CheckMinLen", {"v", ref, value, std::to_string(*r.min_len)}));
      if (r.max_len)
        out.push_back(Call(indent, "CheckMaxLen", {"v", ref, value, std::to_string(*r.max_len)}));
      if (r.uuid) out.push_back(Call(indent, "CheckUuid", {"v", ref, value}));
      if (r.email) out.push_back(Call(indent, "CheckEmail", {"v", ref, value}));
      if (!r.pattern.empty()) {
        // The length rules go with the pattern: a value they refuse is never
        // matched.
        const std::string name = "kPattern" + std::to_string(++patterns_);
        std::vector<std::string> args = {Literal(r.pattern)};
        if (r.min_len || r.max_len) {
          args.push_back(std::to_string(r.min_len.value_or(0)));
          args.push_back(r.max_len ? std::to_string(*r.max_len)
                                   : "::cppsvc::impl::Pattern::kNoMaxLen");
        }
        out.push_back(
            LayoutDeclaration(indent, "static const ::cppsvc::impl::Pattern " + name, args, ";"));
        out.push_back(Call(indent, "CheckPattern", {"v", ref, value, name}));
      }
    } else if (f.kind == model::FieldKind::kBytes) {
      if (r.min_len)
        out.push_back(Call(indent, "CheckMinBytes", {"v", ref, value, std::to_string(*r.min_len)}));
      if (r.max_len)
        out.push_back(Call(indent, "CheckMaxBytes", {"v", ref, value, std::to_string(*r.max_len)}));
    } else if (model::IsNumeric(f.kind)) {
      if (r.gte) out.push_back(Call(indent, "CheckGte", {"v", ref, value, Number(*r.gte)}));
      if (r.gt) out.push_back(Call(indent, "CheckGt", {"v", ref, value, Number(*r.gt)}));
      if (r.lte) out.push_back(Call(indent, "CheckLte", {"v", ref, value, Number(*r.lte)}));
      if (r.lt) out.push_back(Call(indent, "CheckLt", {"v", ref, value, Number(*r.lt)}));
    } else if (f.kind == model::FieldKind::kEnum && r.enum_defined) {
      const auto& e = model_.enums.at(f.type_name);
      out.push_back(
          Call(indent, "CheckEnumDefined", {"v", ref, e.cpp_type + "_IsValid(" + value + ")"}));
    }
  }

  bool HasValueRules(const model::Field& f) const {
    const model::ValidationRules& r = f.validate;
    return r.min_len || r.max_len || r.uuid || r.email || !r.pattern.empty() || r.gte || r.gt ||
           r.lte || r.lt || r.enum_defined;
  }

  void Field(const model::Field& f, std::vector<std::string>& out) {
    const std::string acc = "m." + f.cpp_name + "()";
    const std::string ref = "{parent, " + Literal(f.name) + "}";
    const model::ValidationRules& r = f.validate;
    bool nested = f.kind == model::FieldKind::kMessage && !f.map && NeedsValidation(f.type_name);

    if (f.repeated) {
      const std::string size = "m." + f.cpp_name + "_size()";
      if (r.required) out.push_back(Call(2, "CheckMinItems", {"v", ref, size, "1"}));
      if (r.min_items)
        out.push_back(Call(2, "CheckMinItems", {"v", ref, size, std::to_string(*r.min_items)}));
      if (r.max_items)
        out.push_back(Call(2, "CheckMaxItems", {"v", ref, size, std::to_string(*r.max_items)}));
      if (f.map || (!HasValueRules(f) && !nested)) return;
      std::vector<std::string> inner;
      const std::string elem = "m." + f.cpp_name + "(i)";
      if (nested) {
        inner.push_back("    const ::cppsvc::impl::FieldRef ref{parent, " + Literal(f.name) +
                        ", i};");
        inner.push_back("    CppsvcValidate(" + elem + ", v, &ref);");
      } else {
        ValueChecks(f, 4, "{parent, " + Literal(f.name) + ", i}", elem, inner);
      }
      out.push_back("  for (int i = 0; i < " + size + "; ++i) {\n" + Join(inner) + "\n  }");
      return;
    }

    if (f.kind == model::FieldKind::kMessage) {
      if (r.required)
        out.push_back(Call(2, "CheckRequired", {"v", ref, "m.has_" + f.cpp_name + "()"}));
      if (nested) {
        out.push_back("  if (m.has_" + f.cpp_name +
                      "()) {\n    const ::cppsvc::impl::FieldRef ref{parent, " + Literal(f.name) +
                      "};\n    CppsvcValidate(" + acc + ", v, &ref);\n  }");
      }
      return;
    }

    if (f.proto3_optional) {
      if (r.required)
        out.push_back(Call(2, "CheckRequired", {"v", ref, "m.has_" + f.cpp_name + "()"}));
      std::vector<std::string> inner;
      ValueChecks(f, 4, ref, acc, inner);
      if (!inner.empty())
        out.push_back("  if (m.has_" + f.cpp_name + "()) {\n" + Join(inner) + "\n  }");
      return;
    }

    if (r.required) {
      std::string present =
          f.kind == model::FieldKind::kString || f.kind == model::FieldKind::kBytes
              ? "!" + acc + ".empty()"
          : f.kind == model::FieldKind::kBool ? acc
                                              : acc + " != 0";
      out.push_back(Call(2, "CheckRequired", {"v", ref, present}));
    }
    ValueChecks(f, 2, ref, acc, out);
  }

  static std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
    return out;
  }

 public:
  // True when `type` or a message it holds has validation rules.
  bool NeedsValidation(const std::string& type) {
    auto it = memo_.find(type);
    if (it != memo_.end()) return it->second;
    memo_[type] = false;  // breaks recursion through self-referencing types
    const model::Message* m = model_.FindMessage(type);
    bool needs = false;
    if (m != nullptr) {
      for (const model::Field& f : m->fields) {
        needs = needs || f.validate.Any() ||
                (f.kind == model::FieldKind::kMessage && !f.map && NeedsValidation(f.type_name));
      }
    }
    memo_[type] = needs;
    return needs;
  }

 private:
  const model::Model& model_;
  std::map<std::string, bool> memo_;
  int patterns_ = 0;
};

}  // namespace

bool NeedsValidation(const model::Model& model, const std::string& message) {
  return Writer(model).NeedsValidation(message);
}

void EmitValidate(const EmitInput& in, Rendered& out) {
  const model::Model& model = in.model;
  const model::File& file = in.file;
  Writer writer(model);
  std::set<std::string> includes = {file.pb_header};
  Data messages = List();
  for (const std::string& name : file.messages) {
    const model::Message& m = model.messages.at(name);
    if (m.map_entry || !writer.NeedsValidation(name)) continue;
    for (const model::Field& f : m.fields) {
      if (f.kind != model::FieldKind::kMessage || !writer.NeedsValidation(f.type_name)) continue;
      const std::string& other = model.messages.at(f.type_name).file;
      if (other != file.name) includes.insert(OutputPath(*model.FindFile(other), "validate", 0));
    }
    std::string type = CppTypeIn(model, file, name);
    Data view;
    view.set("declaration",
             LayoutDeclaration(0,
                               "void CppsvcValidate",
                               {"const " + type + "& m",
                                "::cppsvc::impl::Violations& v",
                                "const ::cppsvc::impl::FieldRef* parent = nullptr"},
                               ";"));
    view.set("definition",
             LayoutDeclaration(0,
                               "void CppsvcValidate",
                               {"const " + type + "& m",
                                "::cppsvc::impl::Violations& v",
                                "const ::cppsvc::impl::FieldRef* parent"},
                               " {"));
    view.set("comment",
             LayoutComment(0,
                           "Checks the validation rules of " + m.full_name +
                               ", adding every failure to `v` (paths below `parent`)."));
    Data body = List();
    for (const std::string& statement : writer.Body(m)) body.push_back(Data(statement));
    view.set("body", body);
    view.set("name", m.full_name);
    messages.push_back(view);
  }

  Data view;
  view.set("source", file.name);
  view.set("base", file.base);
  Data include_list = List();
  for (const std::string& inc : includes) include_list.push_back(Data(inc));
  view.set("includes", include_list);
  bool any = !messages.is_empty_list();
  view.set("has_namespace", !file.cpp_namespace.empty() && any);
  view.set("namespace", file.cpp_namespace);
  view.set("messages", messages);
  out.outputs.push_back(Render("validate/validate.h.mustache", view));
  out.outputs.push_back(Render("validate/validate.cc.mustache", view));
}

}  // namespace cppsvc::emit
