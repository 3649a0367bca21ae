// RoleGraph: inheritance through includes, transitive closure, cycles,
// unknown roles, ownership bypass.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cppsvc/auth/rbac.h"

namespace cppsvc::auth {
namespace {

using Set = std::set<std::string>;

Caller WithRoles(std::vector<std::string> roles) {
  Caller c;
  c.subject = "user-1";
  c.roles = std::move(roles);
  return c;
}

// The commerce roles: admin > support > customer, service stands alone.
RoleGraph Commerce() {
  return RoleGraph({
      {"customer", {}, false},
      {"support", {"customer"}, false},
      {"admin", {"support"}, true},
      {"service", {}, true},
  });
}

TEST(RbacRoleGraphTest, InheritanceAdminIncludesCustomer) {
  RoleGraph g({{"customer", {}, false}, {"admin", {"customer"}, true}});
  EXPECT_EQ(g.Expand("admin"), (Set{"admin", "customer"}));
  EXPECT_EQ(g.Expand("customer"), (Set{"customer"}));
  EXPECT_TRUE(g.Allows(WithRoles({"admin"}), {"customer"}));
  EXPECT_TRUE(g.Allows(WithRoles({"admin"}), {"admin"}));
  EXPECT_TRUE(g.Allows(WithRoles({"customer"}), {"customer"}));
  // Inheritance is one-way.
  EXPECT_FALSE(g.Allows(WithRoles({"customer"}), {"admin"}));
}

TEST(RbacRoleGraphTest, TransitiveIncludes) {
  RoleGraph g = Commerce();
  EXPECT_EQ(g.Expand("admin"), (Set{"admin", "support", "customer"}));
  EXPECT_EQ(g.Expand("support"), (Set{"support", "customer"}));
  EXPECT_TRUE(g.Allows(WithRoles({"admin"}), {"customer"}));
  EXPECT_TRUE(g.Allows(WithRoles({"support"}), {"customer"}));
  EXPECT_FALSE(g.Allows(WithRoles({"support"}), {"admin"}));
  EXPECT_FALSE(g.Allows(WithRoles({"service"}), {"customer"}));
  // Long chain r0 -> r1 -> ... -> r50.
  std::vector<RoleSpec> chain;
  chain.reserve(51);
  for (int i = 0; i < 50; ++i)
    chain.push_back({"r" + std::to_string(i), {"r" + std::to_string(i + 1)}, false});
  chain.push_back({"r50", {}, false});
  RoleGraph long_chain(chain);
  EXPECT_EQ(long_chain.Expand("r0").size(), 51u);
  EXPECT_TRUE(long_chain.Allows(WithRoles({"r0"}), {"r50"}));
  EXPECT_FALSE(long_chain.Allows(WithRoles({"r50"}), {"r0"}));
}

TEST(RbacRoleGraphTest, DiamondIncludes) {
  RoleGraph g({{"top", {"left", "right"}, false},
               {"left", {"base"}, false},
               {"right", {"base"}, false},
               {"base", {}, false}});
  EXPECT_EQ(g.Expand("top"), (Set{"top", "left", "right", "base"}));
}

TEST(RbacRoleGraphTest, CyclesDoNotHang) {
  RoleGraph g(
      {{"a", {"b"}, false}, {"b", {"c"}, false}, {"c", {"a"}, true}, {"self", {"self"}, false}});
  EXPECT_EQ(g.Expand("a"), (Set{"a", "b", "c"}));
  EXPECT_EQ(g.Expand("b"), (Set{"a", "b", "c"}));
  EXPECT_EQ(g.Expand("c"), (Set{"a", "b", "c"}));
  EXPECT_EQ(g.Expand("self"), (Set{"self"}));
  EXPECT_TRUE(g.Allows(WithRoles({"a"}), {"c"}));
  EXPECT_TRUE(g.Allows(WithRoles({"c"}), {"a"}));
  EXPECT_FALSE(g.Allows(WithRoles({"self"}), {"a"}));
  EXPECT_TRUE(g.BypassesOwnership(WithRoles({"a"})));  // a -> b -> c, which bypasses
  EXPECT_FALSE(g.BypassesOwnership(WithRoles({"self"})));
}

TEST(RbacRoleGraphTest, UnknownRolesGrantOnlyThemselves) {
  RoleGraph g = Commerce();
  EXPECT_EQ(g.Expand("ghost"), (Set{"ghost"}));
  EXPECT_EQ(g.Expand(""), (Set{""}));
  // The reference stays valid and stable.
  const Set& first = g.Expand("ghost");
  const Set& second = g.Expand("ghost");
  EXPECT_EQ(&first, &second);
  EXPECT_TRUE(g.Allows(WithRoles({"ghost"}), {"ghost"}));
  EXPECT_FALSE(g.Allows(WithRoles({"ghost"}), {"customer"}));
  EXPECT_FALSE(g.BypassesOwnership(WithRoles({"ghost"})));
  // A role that is included but never declared grants only itself.
  RoleGraph partial({{"manager", {"auditor"}, false}});
  EXPECT_EQ(partial.Expand("manager"), (Set{"manager", "auditor"}));
  EXPECT_EQ(partial.Expand("auditor"), (Set{"auditor"}));
  EXPECT_TRUE(partial.Allows(WithRoles({"manager"}), {"auditor"}));
  // An empty graph knows nothing.
  RoleGraph empty;
  EXPECT_EQ(empty.Expand("admin"), (Set{"admin"}));
  EXPECT_TRUE(empty.Allows(WithRoles({"admin"}), {"admin"}));
  EXPECT_FALSE(empty.Allows(WithRoles({"admin"}), {"customer"}));
  EXPECT_FALSE(empty.BypassesOwnership(WithRoles({"admin"})));
}

TEST(RbacRoleGraphTest, AllowsEdgeCases) {
  RoleGraph g = Commerce();
  Caller anonymous;
  EXPECT_FALSE(g.Allows(anonymous, {"customer"}));
  EXPECT_FALSE(g.Allows(WithRoles({"admin"}), {}));
  EXPECT_TRUE(g.Allows(WithRoles({"ghost", "customer"}), {"customer"}));
  EXPECT_TRUE(g.Allows(WithRoles({"customer"}), {"admin", "customer"}));
  // Role names are case-sensitive.
  EXPECT_FALSE(g.Allows(WithRoles({"Admin"}), {"customer"}));
}

TEST(RbacRoleGraphTest, BypassOwnership) {
  RoleGraph g = Commerce();
  EXPECT_TRUE(g.BypassesOwnership(WithRoles({"admin"})));
  EXPECT_TRUE(g.BypassesOwnership(WithRoles({"service"})));
  EXPECT_FALSE(g.BypassesOwnership(WithRoles({"support"})));
  EXPECT_FALSE(g.BypassesOwnership(WithRoles({"customer"})));
  EXPECT_TRUE(g.BypassesOwnership(WithRoles({"customer", "admin"})));
  EXPECT_FALSE(g.BypassesOwnership(Caller{}));
  // Bypass is inherited through includes (one of the expanded roles bypasses).
  RoleGraph inherited({{"ops", {}, true}, {"superuser", {"ops"}, false}});
  EXPECT_TRUE(inherited.BypassesOwnership(WithRoles({"superuser"})));
  EXPECT_FALSE(RoleGraph({{"customer", {}, false}}).BypassesOwnership(WithRoles({"customer"})));
}

TEST(RbacRoleGraphTest, DuplicateDeclarationsMerge) {
  RoleGraph g(
      {{"admin", {"support"}, false}, {"admin", {"billing"}, true}, {"support", {}, false}});
  EXPECT_EQ(g.Expand("admin"), (Set{"admin", "support", "billing"}));
  EXPECT_TRUE(g.BypassesOwnership(WithRoles({"admin"})));
}

TEST(RbacRoleGraphTest, CopyableAndConcurrentReads) {
  RoleGraph original = Commerce();
  RoleGraph copy = original;
  RoleGraph moved = std::move(original);
  EXPECT_EQ(copy.Expand("admin"), moved.Expand("admin"));
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&copy, t] {
      for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(copy.Allows(WithRoles({"admin"}), {"customer"}));
        EXPECT_EQ(copy.Expand("unknown-" + std::to_string((t * 1000 + i) % 7)).size(), 1u);
      }
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace cppsvc::auth
