// <file>.cppsvc_test.cc: GoogleTest suites derived from the contract. The
// expected status of every cell is computed here, from the model, so the
// tests check the runtime against an independent reading of the contract.
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/saga_view.h"
#include "emit/template.h"
#include "model/names.h"
#include "text/number.h"

namespace cppsvc::emit {
namespace {

constexpr const char* kUuid = "00000000-0000-4000-8000-000000000001";
constexpr const char* kEmail = "user@example.com";

// Role inheritance read from the roles' declarations. Deliberately not the
// model's resolved values: the expected cells must come from a reading of
// the contract independent of the one the generated server and runtime rely
// on, or a mistake in that one would be copied into the tests that should
// catch it. Walked backwards from the roles an rpc allows, once per set of
// roles, so a long chain of roles costs linear time, not a walk per role.
class RoleReading {
 public:
  explicit RoleReading(const model::Model& model) {
    std::set<std::string> declared;
    for (const model::File& f : model.files) {
      for (const model::Role& r : f.roles) {
        if (!declared.insert(r.name).second) continue;  // the first declaration counts
        for (const std::string& inc : r.includes) included_by_[inc].push_back(r.name);
        if (r.bypass_ownership) bypassing_.push_back(r.name);
      }
    }
  }

  // Whether `role` is, or includes (transitively), one of `allowed`.
  bool Holds(const std::string& role, const std::vector<std::string>& allowed) {
    return Holders(allowed).count(role) > 0;
  }
  // Whether `role` is, or includes, a role that bypasses ownership.
  bool Bypasses(const std::string& role) { return Holds(role, bypassing_); }

 private:
  const std::set<std::string>& Holders(const std::vector<std::string>& allowed) {
    std::string key;
    for (const std::string& a : allowed) key += a + '\n';
    auto [it, inserted] = holders_.try_emplace(key);
    if (!inserted) return it->second;
    std::set<std::string>& out = it->second;
    std::vector<std::string> pending = allowed;
    while (!pending.empty()) {
      std::string r = std::move(pending.back());
      pending.pop_back();
      if (!out.insert(r).second) continue;
      auto by = included_by_.find(r);
      if (by != included_by_.end())
        pending.insert(pending.end(), by->second.begin(), by->second.end());
    }
    return out;
  }

