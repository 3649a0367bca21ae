// Roles and who may call an rpc: declared roles without cycles, deny by
// default, and row ownership.

#include <algorithm>

#include "model/checker.h"
#include "model/graph.h"

namespace cppsvc::model::checks {

void Checker::CheckRoles() {
  for (const File& file : model_.files) {
    for (const Role& role : file.roles) CheckRole(role);
  }
  CheckRoleCycles();
}

void Checker::CheckRole(const Role& role) {
  if (role.name.empty()) {
    Error(role.span, "role has no name");
    return;
  }
  if (!IsSnakeCaseName(role.name)) {
    Error(At(role.span, {{"name"}}),
          "role " + Quote(role.name) +
              ": role names are lowercase snake_case (letters, digits and '_', starting with a "
              "letter), as tokens carry them");
  }
  const Role* first = roles_.at(role.name);
  if (first != &role) {
    Error(role.span,
          "role " + Quote(role.name) + " is already declared at " + first->span.file + ":" +
              std::to_string(first->span.line));
  }
  for (size_t i = 0; i < role.includes.size(); ++i) {
    const std::string& inc = role.includes[i];
    const Span span = At(role.span, {{"includes"}, {"", int(i)}});
    CheckRoleRef(span, "role " + Quote(role.name) + " includes", inc);
    if (inc == role.name) Error(span, "role " + Quote(role.name) + " includes itself");
  }
}

// Inheritance cycles, each reported once, at the first role of the cycle
// in declaration order, with its path (including itself directly is
// reported on its own).
void Checker::CheckRoleCycles() {
  std::vector<const Role*> nodes;
  std::map<std::string, size_t> node_of;
  for (const auto& file : model_.files) {
    for (const Role& role : file.roles) {
      if (!role.name.empty() && roles_.at(role.name) == &role) {
        node_of.emplace(role.name, nodes.size());
        nodes.push_back(&role);
      }
    }
  }
  Graph out(nodes.size());
  for (size_t v = 0; v < nodes.size(); ++v) {
    for (const std::string& inc : nodes[v]->includes) {
      auto it = node_of.find(inc);
      if (it != node_of.end() && it->second != v) out[v].push_back(it->second);
    }
  }
  for (const std::vector<size_t>& component : Cycles(out)) {
    std::string path;
    for (size_t v : CyclePath(out, component))
      path += (path.empty() ? "" : " -> ") + nodes[v]->name;
    const Role& first = *nodes[component.front()];
    Error(first.span,
          "role " + Quote(first.name) + " includes itself through a cycle of includes: " + path);
  }
}

// Access is denied by default: an rpc without a rule is an error, not an
// open door.
void Checker::CheckAccessRule(const Service& s,
                              const Method& m,
                              const Span& span,
                              const std::string& what) {
  if (m.is_public && !m.roles.empty()) {
    Error(At(span, {{"public"}}), what + " is public and also lists roles: keep one of the two");
  }
  if (!m.is_public && m.roles.empty() && s.default_roles.empty()) {
    Error(m.has_options ? span : m.span,
          what +
              " has no access rule: add roles, public: true, or default_roles on the service "
              "(access is denied "
              "by default)");
  }
  for (size_t i = 0; i < m.roles.size(); ++i)
    CheckRoleRef(At(span, {{"roles"}, {"", int(i)}}), what, m.roles[i]);
}

void Checker::CheckOwnerField(const Method& m,
                              const Message& req,
                              const Message& resp,
                              const Span& span,
                              const std::string& what) {
  std::string why_req, why_resp;
  const Field* f = FieldPath(req, m.owner_field, why_req);
  if (f == nullptr) f = FieldPath(resp, m.owner_field, why_resp);
  if (f == nullptr) {
    // Explain along the message the path starts in.
    std::string first = m.owner_field.substr(0, m.owner_field.find('.'));
    bool in_resp = req.FindField(first) == nullptr && resp.FindField(first) != nullptr;
    Error(span,
          what + ": owner_field " + Quote(m.owner_field) + " is not a field of request " +
              Quote(req.name) + " or response " + Quote(resp.name) + ": " +
              (in_resp ? why_resp : why_req));
  } else if (!SingularString(*f)) {
    Error(span,
          what + ": owner_field " + Quote(m.owner_field) + " must be a singular string, found " +
              (f->repeated ? "repeated " : "") + KindName(f->kind));
  }
}

}  // namespace cppsvc::model::checks
