// Role-based access control: roles with inheritance, as declared in the
// contract with (cppsvc.v1.role).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cppsvc/context.h"

namespace cppsvc::auth {

struct RoleSpec {
  std::string name;
  std::vector<std::string> includes;
  bool bypass_ownership = false;
};

class RoleGraph {
 public:
  RoleGraph() = default;
  explicit RoleGraph(const std::vector<RoleSpec>& roles);

  // Every role `role` grants, itself included, following includes
  // transitively. Unknown roles grant only themselves.
  const std::set<std::string>& Expand(const std::string& role) const;

  // True when one of the caller's roles (expanded) is in `allowed`.
  bool Allows(const Caller& caller, const std::vector<std::string>& allowed) const;

  // True when one of the caller's roles (expanded) bypasses ownership.
  bool BypassesOwnership(const Caller& caller) const;

 private:
  std::map<std::string, std::set<std::string>> expanded_;
  std::set<std::string> bypass_;
};

}  // namespace cppsvc::auth
