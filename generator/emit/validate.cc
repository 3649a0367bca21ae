#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "emit/artifacts.h"
#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/template.h"
#include "model/names.h"
#include "text/join.h"
#include "text/number.h"

namespace cppsvc::emit {

namespace {

// `d` as a double literal, so the call is never ambiguous.
std::string Number(double d) {
  std::string s = text::Number(d);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// What a check reads of field `f`: `of` is get (`m.f()`), at_i (`m.f(i)`),
// size, has, not_empty or nonzero; templates/validate/value.mustache
// writes it. Every key is set, so none resolves to the check's own.
Data Value(const model::Field& f, const char* of) {
  Data v = OneOf({"get", "at_i", "size", "has", "not_empty", "nonzero"}, of);
  v.set("field", f.cpp_name);
  v.set("enum_valid", false);
  v.set("enum_type", std::string());
  return v;
}

// View data of the checks of one message; the statements are in
// templates/validate/.
class Writer {
 public:
  explicit Writer(const model::Model& model) : model_(model) {}

  Data Fields(const model::Message& m) {
    Data out = List();
    for (const model::Field& f : m.fields) out.push_back(Field(f));
    return out;
  }

 private:
  // One check call; every key the template reads is set, so none resolves
  // to an outer value of the same name.
  static Data Check(const std::string& check,
                    const model::Field& f,
                    bool inner,
                    bool element,
                    const Data& value,
                    const std::string& arg = "") {
    Data c;
    c.set("check", check);
    c.set("proto_name", f.name);
    c.set("inner", inner);
    c.set("element", element);
    c.set("value", value);
    if (!arg.empty()) c.set("arg", arg);
    return c;
  }

  // Rules on one value (a singular field or one element).
  void ValueChecks(const model::Field& f, bool inner, bool element, const Data& value, Data& out) {
    const model::ValidationRules& r = f.validate;
    auto add = [&](const std::string& check, const std::string& arg = "") {
      out.push_back(Check(check, f, inner, element, value, arg));
    };
    if (f.kind == model::FieldKind::kString) {
      if (r.min_len) add("CheckMinLen", std::to_string(*r.min_len));
      if (r.max_len) add("CheckMaxLen", std::to_string(*r.max_len));
      if (r.uuid) add("CheckUuid");
      if (r.email) add("CheckEmail");
      if (!r.pattern.empty()) {
        // The length rules go with the pattern: a value they refuse is never
        // matched.
        const std::string name = "kPattern" + std::to_string(++patterns_);
        std::vector<std::string> args = {CppLiteral(r.pattern)};
        if (r.min_len || r.max_len) {
          args.push_back(std::to_string(r.min_len.value_or(0)));
          args.push_back(r.max_len ? std::to_string(*r.max_len)
                                   : "::cppsvc::impl::Pattern::kNoMaxLen");
        }
        Data c = Check("CheckPattern", f, inner, element, value, name);
        c.set("pattern", name);
        c.set("pattern_args", text::Join(args, ", "));
        out.push_back(c);
      }
    } else if (f.kind == model::FieldKind::kBytes) {
      if (r.min_len) add("CheckMinBytes", std::to_string(*r.min_len));
      if (r.max_len) add("CheckMaxBytes", std::to_string(*r.max_len));
    } else if (model::IsNumeric(f.kind)) {
      if (r.gte) add("CheckGte", Number(*r.gte));
      if (r.gt) add("CheckGt", Number(*r.gt));
      if (r.lte) add("CheckLte", Number(*r.lte));
      if (r.lt) add("CheckLt", Number(*r.lt));
    } else if (f.kind == model::FieldKind::kEnum && r.enum_defined) {
      const auto& e = model_.enums.at(f.type_name);
      Data valid = value;
      valid.set("enum_valid", true);
      valid.set("enum_type", e.cpp_type);
      out.push_back(Check("CheckEnumDefined", f, inner, element, valid));
    }
  }

  bool HasValueRules(const model::Field& f) const {
    const model::ValidationRules& r = f.validate;
    return r.min_len || r.max_len || r.uuid || r.email || !r.pattern.empty() || r.gte || r.gt ||
           r.lte || r.lt || r.enum_defined;
  }

  Data Field(const model::Field& f) {
    const model::ValidationRules& r = f.validate;
    bool nested = f.kind == model::FieldKind::kMessage && !f.map && NeedsValidation(f.type_name);
    Data checks = List(), element_checks = List(), present_checks = List();
    bool each_element = false, nested_message = false;
    if (f.repeated) {
      const Data size = Value(f, "size");
      if (r.required) checks.push_back(Check("CheckMinItems", f, false, false, size, "1"));
      if (r.min_items) {
        checks.push_back(
            Check("CheckMinItems", f, false, false, size, std::to_string(*r.min_items)));
      }
      if (r.max_items) {
        checks.push_back(
            Check("CheckMaxItems", f, false, false, size, std::to_string(*r.max_items)));
      }
      each_element = !f.map && (HasValueRules(f) || nested);
      if (each_element && !nested) ValueChecks(f, true, true, Value(f, "at_i"), element_checks);
    } else if (f.kind == model::FieldKind::kMessage) {
      if (r.required) checks.push_back(Check("CheckRequired", f, false, false, Value(f, "has")));
      nested_message = nested;
    } else if (f.proto3_optional) {
      if (r.required) checks.push_back(Check("CheckRequired", f, false, false, Value(f, "has")));
      ValueChecks(f, true, false, Value(f, "get"), present_checks);
    } else {
      if (r.required) {
        const char* present =
            f.kind == model::FieldKind::kString || f.kind == model::FieldKind::kBytes ? "not_empty"
            : f.kind == model::FieldKind::kBool                                       ? "get"
                                                                                      : "nonzero";
        checks.push_back(Check("CheckRequired", f, false, false, Value(f, present)));
      }
      ValueChecks(f, false, false, Value(f, "get"), checks);
    }
    Data v;
    v.set("field", f.cpp_name);
    v.set("proto_name", f.name);
    v.set("checks", checks);
    v.set("each_element", each_element);
    v.set("nested", nested);
    v.set("element_checks", element_checks);
    v.set("nested_message", nested_message);
    v.set("has_present_checks", !present_checks.is_empty_list());
    v.set("present_checks", present_checks);
    return v;
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
    Data view;
    view.set("type", CppTypeIn(model, file, name));
    view.set("fields", writer.Fields(m));
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
