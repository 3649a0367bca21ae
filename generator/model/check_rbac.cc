// Roles and who may call an rpc: declared roles without cycles, deny by
// default, and row ownership.

#include <algorithm>

#include "model/checker.h"

namespace cppsvc::model::checks {

void Checker::CheckRoles() {
  std::map<std::string, const Role*> seen;
  for (const File& file : model_.files) {
    for (const Role& role : file.roles) {
      if (role.name.empty()) {
        Error(role.span, "role has no name");
        continue;
      }
      auto [it, inserted] = seen.emplace(role.name, &role);
      if (!inserted) {
        Error(role.span,
              "role " + Quote(role.name) + " is already declared at " + it->second->span.file +
                  ":" + std::to_string(it->second->span.line));
      }
      for (const std::string& inc : role.includes) {
        CheckRoleRef(role.span, "role " + Quote(role.name) + " includes", inc);
        if (inc == role.name) Error(role.span, "role " + Quote(role.name) + " includes itself");
      }
    }
  }
  for (const auto& [name, role] : seen) {
    if (InCycle(*role)) {
      Error(role->span, "role " + Quote(name) + " includes itself through a cycle of includes");
    }
  }
}

// Whether another role that `role` includes grants it back (including
// itself directly is reported on its own).
bool Checker::InCycle(const Role& role) const {
  return std::any_of(role.includes.begin(), role.includes.end(), [&](const std::string& inc) {
    const Role* r = inc == role.name ? nullptr : model_.FindRole(inc);
    return r != nullptr && std::binary_search(r->grants.begin(), r->grants.end(), role.name);
  });
}

// Access is denied by default: an rpc without a rule is an error, not an
// open door.
void Checker::CheckAccessRule(const Service& s,
                              const Method& m,
                              const Span& span,
                              const std::string& what) {
  if (m.is_public && !m.roles.empty()) {
    Error(span, what + " is public and also lists roles: keep one of the two");
  }
  if (!m.is_public && m.roles.empty() && s.default_roles.empty()) {
    Error(m.has_options ? span : m.span,
          what +
              " has no access rule: add roles, public: true, or default_roles on the service "
              "(access is denied "
              "by default)");
  }
  for (const std::string& r : m.roles) CheckRoleRef(span, what, r);
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
