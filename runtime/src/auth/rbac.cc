#include "cppsvc/auth/rbac.h"

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cppsvc::auth {
namespace {

// Expand() returns a reference, so the singleton set of a role the graph does
// not know must outlive the call. Nodes of a std::map are never moved, and
// entries are never erased: references stay valid for the process lifetime.
// Only names actually passed to Expand() land here (role names come from
// signed tokens and the contract, so the set stays small).
const std::set<std::string>& UnknownRoleSet(const std::string& role) {
  static std::mutex mu;
  static auto* singletons = new std::map<std::string, std::set<std::string>>();  // never destroyed
  std::lock_guard<std::mutex> lock(mu);
  auto it = singletons->find(role);
  if (it == singletons->end()) it = singletons->emplace(role, std::set<std::string>{role}).first;
  return it->second;
}

}  // namespace

RoleGraph::RoleGraph(const std::vector<RoleSpec>& roles) {
  // Direct includes per role; duplicate declarations are merged.
  std::map<std::string, std::set<std::string>> direct;
  for (const RoleSpec& spec : roles) {
    auto& includes = direct[spec.name];
    includes.insert(spec.includes.begin(), spec.includes.end());
    if (spec.bypass_ownership) bypass_.insert(spec.name);
  }
  // Transitive closure by an explicit worklist: the visited set makes it
  // terminate on cycles (a includes b includes a) and self-includes.
  for (const auto& [name, unused] : direct) {
    std::set<std::string> seen{name};
    std::vector<std::string> pending{name};
    while (!pending.empty()) {
      const std::string current = std::move(pending.back());
      pending.pop_back();
      auto it = direct.find(current);
      if (it == direct.end()) continue;  // included but undeclared: grants only itself
      for (const std::string& inc : it->second) {
        if (seen.insert(inc).second) pending.push_back(inc);
      }
    }
    expanded_.emplace(name, std::move(seen));
  }
}

const std::set<std::string>& RoleGraph::Expand(const std::string& role) const {
  auto it = expanded_.find(role);
  if (it != expanded_.end()) return it->second;
  return UnknownRoleSet(role);
}

bool RoleGraph::Allows(const Caller& caller, const std::vector<std::string>& allowed) const {
  if (allowed.empty()) return false;
  for (const std::string& role : caller.roles) {
    auto it = expanded_.find(role);
    if (it == expanded_.end()) {
      // Unknown role: grants only itself.
      for (const std::string& a : allowed) {
        if (a == role) return true;
      }
      continue;
    }
    for (const std::string& a : allowed) {
      if (it->second.count(a) != 0) return true;
    }
  }
  return false;
}

bool RoleGraph::BypassesOwnership(const Caller& caller) const {
  if (bypass_.empty()) return false;
  for (const std::string& role : caller.roles) {
    auto it = expanded_.find(role);
    if (it == expanded_.end()) {
      // Not declared, so not declared as bypassing either.
      continue;
    }
    for (const std::string& granted : it->second) {
      if (bypass_.count(granted) != 0) return true;
    }
  }
  return false;
}

}  // namespace cppsvc::auth