  std::map<std::string, std::vector<std::string>> included_by_;
  std::vector<std::string> bypassing_;
  std::map<std::string, std::set<std::string>> holders_;  // allowed roles, joined -> holders
};

bool IsUnsigned(model::FieldKind k) {
  return k == model::FieldKind::kUint32 || k == model::FieldKind::kUint64 ||
         k == model::FieldKind::kFixed32 || k == model::FieldKind::kFixed64;
}

bool Is32(model::FieldKind k) {
  return k == model::FieldKind::kInt32 || k == model::FieldKind::kSint32 ||
         k == model::FieldKind::kSfixed32 || k == model::FieldKind::kUint32 ||
         k == model::FieldKind::kFixed32;
}

// A C++ literal of `v` for a field of `kind` (a float's without its cast),
// or "" when not representable.
std::string NumberText(model::FieldKind kind, double v) {
  if (model::IsInteger(kind)) {
    if (std::trunc(v) != v) return "";
    double lo = IsUnsigned(kind) ? 0 : (Is32(kind) ? -2147483648.0 : -9.2e18);
    double hi = IsUnsigned(kind) ? (Is32(kind) ? 4294967295.0 : 1.8e19)
                                 : (Is32(kind) ? 2147483647.0 : 9.2e18);
    if (v < lo || v > hi) return "";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    std::string s = buf;
    if (!Is32(kind))
      s += IsUnsigned(kind) ? "ULL" : "LL";
    else if (IsUnsigned(kind))
      s += "U";
    return s;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// The values and statements below are view data: their C++ is written by
// contract_test/value.mustache and contract_test/statement.mustache.
Data ValueView(const char* kind) {
  return OneOf({"literal", "repeat", "cast"}, kind);
}

// A literal (a number, `true`, a quoted string) as it is written.
Data Literal(const std::string& text) {
  Data v = ValueView("literal");
  v.set("text", text);
  return v;
}

// std::string(count, 'c').
Data Repeated(size_t count, char c) {
  Data v = ValueView("repeat");
  v.set("count", std::to_string(count));
  v.set("char", std::string(1, c));
  return v;
}

// static_cast<type>(text).
Data Cast(const std::string& type, const std::string& text) {
  Data v = ValueView("cast");
  v.set("type", type);
  v.set("text", text);
  return v;
}

// `v` as a value of a field of `kind`; nothing when not representable.
std::optional<Data> NumberValue(model::FieldKind kind, double v) {
  std::string text = NumberText(kind, v);
  if (text.empty()) return std::nullopt;
  return kind == model::FieldKind::kFloat ? Cast("float", text) : Literal(text);
}

// A statement on `m`: `kind` is fill (FillValid of the field's message),
// touch (the field's message made present), assign (`value` set or
// added), clear, unused (`(void)m;`) or resize (`count` elements, each
// `element`).
Data Statement(const char* kind, const std::string& access = "", const std::string& field = "") {
  Data st = OneOf({"fill", "touch", "assign", "clear", "unused", "resize"}, kind);
  st.set("access", access);
  st.set("field", field);
  return st;
}

Data Assign(const std::string& access, const std::string& field, Data value) {
  Data st = Statement("assign", access, field);
  st.set("value", value);
  return st;
}

class Writer {
 public:
  Writer(const model::Model& model, const model::File& file) : model_(model), file_(file) {}

  std::string Type(const std::string& full_name) { return CppTypeIn(model_, file_, full_name); }

  // A value of a scalar field that passes its rules; nothing when none is
  // known.
  std::optional<Data> ValidScalar(const model::Field& f) {
    const model::ValidationRules& r = f.validate;
    if (f.kind == model::FieldKind::kString || f.kind == model::FieldKind::kBytes) {
      if (!r.example.empty()) return Literal(CppLiteral(r.example));
      if (r.uuid) return Literal(CppLiteral(kUuid));
      if (r.email) return Literal(CppLiteral(kEmail));
      if (!r.pattern.empty()) return std::nullopt;
      size_t n = std::max<size_t>(1, r.min_len.value_or(0));
      return Repeated(n, f.kind == model::FieldKind::kBytes ? 'b' : 'a');
    }
    if (model::IsNumeric(f.kind)) {
      bool integer = model::IsInteger(f.kind);
      std::optional<double> lo = r.gte, hi = r.lte;
      if (r.gt) lo = integer ? std::floor(*r.gt) + 1 : *r.gt + (r.lt ? (*r.lt - *r.gt) / 2 : 1);
      if (r.lt && !hi) hi = integer ? std::ceil(*r.lt) - 1 : *r.lt - (lo ? (*r.lt - *lo) / 2 : 1);
      double v = lo ? *lo : (hi ? std::min(*hi, 0.0) : 0.0);
      if (r.required && v == 0) v = lo || !hi || *hi >= 1 ? 1 : -1;
      return NumberValue(f.kind, v);
    }
    if (f.kind == model::FieldKind::kBool) return Literal("true");
    if (f.kind == model::FieldKind::kEnum) {
      const model::EnumType& e = model_.enums.at(f.type_name);
      for (const auto& [name, number] : e.values) {
        if (number != 0) return Cast(e.cpp_type, std::to_string(number));
      }
      return Cast(e.cpp_type, "0");
    }
    return std::nullopt;
  }

  bool NeedsFill(const std::string& type) {
    auto it = fill_memo_.find(type);
    if (it != fill_memo_.end()) return it->second;
    fill_memo_[type] = false;
    bool needs = NeedsValidation(model_, type);
    fill_memo_[type] = needs;
    return needs;
  }

  // One element added to repeated field `f`, valid; nothing when a scalar
  // element has no known valid value.
  std::optional<Data> AddValid(const model::Field& f) {
    if (f.kind == model::FieldKind::kMessage)
      return Statement(NeedsFill(f.type_name) ? "fill" : "touch", "add", f.cpp_name);
    std::optional<Data> v = ValidScalar(f);
    if (!v) return std::nullopt;
    return Assign("add", f.cpp_name, *v);
  }

  // Statements making `m` (of `type`) pass its rules; false when a field
  // has no derivable valid value (its reason in `why`).
  bool Fill(const std::string& type, std::vector<Data>& out, std::string& why) {
    const model::Message& m = model_.messages.at(type);
    for (const model::Field& f : m.fields) {
      const model::ValidationRules& r = f.validate;
      if (f.map) continue;
      if (f.repeated) {
        size_t count = std::max<size_t>(r.min_items.value_or(0), r.required ? 1 : 0);
        for (size_t i = 0; i < count; ++i) {
          std::optional<Data> add = AddValid(f);
          if (!add) return Unfillable(m, f, why);
          out.push_back(*add);
        }
        continue;
      }
      if (f.kind == model::FieldKind::kMessage) {
        if (NeedsFill(f.type_name))
          out.push_back(Statement("fill", "mutable", f.cpp_name));
        else if (r.required)
          out.push_back(Statement("touch", "mutable", f.cpp_name));
        continue;
      }
      if (!r.Any() || (f.proto3_optional && !r.required)) continue;
      std::optional<Data> v = ValidScalar(f);
      if (!v) return Unfillable(m, f, why);
      out.push_back(Assign("set", f.cpp_name, *v));
    }
    return true;
  }

  // Edge cases of one field's rules: {statement, expected violations}.
  struct Edge {
    std::string name;
    Data set;              // the statement on `m`
    std::string expected;  // "" = valid
  };
  std::vector<Edge> Edges(const model::Field& f) {
    std::vector<Edge> edges;
    const model::ValidationRules& r = f.validate;
    const std::string path = f.name;
    auto set = [&](const Data& v) { return Assign("set", f.cpp_name, v); };
    if (f.map) return edges;
    if (f.repeated) {
      std::optional<Data> element = AddValid(f);
      if (!element) return edges;
      auto resize = [&](size_t n) {
        Data st = Statement("resize", "", f.cpp_name);
        st.set("count", std::to_string(n));
        Data elements = List();
        elements.push_back(*element);
        st.set("element", elements);
        return st;
      };
      if (r.min_items && *r.min_items > 0) {
        edges.push_back({"min_items_inside", resize(*r.min_items), ""});
        edges.push_back({"min_items_outside",
                         resize(*r.min_items - 1),
                         path + ": must have at least " + std::to_string(*r.min_items) +
                             (*r.min_items == 1 ? " item" : " items")});
      }
      if (r.max_items) {
        edges.push_back({"max_items_inside", resize(*r.max_items), ""});
        edges.push_back({"max_items_outside",
                         resize(*r.max_items + 1),
                         path + ": must have at most " + std::to_string(*r.max_items) +
                             (*r.max_items == 1 ? " item" : " items")});
      }
      return edges;
    }
    bool text = f.kind == model::FieldKind::kString || f.kind == model::FieldKind::kBytes;
    bool formatted = r.uuid || r.email || !r.pattern.empty();
    const char* unit = f.kind == model::FieldKind::kBytes ? " bytes" : " characters";
    const char fill = f.kind == model::FieldKind::kBytes ? 'b' : 'a';
    auto str = [&](uint32_t n) { return Repeated(n, fill); };
    if (text && !formatted) {
      if (r.min_len && *r.min_len > 0) {
        edges.push_back({"min_len_inside", set(str(*r.min_len)), ""});
        // An empty required string is reported missing, and only that.
        std::string outside = *r.min_len == 1 && r.required ? path + ": is required"
                                                            : path + ": must be at least " +
                                                                  std::to_string(*r.min_len) + unit;
        edges.push_back({"min_len_outside", set(str(*r.min_len - 1)), outside});
      }
      if (r.max_len) {
        edges.push_back({"max_len_inside", set(str(*r.max_len)), ""});
        edges.push_back({"max_len_outside",
                         set(str(*r.max_len + 1)),
                         path + ": must be at most " + std::to_string(*r.max_len) + unit});
      }
    }
    if (f.kind == model::FieldKind::kString && r.uuid) {
      edges.push_back({"uuid_inside", set(Literal(CppLiteral(kUuid))), ""});
      edges.push_back(
          {"uuid_outside", set(Literal(CppLiteral("not-a-uuid"))), path + ": must be a UUID"});
    }
    if (f.kind == model::FieldKind::kString && r.email) {
      edges.push_back({"email_inside", set(Literal(CppLiteral(kEmail))), ""});
      edges.push_back({"email_outside",
                       set(Literal(CppLiteral("not-an-email"))),
                       path + ": must be a valid email address"});
    }
    if (model::IsNumeric(f.kind)) {
      bool integer = model::IsInteger(f.kind);
      auto num =
          [&](const char* rule, double bound, double inside, double outside, const char* op) {
            std::optional<Data> in = NumberValue(f.kind, inside);
            std::optional<Data> out = NumberValue(f.kind, outside);
            if (in) edges.push_back({std::string(rule) + "_inside", set(*in), ""});
            if (out) {
              edges.push_back({std::string(rule) + "_outside",
                               set(*out),
                               path + ": must be " + op + " " + text::Number(bound)});
            }
          };
      auto below = [&](double b) { return integer ? b - 1 : std::nextafter(b, -INFINITY); };
      auto above = [&](double b) { return integer ? b + 1 : std::nextafter(b, INFINITY); };
      if (r.gte) num("gte", *r.gte, *r.gte, below(*r.gte), ">=");
      if (r.gt) num("gt", *r.gt, above(*r.gt), *r.gt, ">");
      if (r.lte) num("lte", *r.lte, *r.lte, above(*r.lte), "<=");
      if (r.lt) num("lt", *r.lt, below(*r.lt), *r.lt, "<");
      if (f.kind == model::FieldKind::kFloat) {
        // A float cannot hold every double bound exactly: leave floats to
        // the runtime's own tests.
        edges.clear();
      }
      if (r.required && !f.proto3_optional) {
        bool zero_in_range = !(r.gte && *r.gte > 0) && !(r.gt && *r.gt >= 0) &&
                             !(r.lte && *r.lte < 0) && !(r.lt && *r.lt <= 0);
        std::optional<Data> zero = NumberValue(f.kind, 0);
        if (zero_in_range && zero)
          edges.push_back({"required_outside", set(*zero), path + ": is required"});
      }
    }
    if (f.kind == model::FieldKind::kEnum && r.enum_defined) {
      const model::EnumType& e = model_.enums.at(f.type_name);
      int max = 0;
      for (const auto& [name, number] : e.values) max = std::max(max, number);
      edges.push_back({"enum_defined_outside",
                       set(Cast(e.cpp_type, std::to_string(max + 1))),
                       path + ": must be a defined value"});
    }
    if (r.required && !f.proto3_optional && text) {
      // Missing, and only that: no "shorter than min_len" besides.
      edges.push_back({"required_outside", set(Literal(CppLiteral(""))), path + ": is required"});
    }
    if (r.required && f.proto3_optional) {
      edges.push_back(
          {"required_outside", Statement("clear", "", f.cpp_name), path + ": is required"});
    }
    if (r.required && f.kind == model::FieldKind::kMessage) {
      edges.push_back(
          {"required_outside", Statement("clear", "", f.cpp_name), path + ": is required"});
    }
    return edges;
  }

 private:
  bool Unfillable(const model::Message& m, const model::Field& f, std::string& why) {
    why = m.name + "." + f.name + " has a pattern and no example";
    return false;
  }

  const model::Model& model_;
  const model::File& file_;
  std::map<std::string, bool> fill_memo_;
};

// Every role of the system, sorted.
std::vector<std::string> SystemRoles(const model::Model& model) {
  std::vector<std::string> roles;
  for (const model::File& f : model.files) {
    for (const model::Role& r : f.roles) roles.push_back(r.name);
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

// The setter reached through `owner_field` (a dotted path) from a message
// of `type`, e.g. order.user_id -> <prefix>mutable_order()->set_user_id;
// "" when the path does not resolve in that type.
std::string OwnerSetter(const model::Model& model,
                        const std::string& owner_field,
                        const std::string& type,
                        const std::string& prefix) {
  const model::Message* msg = model.FindMessage(type);
  std::string out;
  size_t start = 0;
  while (msg != nullptr) {
    size_t dot = owner_field.find('.', start);
    const model::Field* f = msg->FindField(
        owner_field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (f == nullptr) return "";
    if (dot == std::string::npos) return prefix + out + "set_" + f->cpp_name;
    out += "mutable_" + f->cpp_name + "()->";
    msg = model.FindMessage(f->type_name);
    start = dot + 1;
  }
  return "";
}

// One cell of an access or ownership matrix.
Data CellView(const std::string& name, const std::string& role_literal, const char* code) {
  Data c;
  c.set("name", CppLiteral(name));
  c.set("role", role_literal);
  c.set("code", code);
  return c;
}

// The view data of one file's contract tests: the expected status of every
// cell is decided here, from an independent reading of the contract.
class SuiteWriter {
 public:
  SuiteWriter(const model::Model& model, const model::File& file)
      : model_(model), file_(file), w_(model, file), roles_(SystemRoles(model)), reading_(model) {}

  // FillValid for every message a test needs, in dependency order.
  Data Fills() {
    std::vector<std::string> order;
    std::set<std::string> seen;
    std::function<void(const std::string&)> need = [&](const std::string& type) {
      if (!seen.insert(type).second) return;
      for (const model::Field& f : model_.messages.at(type).fields) {
        if (f.kind == model::FieldKind::kMessage && !f.map && w_.NeedsFill(f.type_name))
          need(f.type_name);
      }
      order.push_back(type);
    };
    for (const model::Service& s : file_.services) {
      for (const model::Method& m : s.methods) {
        if (w_.NeedsFill(m.input)) need(m.input);
      }
    }
    Data fills = List();
    for (const std::string& type : order) {
      std::vector<Data> body;
      std::string why;
      if (!w_.Fill(type, body, why)) {
        unfillable_[type] = why;
        continue;
      }
      // A request with nothing to fill in: -Wunused-parameter.
      if (body.empty()) body.push_back(Statement("unused"));
      Data fv;
      fv.set("type", w_.Type(type));
      fv.set("name", type);
      Data lines = List();
      for (const Data& st : body) lines.push_back(st);
      fv.set("body", lines);
      fills.push_back(fv);
    }
    return fills;
  }

  // Whether any RPC of the file got an idempotent-replay case.
  bool has_replays() const { return has_replays_; }

  Data Service(const model::Service& s) {
    Data sv;
    sv.set("name", s.name);
    sv.set("base_class", s.base_class);
    sv.set("server_class", s.server_class);
    sv.set("fixture", s.contract_test_class);
    Data handlers = List();
    Data access = List();
    for (const model::Method& m : s.methods) {
      if (m.client_streaming || m.server_streaming) continue;
      handlers.push_back(Handler(m));
      access.push_back(Access(s, m));
    }
    sv.set("handlers", handlers);
    sv.set("access", access);
    sv.set("events", Events(s));
    sv.set("validations", Validations(s));
    AddSagas(s, sv);
    return sv;
  }

  // Whether any service of the file owns or takes part in a saga.
  bool has_sagas() const { return has_sagas_; }

 private:
  // Why a request of `type` cannot be filled ("" when it can).
  std::string WhyUnfillable(const std::string& type) const {
    for (const model::Field& f : model_.messages.at(type).fields) {
      if (f.kind == model::FieldKind::kMessage && !f.map && unfillable_.count(f.type_name)) {
        return unfillable_.at(f.type_name);
      }
    }
    auto it = unfillable_.find(type);
    return it == unfillable_.end() ? "" : it->second;
  }

  bool Allowed(const model::Method& m, const std::string& role) {
    return reading_.Holds(role, m.effective_roles);
  }

  // The handler of AcceptAll<Service>: a response owner field is set to the
  // caller (or to the foreign owner a test asks for).
  Data Handler(const model::Method& m) {
    Data h;
    h.set("rpc", m.name);
    h.set("request", w_.Type(m.input));
    h.set("response", w_.Type(m.output));
    bool response_owner =
        !m.owner_field.empty() && OwnerSetter(model_, m.owner_field, m.input, "request.").empty();
    h.set("response_owner", response_owner);
    if (response_owner) {
      h.set("owner_setter", OwnerSetter(model_, m.owner_field, m.output, "response."));
    }
    return h;
  }

  Data Access(const model::Service& s, const model::Method& m) {
    Data a;
    a.set("rpc", m.name);
    a.set("service", s.name);
    a.set("request", w_.Type(m.input));
    std::string skip = WhyUnfillable(m.input);
    a.set("skip", !skip.empty());
    a.set("skip_reason", CppLiteral(skip));
    a.set("fillable", w_.NeedsFill(m.input) && skip.empty());
    std::string owner_chain =
        m.owner_field.empty() ? "" : OwnerSetter(model_, m.owner_field, m.input, "request.");
    a.set("request_owner", !owner_chain.empty());
    a.set("owner_chain", owner_chain);

    Data cells = List();
    std::string bad_role;
    for (const std::string& role : roles_) {
      bool ok = m.is_public || Allowed(m, role);
      if (ok && bad_role.empty()) bad_role = role;
      cells.push_back(CellView("role " + role, CppLiteral(role), ok ? "OK" : "PERMISSION_DENIED"));
    }
    cells.push_back(CellView("no token", "nullptr", m.is_public ? "OK" : "UNAUTHENTICATED"));
    a.set("cells", cells);
    a.set("bad_role", bad_role.empty() ? "nullptr" : CppLiteral(bad_role));
    a.set("bad_code", m.is_public ? "OK" : "UNAUTHENTICATED");

    // Ownership: acting on someone else's resource gets the service's
    // foreign_resources answer.
    const char* foreign = s.effective_foreign_resources == ForeignResources::kNotFound
                              ? "NOT_FOUND"
                              : "PERMISSION_DENIED";
    Data owner_cells = List();
    if (!m.owner_field.empty() && !m.is_public) {
      for (const std::string& role : roles_) {
        if (!Allowed(m, role)) continue;
        owner_cells.push_back(
            CellView("role " + role, CppLiteral(role), reading_.Bypasses(role) ? "OK" : foreign));
      }
    }
    a.set("has_owner_cells", !owner_cells.is_empty_list());
    a.set("owner_cells", owner_cells);
    const bool replay = skip.empty() && Replay(s, m, foreign, a);
    a.set("has_replay", replay);
    has_replays_ = has_replays_ || replay;
    return a;
  }

  // The idempotent-replay case of an RPC with an idempotency_key and an
  // owner_field: a caller's repeat is answered from the stored response, and
  // another caller sending the same key never gets that response. Needs the
  // service's database, and a role that may call the RPC without bypassing
  // ownership.
  bool Replay(const model::Service& s, const model::Method& m, const char* foreign, Data& a) {
    if (s.database.empty() || m.idempotency_key.empty() || m.owner_field.empty() || m.is_public)
      return false;
    std::string role;
    for (const std::string& r : roles_) {
      if (role.empty() && Allowed(m, r) && !reading_.Bypasses(r)) role = r;
    }
    const std::string chain = AccessorChain(model_, m.output, m.owner_field);
    const std::string getter = chain.empty() ? "" : "response" + chain;
    const bool request_owner = !AccessorChain(model_, m.input, m.owner_field).empty();
    if (role.empty() || (!request_owner && getter.empty())) return false;
    a.set("server_class", s.server_class);
    a.set("response", w_.Type(m.output));
    a.set("replay_role", CppLiteral(role));
    a.set("owner_getter", getter);
    a.set("foreign_code", foreign);
    return true;
  }

  // Saga step stubs and hooks of AcceptAll, and the saga cases.
  void AddSagas(const model::Service& s, Data& sv) {
    Data steps = SagaStepsView(model_, file_, s);
    Data owned = OwnedSagasView(model_, file_, s);
    sv.set("service_name", s.name);
    sv.set("saga_steps", steps);
    sv.set("has_saga_steps", Data(!steps.is_empty_list()));
    sv.set("owned_sagas", owned);
    has_sagas_ = has_sagas_ || !s.saga_routes.empty();
  }

  // Subscribed events: the handler base needs them implemented too.
  Data Events(const model::Service& s) {
    Data events = List();
    for (const model::Subscription& sub : s.subscriptions) {
      if (model_.FindEvent(sub.event) == nullptr) continue;
      Data e;
      e.set("handler", sub.handler);
      e.set("event", w_.Type(sub.event));
      events.push_back(e);
    }
    return events;
  }

  // Validation edges of every request type's own fields.
  Data Validations(const model::Service& s) {
    Data validations = List();
    std::set<std::string> done;
    for (const model::Method& m : s.methods) {
      if (!done.insert(m.input).second || !w_.NeedsFill(m.input) || !WhyUnfillable(m.input).empty())
        continue;
      const model::Message& msg = model_.messages.at(m.input);
      for (const model::Field& f : msg.fields) {
        std::vector<Writer::Edge> edges = w_.Edges(f);
        if (edges.empty()) continue;
        Data v;
        v.set("test", msg.name + "_" + model::PascalCase(f.name));
        v.set("type", w_.Type(m.input));
        Data cases = List();
        for (const Writer::Edge& e : edges) {
          Data c;
          c.set("name", CppLiteral(e.name));
          c.set("set", e.set);
          c.set("expected", CppLiteral(e.expected));
          cases.push_back(c);
        }
        v.set("cases", cases);
        validations.push_back(v);
      }
    }
    return validations;
  }

  const model::Model& model_;
  const model::File& file_;
  Writer w_;
  std::vector<std::string> roles_;
  RoleReading reading_;
  std::map<std::string, std::string> unfillable_;  // type -> why
  bool has_replays_ = false;
  bool has_sagas_ = false;
};

}  // namespace

void EmitContractTest(const EmitInput& in, Rendered& out) {
  SuiteWriter suite(in.model, in.file);
  Data view = ServiceFileView(in.file);
  view.set("fills", suite.Fills());  // first: it finds the unfillable types
  Data services = List();
  for (const model::Service& s : in.file.services) services.push_back(suite.Service(s));
  view.set("services", services);
  view.set("has_sagas", suite.has_sagas());
  view.set("has_database_tests", suite.has_replays() || suite.has_sagas());
  out.outputs.push_back(Render("contract_test/contract_test.cc.mustache", view));
}

}  // namespace cppsvc::emit
